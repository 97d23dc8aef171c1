//! The native shell: its inputs, files on disk read with positional reads (`pread`), and a file
//! set that resolves referenced names beside the referring file; the conversion on all cores
//! ([`convert_parallel`]) and its output file ([`OutputFile`]). This is the only place the
//! crate touches `std::fs`; the browser has its own equivalents over `Blob`s.

use crate::error::{Error, Result};
use crate::source::{check_range, FileSet, SafeName, SharedRef, Source, SourceRef};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A file on disk: any thread may read it ([`Source::shared`]).
pub struct FileSource(Arc<SharedFile>);

struct SharedFile {
    name: String,
    file: File,
    len: u64,
}

impl FileSource {
    /// Open `path`; errors carry its display name.
    pub fn open(path: &Path) -> Result<SourceRef> {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|e| Error::io(&name, None, e))?;
        let len = file.metadata().map_err(|e| Error::io(&name, None, e))?.len();
        Ok(Arc::new(FileSource(Arc::new(SharedFile { name, file, len }))))
    }
}

impl Source for FileSource {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn len(&self) -> u64 {
        self.0.len()
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.0.read_exact_at(offset, buf)
    }
    fn append_at(&self, offset: u64, len: usize, out: &mut Vec<u8>) -> Result<()> {
        self.0.append_at(offset, len, out)
    }
    fn shared(&self) -> Option<SharedRef> {
        Some(self.0.clone())
    }
}

impl Source for SharedFile {
    fn name(&self) -> &str {
        &self.name
    }
    fn len(&self) -> u64 {
        self.len
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        check_range(self, offset, buf.len() as u64)?;
        self.file.read_exact_at(buf, offset).map_err(|e| Error::io(&self.name, Some(offset), e))
    }
    fn append_at(&self, offset: u64, len: usize, out: &mut Vec<u8>) -> Result<()> {
        use std::os::fd::AsRawFd;
        check_range(self, offset, len as u64)?;
        out.reserve(len);
        let room = &mut out.spare_capacity_mut()[..len];
        let mut done = 0;
        while done < len {
            let at = offset + done as u64;
            let rest = &mut room[done..];
            // SAFETY: pread writes at most `rest.len()` bytes into memory `rest` owns.
            let n =
                unsafe { libc::pread(self.file.as_raw_fd(), rest.as_mut_ptr().cast(), rest.len(), at as libc::off_t) };
            match n {
                0 => {
                    return Err(Error::io(
                        &self.name,
                        Some(at),
                        std::io::Error::from(std::io::ErrorKind::UnexpectedEof),
                    ))
                }
                n if n > 0 => done += n as usize,
                _ => match std::io::Error::last_os_error() {
                    e if e.kind() == std::io::ErrorKind::Interrupted => {}
                    e => return Err(Error::io(&self.name, Some(at), e)),
                },
            }
        }
        // SAFETY: the `len` bytes after the old length were all written by pread above.
        unsafe { out.set_len(out.len() + len) };
        Ok(())
    }
}

/// The content digest ([`crate::digest`]) of the raw image `path`, reading only its data: the
/// file system's holes (`SEEK_DATA`/`SEEK_HOLE`) read as zeros, which the digest leaves out,
/// so a sparse image costs what its data does. Reading every byte, as `digest_raw` does, took
/// 16-34 s for the 8 GiB raw copy of a 68 KiB VirtualBox disk here (holes read at ~0.5 GB/s).
/// A file system that cannot say where data lies gets every byte read.
pub fn digest_file(path: &Path) -> Result<String> {
    use crate::digest::{block_hash, ContentDigest, BLOCK};
    let name = path.display().to_string();
    let file = File::open(path).map_err(|e| Error::io(&name, None, e))?;
    let len = file.metadata().map_err(|e| Error::io(&name, None, e))?.len();
    let block = BLOCK as u64;
    let mut digest = ContentDigest::new(len);
    let mut buf = vec![0u8; BLOCK];
    // Blocks before `next` are digested.
    let mut next = 0u64;
    while next * block < len {
        let data = match seek(&file, next * block, libc::SEEK_DATA) {
            Ok(Some(at)) => at,
            // Only holes from here on.
            Ok(None) => break,
            Err(e) if next == 0 && e.raw_os_error() == Some(libc::EINVAL) => {
                return crate::digest::digest_raw(std::io::BufReader::with_capacity(1 << 20, file))
                    .map_err(|e| Error::io(&name, None, e));
            }
            Err(e) => return Err(Error::io(&name, Some(next * block), e)),
        };
        let hole = seek(&file, data, libc::SEEK_HOLE).map_err(|e| Error::io(&name, Some(data), e))?.unwrap_or(len);
        // Every block that holds a byte of [data, hole): a block may straddle a hole's edge.
        // `data` is at or past `next`'s start, so no block is digested twice.
        for i in data / block..hole.div_ceil(block) {
            let at = i * block;
            let buf = &mut buf[..(len - at).min(block) as usize];
            file.read_exact_at(buf, at).map_err(|e| Error::io(&name, Some(at), e))?;
            digest.push(i, block_hash(buf));
        }
        next = hole.div_ceil(block);
    }
    Ok(digest.finish())
}

/// `lseek(file, at, whence)` for `SEEK_DATA`/`SEEK_HOLE`: the offset found, or `None` when
/// there is no data (`ENXIO`) from `at` on.
fn seek(file: &File, at: u64, whence: libc::c_int) -> std::io::Result<Option<u64>> {
    use std::os::fd::AsRawFd;
    // SAFETY: lseek takes a descriptor this `File` owns; it moves only the file's offset, which
    // nothing here uses (every read is positional).
    let r = unsafe { libc::lseek(file.as_raw_fd(), at as libc::off_t, whence) };
    if r >= 0 {
        return Ok(Some(r as u64));
    }
    match std::io::Error::last_os_error() {
        e if e.raw_os_error() == Some(libc::ENXIO) => Ok(None),
        e => Err(e),
    }
}

/// Resolves a referenced name relative to the directory of the file that refers to it, the
/// way VMware resolves extent and parent names. Names were checked ([`SafeName`]): no `..`,
/// nothing absolute, so they cannot leave that directory.
#[derive(Default)]
pub struct DirFiles {
    /// Files the user named explicitly, preferred over directory look-ups.
    pub given: Vec<SourceRef>,
}

impl FileSet for DirFiles {
    fn open(&self, referrer: &str, name: &SafeName) -> Result<Option<SourceRef>> {
        let dir = Path::new(referrer).parent().map(Path::to_path_buf).unwrap_or_default();
        let want: PathBuf = dir.join(name.replace('\\', "/"));
        if let Some(s) = self.given.iter().find(|s| Path::new(s.name()) == want) {
            return Ok(Some(s.clone()));
        }
        if want.is_file() {
            return FileSource::open(&want).map(Some);
        }
        Ok(None)
    }
}

use crate::convert::{Converter, JobInput, Progress, Report};
use crate::decode::{aligned_vec, decode, BatchOut, JobSpec, DATA_ALIGN};
use crate::driver::{Driver, Next};
use crate::output::Sink;
use bytes::Bytes;
use sha2::{Digest, Sha512};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Mutex};

/// Output is handed to the writer and hasher threads in batches of (about) this size: page-
/// aligned parts ([`Batch`]), large, so the writer sends each to the disk in one direct write
/// ([`OutputFile`]; in 256 KiB writes the bench's 2.3 GiB took a third longer).
const BATCH: usize = 4 << 20;
/// Batches queued for the writers/hasher before the assembler waits.
const BATCHES_IN_FLIGHT: usize = 4;
/// Writer threads, each with one write in flight: a disk takes direct writes faster two at a
/// time (here 2.3 GiB of 4 MiB writes: 1.06 s with two, 1.19-1.25 s with one).
const WRITERS: usize = 2;
/// Jobs (64 KiB units) handed to a decoder thread in one message: one unit per message spent
/// about 5% of the CPU time in channel and scheduler hand-offs.
const JOBS_PER_MESSAGE: usize = 8;

/// The alignment direct I/O asks of buffers, file offsets and lengths: the page size, a
/// multiple of every common disk's logical block size (decoded data is aligned so).
const DIRECT_ALIGN: usize = DATA_ALIGN;
/// Most parts a vectored write takes (Linux's `IOV_MAX`).
const IOV_MAX: usize = 1024;

/// One batch of output, as parts in order for one vectored write: decoded data as the decoders
/// made it (shared, page-aligned: [`DATA_ALIGN`]), and the small pieces between (tables,
/// zeros) gathered into memory of the batch's own that starts on a [`DIRECT_ALIGN`]
/// boundary. Copying every output byte into the batch, as it once did, was 5 % of a
/// streamOptimized conversion's CPU, on the one thread that assembles. Safe code only: the
/// gathered bytes never outgrow the room reserved, so they never move.
struct Batch {
    bytes: Vec<u8>,
    start: usize,
    parts: Vec<Part>,
    len: usize,
}

enum Part {
    /// A range of the gathered bytes (from `start`).
    Gathered(std::ops::Range<usize>),
    Shared(Bytes),
}

impl Batch {
    fn new() -> Self {
        let (bytes, start) = aligned_vec(BATCH);
        Batch { bytes, start, parts: Vec::new(), len: 0 }
    }
    fn len(&self) -> usize {
        self.len
    }
    /// Copy `b` in; a batch gathers at most [`BATCH`] bytes.
    fn gather(&mut self, b: &[u8]) {
        let at = self.bytes.len() - self.start;
        debug_assert!(at + b.len() <= BATCH);
        self.bytes.extend_from_slice(b);
        match self.parts.last_mut() {
            Some(Part::Gathered(r)) if r.end == at => r.end += b.len(),
            _ => self.parts.push(Part::Gathered(at..at + b.len())),
        }
        self.len += b.len();
    }
    fn share(&mut self, b: &Bytes) {
        self.parts.push(Part::Shared(b.clone()));
        self.len += b.len();
    }
    /// The batch's bytes, part after part.
    fn parts(&self) -> impl Iterator<Item = &[u8]> {
        let gathered = &self.bytes[self.start..];
        self.parts.iter().map(move |p| match p {
            Part::Gathered(r) => &gathered[r.clone()],
            Part::Shared(b) => &b[..],
        })
    }
    /// The same memory, empty again: reusing written batches spares the kernel mapping and
    /// clearing 4 MiB of fresh pages for each (5 % of a monolithicSparse conversion's CPU).
    fn reuse(mut self) -> Self {
        self.bytes.truncate(self.start);
        self.parts.clear();
        self.len = 0;
        self
    }
}

/// Where [`convert_parallel`] writes a batch: `out(parts, offset)`, the parts being consecutive
/// output bytes from `offset` on.
pub type WriteParts<'a> = dyn Fn(&[&[u8]], u64) -> Result<()> + Sync + 'a;

/// The assembler's [`Sink`] in [`convert_parallel`]: fills batches and sends each once full.
struct BatchSink<'a> {
    batch: Batch,
    send: &'a dyn Fn(&mut Batch) -> Result<()>,
}

impl Sink for BatchSink<'_> {
    fn write(&mut self, mut b: &[u8]) -> Result<()> {
        while !b.is_empty() {
            let n = (BATCH - self.batch.len()).min(b.len());
            self.batch.gather(&b[..n]);
            b = &b[n..];
            if self.batch.len() >= BATCH {
                (self.send)(&mut self.batch)?;
            }
        }
        Ok(())
    }

    fn shared(&mut self, b: &Bytes) -> Result<()> {
        // Pieces under a page are gathered: a write of many tiny parts costs more than copying.
        if b.len() < DIRECT_ALIGN {
            return self.write(b);
        }
        self.batch.share(b);
        if self.batch.len() >= BATCH {
            (self.send)(&mut self.batch)?;
        }
        Ok(())
    }
}

/// Run a conversion on all cores: this thread maps and assembles (the [`Driver`]); `threads`
/// threads read and decode, taking `JOBS_PER_MESSAGE` jobs at a time (input in files they
/// read themselves, [`JobInput`]; the rest, such as an OVA member hashed for its manifest, is
/// read here); one thread computes the SHA-512 of the output and [`WRITERS`] threads run
/// `out(parts, offset)` (the writes, each batch once, in no particular order; a batch's parts
/// are consecutive output bytes from `offset` on), so neither
/// holds up the other. At most `4 * threads * JOBS_PER_MESSAGE` jobs and `BATCHES_IN_FLIGHT`
/// output batches are in flight: memory stays around `2 * 4 * threads * JOBS_PER_MESSAGE *
/// unit + 2 * BATCHES_IN_FLIGHT * BATCH` (at most about 40 MiB with 64 KiB clusters on 2
/// threads).
/// `progress` is called as output is produced; `cancel` is polled between jobs. With
/// `sha512` false the output is not hashed (`Report::sha512` stays empty): SHA-512 runs at
/// about 0.7 GB/s on one core, a floor for the whole conversion when nobody needs it.
/// The converter comes back with the report (a compressed image's tables are written after,
/// see `qcow2::in_place`).
pub fn convert_parallel(
    conv: Converter,
    threads: usize,
    sha512: bool,
    out: &WriteParts<'_>,
    progress: &mut dyn FnMut(&Progress),
    cancel: &AtomicBool,
) -> Result<(Report, Converter)> {
    let threads = threads.max(1);
    let mut driver = Driver::new(conv, (4 * threads * JOBS_PER_MESSAGE) as u64);
    let (job_tx, job_rx) = mpsc::sync_channel::<Vec<(JobSpec, JobInput)>>(4 * threads);
    let (res_tx, res_rx) = mpsc::channel::<BatchOut>();
    let (write_tx, write_rx) = mpsc::sync_channel::<(Arc<Batch>, u64)>(BATCHES_IN_FLIGHT);
    // Taken away by a writer that failed: the assembler's next send fails instead of waiting.
    let write_rx = Mutex::new(Some(write_rx));
    let (hash_tx, hash_rx) = mpsc::sync_channel::<Arc<Batch>>(BATCHES_IN_FLIGHT);
    // Batches back from whichever of the writer and the hasher was done with them last.
    let (spare_tx, spare_rx) = mpsc::channel::<Batch>();
    let give_back = |batch: Arc<Batch>| {
        if let Some(b) = Arc::into_inner(batch) {
            let _ = spare_tx.send(b);
        }
    };
    let job_rx = Mutex::new(job_rx);
    driver.hash_output_externally();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let (job_rx, res_tx) = (&job_rx, res_tx.clone());
            scope.spawn(move || loop {
                let next = job_rx.lock().map(|rx| rx.recv());
                let Ok(Ok(jobs)) = next else { return };
                // The job's input read here when it was left to us; an error in its place.
                let run = |(job, input): (JobSpec, JobInput)| {
                    let input = match input {
                        JobInput::Read(bytes) => Ok(bytes),
                        JobInput::Deferred(at) => at.read(),
                    };
                    (job.seq, input.and_then(|input| decode(&job, input.into())))
                };
                if res_tx.send(BatchOut { results: jobs.into_iter().map(run).collect() }).is_err() {
                    return;
                }
            });
        }
        drop(res_tx);
        let hasher = scope.spawn(move || {
            let mut sha = Sha512::new();
            for batch in hash_rx {
                batch.parts().for_each(|p| sha.update(p));
                give_back(batch);
            }
            if sha512 {
                hex::encode(sha.finalize())
            } else {
                String::new()
            }
        });
        let write_rx = &write_rx;
        let writers: Vec<_> = (0..WRITERS)
            .map(|_| {
                scope.spawn(move || -> Result<()> {
                    loop {
                        let next = write_rx.lock().ok().and_then(|rx| rx.as_ref().map(|rx| rx.recv()));
                        let Some(Ok((batch, offset))) = next else { return Ok(()) };
                        let parts: Vec<&[u8]> = batch.parts().collect();
                        if let Err(e) = out(&parts, offset) {
                            if let Ok(mut rx) = write_rx.lock() {
                                *rx = None;
                            }
                            return Err(e);
                        }
                        give_back(batch);
                    }
                })
            })
            .collect();
        let offset = std::cell::Cell::new(0u64);
        let send_batch = |batch: &mut Batch| -> Result<()> {
            let next = spare_rx.try_recv().map(Batch::reuse).unwrap_or_else(|_| Batch::new());
            let full = Arc::new(std::mem::replace(batch, next));
            let at = offset.replace(offset.get() + full.len() as u64);
            // A closed channel means the writer failed: its error is reported below.
            if sha512 {
                let _ = hash_tx.send(full.clone());
            }
            write_tx.send((full, at)).map_err(|_| Error::invalid("output writer stopped"))
        };
        let mut sink = BatchSink { batch: Batch::new(), send: &send_batch };
        let result = (|| loop {
            if cancel.load(Ordering::Relaxed) {
                return Err(Error::cancelled());
            }
            while let Some(jobs) = driver.next_jobs(JOBS_PER_MESSAGE)? {
                job_tx.send(jobs).map_err(|_| Error::invalid("decoder threads stopped"))?;
            }
            match driver.emit(&mut sink)? {
                Next::Done => return driver.report(),
                Next::Feed => continue,
                Next::Wait => {
                    let done = res_rx.recv().map_err(|_| Error::invalid("decoder threads stopped"))?;
                    // And whatever else is ready, without blocking.
                    for done in std::iter::once(done).chain(std::iter::from_fn(|| res_rx.try_recv().ok())) {
                        driver.push(done);
                    }
                    progress(&driver.converter().progress());
                }
                Next::Digests => return Err(Error::invalid("no file is hashed elsewhere natively")),
            }
        })();
        drop(job_tx);
        let result = result.and_then(|r| {
            if sink.batch.len() > 0 {
                send_batch(&mut sink.batch)?;
            }
            Ok(r)
        });
        drop(hash_tx);
        drop(write_tx);
        let written: Result<()> = writers
            .into_iter()
            .try_for_each(|w| w.join().unwrap_or_else(|_| Err(Error::invalid("output writer panicked"))));
        let sha512 = hasher.join().unwrap_or_default();
        // A writer's error first: the assembler only saw that the writers stopped.
        written?;
        let mut report = result?;
        report.sha512 = sha512;
        Ok((report, driver.into_converter()))
    })
}

/// Raw output is made sparse at this granularity: all-zero stretches of it are left as holes.
const HOLE_UNIT: usize = 64 << 10;

thread_local! {
    /// A writing thread's aligned copy of a piece whose parts are not (see [`OutputFile`]).
    static BOUNCE: std::cell::RefCell<(Vec<u8>, usize)> = const { std::cell::RefCell::new((Vec::new(), 0)) };
}

/// The output file, written in pieces at their offsets (`pwritev`, from several threads), each
/// piece one or more parts back to back.
///
/// On ext4 and XFS it is written with direct I/O (`O_DIRECT`): each aligned piece (every full
/// batch of [`convert_parallel`]) goes from our buffers to the disk. A piece of aligned offset
/// and length whose parts lie at unaligned addresses (data read from an uncompressed disk
/// stays where the reads put it) is first copied into an aligned buffer of the writing
/// thread's. A buffered write has the
/// kernel copy it into page-cache pages, and a machine whose memory is in use must first find
/// as many: on the bench VM, with two other large files written just before (`BENCH_BALLAST=2
/// bash bench/ab.sh`), streamOptimized → QCOW2 took 6.2 s buffered and 2.5 s direct. A disk
/// image also no longer pushes the admin's cache out. Like `qemu-img convert` by default,
/// nothing is flushed at the end. The first piece that is not aligned (the last one, usually)
/// or that the file system refuses (`EINVAL`) turns direct I/O off for the rest; on other file
/// systems (tmpfs, NFS, FUSE: slow or refused there) it is never on. `sparse` (raw output):
/// all-zero [`HOLE_UNIT`]s are not written, left as holes.
pub struct OutputFile {
    file: File,
    sparse: bool,
    /// Direct I/O was turned on at the start: a refused piece is then tried again buffered.
    tried_direct: bool,
    direct: AtomicBool,
    /// The end of the furthest piece, written or left as a hole.
    end: AtomicU64,
}

impl OutputFile {
    pub fn new(file: File, sparse: bool) -> Self {
        let direct = direct_io_pays(&file) && set_direct(&file, true).is_ok();
        OutputFile { file, sparse, tried_direct: direct, direct: AtomicBool::new(direct), end: AtomicU64::new(0) }
    }

    /// Whether the next aligned piece goes to the disk directly.
    pub fn direct(&self) -> bool {
        self.direct.load(Ordering::Relaxed)
    }

    pub fn write_at(&self, b: &[u8], offset: u64) -> std::io::Result<()> {
        self.write_parts_at(&[b], offset)
    }

    /// Write `parts`, back to back, from `offset` on.
    pub fn write_parts_at(&self, parts: &[&[u8]], offset: u64) -> std::io::Result<()> {
        let total: usize = parts.iter().map(|p| p.len()).sum();
        self.end.fetch_max(offset + total as u64, Ordering::Relaxed);
        if !self.sparse {
            return self.put(parts, offset);
        }
        // Runs of data between all-zero units (counted from each part's start); the zero
        // units are skipped over.
        let (mut run, mut run_at, mut at) = (Vec::new(), offset, offset);
        for unit in parts.iter().flat_map(|p| p.chunks(HOLE_UNIT)) {
            at += unit.len() as u64;
            if crate::digest::is_zero(unit) {
                self.put(&run, run_at)?;
                run.clear();
                run_at = at;
            } else {
                run.push(unit);
            }
        }
        self.put(&run, run_at)
    }

    fn put(&self, parts: &[&[u8]], offset: u64) -> std::io::Result<()> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if len == 0 {
            return Ok(());
        }
        let aligned = |p: &[u8]| (p.as_ptr() as usize | p.len()) % DIRECT_ALIGN == 0;
        if self.direct() && !parts.iter().all(|p| aligned(p)) {
            if (len | offset as usize) % DIRECT_ALIGN == 0 {
                let copied = BOUNCE.with_borrow_mut(|(buf, start)| {
                    if buf.capacity() < *start + len {
                        (*buf, *start) = aligned_vec(len);
                    }
                    buf.truncate(*start);
                    parts.iter().for_each(|p| buf.extend_from_slice(p));
                    let copy = &buf[*start..];
                    aligned(copy).then(|| self.write_parts(&[copy], offset))
                });
                if let Some(r) = copied {
                    return r;
                }
            }
            self.buffered()?;
        }
        self.write_parts(parts, offset)
    }

    /// [`pwritev_all`](Self::pwritev_all), again buffered if direct I/O refuses it.
    fn write_parts(&self, parts: &[&[u8]], offset: u64) -> std::io::Result<()> {
        match self.pwritev_all(parts, offset) {
            // Refused before anything was written (alignment is checked first): again, buffered.
            Err((0, e)) if self.tried_direct && e.raw_os_error() == Some(libc::EINVAL) => {
                self.buffered()?;
                self.pwritev_all(parts, offset).map_err(|(_, e)| e)
            }
            r => r.map_err(|(_, e)| e),
        }
    }

    /// All of `parts` from `offset` on; an error comes with the bytes written before it.
    fn pwritev_all(&self, parts: &[&[u8]], offset: u64) -> std::result::Result<(), (u64, std::io::Error)> {
        use std::io::IoSlice;
        use std::os::fd::AsRawFd;
        let mut iov: Vec<IoSlice> = parts.iter().map(|p| IoSlice::new(p)).collect();
        let mut rest = &mut iov[..];
        let mut done = 0u64;
        while !rest.is_empty() {
            let n = rest.len().min(IOV_MAX);
            // SAFETY: `IoSlice` is ABI-compatible with `iovec` on Unix; the kernel reads the
            // `n` slices, each valid memory of its length, and writes nothing to them.
            let r = unsafe {
                libc::pwritev(
                    self.file.as_raw_fd(),
                    rest.as_ptr().cast(),
                    n as libc::c_int,
                    (offset + done) as libc::off_t,
                )
            };
            match r {
                0 => return Err((done, std::io::ErrorKind::WriteZero.into())),
                r if r > 0 => {
                    done += r as u64;
                    IoSlice::advance_slices(&mut rest, r as usize);
                }
                _ => match std::io::Error::last_os_error() {
                    e if e.kind() == std::io::ErrorKind::Interrupted => {}
                    e => return Err((done, e)),
                },
            }
        }
        Ok(())
    }

    fn buffered(&self) -> std::io::Result<()> {
        self.direct.store(false, Ordering::Relaxed);
        set_direct(&self.file, false)
    }

    /// The file's length is the end of the furthest piece, holes included.
    pub fn finish(self) -> std::io::Result<()> {
        self.file.set_len(self.end.into_inner())
    }
}

/// Direct I/O pays on local disk file systems; ext4 and XFS are where a Linux admin's exports
/// sit (the `statfs` magic numbers of `linux/magic.h`).
fn direct_io_pays(file: &File) -> bool {
    use std::os::fd::AsRawFd;
    const EXT4: u64 = 0xEF53;
    const XFS: u64 = 0x5846_5342;
    // SAFETY: fstatfs fills a zeroed struct we own, from a descriptor we own.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstatfs(file.as_raw_fd(), &mut st) } != 0 {
        return false;
    }
    matches!(st.f_type as u64 & 0xffff_ffff, EXT4 | XFS)
}

fn set_direct(file: &File, on: bool) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor we own, with integer arguments only.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    let flags = if on { flags | libc::O_DIRECT } else { flags & !libc::O_DIRECT };
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn pattern(n: usize, seed: u8) -> Vec<u8> {
        (0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) | 1).collect()
    }

    fn create(dir: &tempfile::TempDir) -> (PathBuf, File) {
        let path = dir.path().join("out");
        let file = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&path).unwrap();
        (path, file)
    }

    /// The digest of a sparse file, read by its data only, is the reference one of every
    /// byte: data at a file's start and end, in blocks straddling holes, a short last block,
    /// a file of holes only, an empty file; a missing file is named.
    #[test]
    fn digest_file_skips_holes_and_equals_the_full_read() {
        use crate::digest::{digest_raw, BLOCK};
        let dir = tempfile::tempdir().unwrap();
        let b = BLOCK as u64;
        let layouts: Vec<(u64, Vec<(u64, usize)>)> = vec![
            (0, vec![]),
            (10 * b, vec![]),
            (10 * b + 123, vec![(10 * b, 123)]),
            (
                64 << 20,
                vec![(0, 5000), (3 * b - 100, 300), (17 * b + 4096, 2 * BLOCK), (40 << 20, 1), ((64 << 20) - 10, 10)],
            ),
            (8 * b, vec![(0, 8 * BLOCK)]),
            // Data that is zeros is digested as zeros: left out, as a hole is.
            (4 * b, vec![(b, 0)]),
        ];
        for (k, (len, writes)) in layouts.into_iter().enumerate() {
            let path = dir.path().join(format!("disk{k}.raw"));
            let file = File::create(&path).unwrap();
            file.set_len(len).unwrap();
            for (j, &(at, n)) in writes.iter().enumerate() {
                let data = if n == 0 { vec![0; BLOCK] } else { pattern(n, j as u8) };
                file.write_all_at(&data, at).unwrap();
            }
            drop(file);
            let want = digest_raw(File::open(&path).unwrap()).unwrap();
            assert_eq!(digest_file(&path).unwrap(), want, "layout {k}");
        }
        let err = digest_file(&dir.path().join("absent.raw")).unwrap_err();
        assert!(err.file.ends_with("absent.raw"), "{err}");
    }

    /// A file may be read from any thread: its shared handle reads what the file holds and
    /// names the file and offset when a read goes past its end.
    #[test]
    fn a_file_source_is_shared_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("disk.vmdk");
        std::fs::write(&path, pattern(10_000, 5)).unwrap();
        let src = FileSource::open(&path).unwrap();
        let shared = src.shared().expect("files are shared");
        let got = std::thread::scope(|s| {
            s.spawn(|| {
                let mut buf = vec![0; 100];
                shared.read_exact_at(9_900, &mut buf).map(|()| buf)
            })
            .join()
            .unwrap()
        });
        assert_eq!(got.unwrap(), pattern(10_000, 5)[9_900..]);
        let err = shared.read_exact_at(9_950, &mut [0; 100]).unwrap_err();
        assert_eq!((err.file.as_str(), err.offset), (src.name(), Some(9_950)));
        // Appended reads land after what the vector holds, into its uninitialised room.
        let mut v = b"head".to_vec();
        src.append_at(100, 5_000, &mut v).unwrap();
        shared.append_at(0, 10, &mut v).unwrap();
        assert_eq!(v, [&b"head"[..], &pattern(10_000, 5)[100..5_100], &pattern(10_000, 5)[..10]].concat());
        let err = src.append_at(9_999, 2, &mut v).unwrap_err();
        assert_eq!((err.file.as_str(), err.offset, err.kind), (src.name(), Some(9_999), crate::ErrorKind::Truncated));
        // A file cut short after it was opened: the read stops where the file now ends.
        std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(5_000).unwrap();
        let err = src.append_at(4_000, 2_000, &mut v).unwrap_err();
        assert_eq!((err.file.as_str(), err.offset, err.kind), (src.name(), Some(5_000), crate::ErrorKind::Io));
    }

    /// A batch of `parts`, gathered or shared as the assembler's sink would have them.
    fn batch(parts: &[(bool, &[u8])]) -> Batch {
        let mut b = Batch::new();
        for (shared, p) in parts {
            if *shared {
                let (mut v, start) = aligned_vec(p.len());
                v.extend_from_slice(p);
                b.share(&Bytes::from(v).slice(start..));
            } else {
                b.gather(p);
            }
        }
        b
    }

    /// The assembler's sink keeps decoded data as the decoders made it (no copy) and gathers
    /// the pieces between, and under a page, into the batch's own aligned memory; each batch
    /// goes out once it holds `BATCH` bytes, in order.
    #[test]
    fn the_sink_shares_decoded_data_and_gathers_the_rest() {
        let sent = std::cell::RefCell::new(Vec::<(Vec<u8>, Vec<usize>, usize)>::new());
        let send = |b: &mut Batch| -> Result<()> {
            let ptrs = b.parts().map(|p| p.as_ptr() as usize).collect();
            sent.borrow_mut().push((b.parts().flatten().copied().collect(), ptrs, b.parts.len()));
            *b = std::mem::replace(b, Batch::new()).reuse();
            Ok(())
        };
        let mut sink = BatchSink { batch: Batch::new(), send: &send };
        let unit = |seed| {
            let (mut v, start) = aligned_vec(HOLE_UNIT);
            v.extend_from_slice(&pattern(HOLE_UNIT, seed));
            Bytes::from(v).slice(start..)
        };
        let units: Vec<Bytes> = (0..70).map(unit).collect();
        let mut want = Vec::new();
        sink.write(&pattern(300, 1)).unwrap();
        sink.write(&pattern(4096 - 300, 2)).unwrap();
        want.extend(pattern(300, 1));
        want.extend(pattern(4096 - 300, 2));
        for u in &units {
            sink.shared(u).unwrap();
            want.extend_from_slice(u);
        }
        sink.shared(&Bytes::from(pattern(100, 3))).unwrap();
        want.extend(pattern(100, 3));
        let rest = std::mem::replace(&mut sink.batch, Batch::new());
        let sent = sent.into_inner();
        assert_eq!(sent.len(), 1, "one full batch sent");
        let (bytes, ptrs, nparts) = &sent[0];
        assert!(bytes.len() >= BATCH && bytes.len() < BATCH + HOLE_UNIT);
        // The two small writes are one gathered part; then the units, as they were.
        assert_eq!(*nparts, 1 + (BATCH - 4096).div_ceil(HOLE_UNIT));
        assert_eq!(ptrs[0] % DIRECT_ALIGN, 0, "gathered bytes start aligned");
        for (p, u) in ptrs[1..].iter().zip(&units) {
            assert_eq!(*p, u.as_ptr() as usize, "decoded data is not copied");
        }
        let mut got = bytes.clone();
        got.extend(rest.parts().flatten());
        assert_eq!(got, want);
        assert!(matches!(rest.parts.last(), Some(Part::Gathered(_))), "a piece under a page is gathered");
    }

    /// Aligned batches, then a piece at an odd address and length: the file holds exactly what
    /// was written; direct I/O is on while pieces are aligned (on ext4/XFS) and off after.
    /// Parts of aligned length at unaligned addresses go through an aligned copy and keep it on.
    #[test]
    fn output_file_writes_aligned_pieces_directly_then_the_rest_buffered() {
        let dir = tempfile::tempdir().unwrap();
        let (path, file) = create(&dir);
        let local = direct_io_pays(&file);
        let out = OutputFile::new(file, false);
        assert_eq!(out.direct(), local, "direct I/O on exactly where it pays");
        let mut want = Vec::new();
        // Out of order, as two writers may finish them; gathered and shared parts.
        for seed in [1u8, 0, 2] {
            let p = pattern(BATCH, seed);
            let b = batch(&[(false, &p[..8192]), (true, &p[8192..BATCH / 2]), (true, &p[BATCH / 2..])]);
            assert!(b.parts().all(|p| p.as_ptr() as usize % DIRECT_ALIGN == 0));
            out.write_parts_at(&b.parts().collect::<Vec<_>>(), u64::from(seed) * BATCH as u64).unwrap();
        }
        for seed in 0..3 {
            want.extend_from_slice(&pattern(BATCH, seed));
        }
        assert_eq!(out.direct(), local);
        // Read data sits where the reads put it: aligned lengths, odd addresses.
        let read = pattern(3 * 4096 + 1, 8);
        out.write_parts_at(&[&read[1..4097], &read[4097..]], want.len() as u64).unwrap();
        want.extend_from_slice(&read[1..]);
        assert_eq!(out.direct(), local, "copied to an aligned buffer, not written buffered");
        let odd = pattern(1000 + 7, 9);
        out.write_at(&odd[7..], want.len() as u64).unwrap();
        want.extend_from_slice(&odd[7..]);
        assert!(!out.direct(), "an unaligned piece turns direct I/O off");
        out.write_at(&pattern(BATCH, 4), want.len() as u64).unwrap();
        want.extend_from_slice(&pattern(BATCH, 4));
        out.finish().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), want);
    }

    /// Sparse output: zero units become holes, also inside a piece and across its parts; the
    /// length counts them.
    #[test]
    fn output_file_leaves_zero_units_as_holes_when_sparse() {
        let dir = tempfile::tempdir().unwrap();
        let (path, file) = create(&dir);
        let out = OutputFile::new(file, true);
        let zeros = vec![0u8; BATCH - 3 * HOLE_UNIT];
        let b = batch(&[
            (true, &pattern(HOLE_UNIT, 1)),
            (false, &zeros),
            (true, &[0; HOLE_UNIT]),
            (true, &pattern(HOLE_UNIT, 2)),
        ]);
        out.write_parts_at(&b.parts().collect::<Vec<_>>(), 0).unwrap();
        out.write_at(&vec![0; BATCH], BATCH as u64).unwrap();
        out.write_at(&[0; 3], 2 * BATCH as u64 + 100).unwrap();
        out.write_at(&pattern(100, 3), 2 * BATCH as u64).unwrap();
        out.finish().unwrap();
        let mut want: Vec<u8> = b.parts().flatten().copied().collect();
        want.resize(2 * BATCH, 0);
        want.extend_from_slice(&pattern(100, 3));
        want.extend_from_slice(&[0; 3]);
        assert_eq!(std::fs::read(&path).unwrap(), want);
        let stored = std::fs::metadata(&path).unwrap().blocks() * 512;
        assert!(stored < 4 * HOLE_UNIT as u64, "the zeros were not written: {stored} bytes stored");
    }
}
