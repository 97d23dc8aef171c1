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
use crate::decode::{decode, BatchOut, JobSpec};
use crate::driver::{Driver, Next};
use sha2::{Digest, Sha512};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Mutex};

/// Output is handed to the writer and hasher threads in batches of this size: page-aligned
/// ([`Batch`]) and large, so the writer sends each to the disk in one direct write
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
/// multiple of every common disk's logical block size.
const DIRECT_ALIGN: usize = 4096;

/// One batch of output, its bytes starting on a [`DIRECT_ALIGN`] boundary so the writer can
/// hand them to the disk without copying (see [`OutputFile`]). Safe code only: the vector has
/// room for the padding, so it never moves once the padding is in.
struct Batch {
    bytes: Vec<u8>,
    start: usize,
}

impl Batch {
    fn new() -> Self {
        let mut bytes = Vec::<u8>::with_capacity(BATCH + DIRECT_ALIGN);
        // `align_offset` may decline (usize::MAX): the batch is then unaligned, written buffered.
        let start = Some(bytes.as_ptr().align_offset(DIRECT_ALIGN)).filter(|&n| n < DIRECT_ALIGN).unwrap_or(0);
        bytes.resize(start, 0);
        Batch { bytes, start }
    }
    fn data(&self) -> &[u8] {
        &self.bytes[self.start..]
    }
    fn len(&self) -> usize {
        self.bytes.len() - self.start
    }
    /// The same memory, empty again: reusing written batches spares the kernel mapping and
    /// clearing 4 MiB of fresh pages for each (5 % of a monolithicSparse conversion's CPU).
    fn reuse(mut self) -> Self {
        self.bytes.truncate(self.start);
        self
    }
}

/// Run a conversion on all cores: this thread maps and assembles (the [`Driver`]); `threads`
/// threads read and decode, taking `JOBS_PER_MESSAGE` jobs at a time (input in files they
/// read themselves, [`JobInput`]; the rest, such as an OVA member hashed for its manifest, is
/// read here); one thread computes the SHA-512 of the output and [`WRITERS`] threads run
/// `out(bytes, offset)` (the writes, each batch once, in no particular order), so neither
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
    out: &(dyn Fn(&[u8], u64) -> Result<()> + Sync),
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
                sha.update(batch.data());
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
                        if let Err(e) = out(batch.data(), offset) {
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
        let mut batch = Batch::new();
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
        let mut sink = |b: &[u8]| -> Result<()> {
            let mut b = b;
            while !b.is_empty() {
                let n = (BATCH - batch.len()).min(b.len());
                batch.bytes.extend_from_slice(&b[..n]);
                b = &b[n..];
                if batch.len() == BATCH {
                    send_batch(&mut batch)?;
                }
            }
            Ok(())
        };
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
            if batch.len() > 0 {
                send_batch(&mut batch)?;
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

/// The output file, written in pieces at their offsets (`pwrite`, from several threads).
///
/// On ext4 and XFS it is written with direct I/O (`O_DIRECT`): each aligned piece (every full
/// batch of [`convert_parallel`]) goes from our buffer to the disk. A buffered write has the
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
        self.end.fetch_max(offset + b.len() as u64, Ordering::Relaxed);
        if !self.sparse {
            return self.put(b, offset);
        }
        // Runs of data between all-zero units; the zero units are skipped over.
        let mut data = 0;
        let mut at = 0;
        while at < b.len() {
            let unit = &b[at..b.len().min(at + HOLE_UNIT)];
            if crate::digest::is_zero(unit) {
                self.put(&b[data..at], offset + data as u64)?;
                data = at + unit.len();
            }
            at += unit.len();
        }
        self.put(&b[data..], offset + data as u64)
    }

    fn put(&self, b: &[u8], offset: u64) -> std::io::Result<()> {
        if b.is_empty() {
            return Ok(());
        }
        let aligned = (b.as_ptr() as usize | b.len()) % DIRECT_ALIGN == 0 && offset % DIRECT_ALIGN as u64 == 0;
        if self.direct() && !aligned {
            self.buffered()?;
        }
        match self.file.write_all_at(b, offset) {
            // Refused before anything was written (alignment is checked first): again, buffered.
            Err(e) if self.tried_direct && e.raw_os_error() == Some(libc::EINVAL) => {
                self.buffered()?;
                self.file.write_all_at(b, offset)
            }
            r => r,
        }
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

    /// Aligned batches, then a piece at an odd address and length: the file holds exactly what
    /// was written; direct I/O is on while pieces are aligned (on ext4/XFS) and off after.
    #[test]
    fn output_file_writes_aligned_pieces_directly_then_the_rest_buffered() {
        let dir = tempfile::tempdir().unwrap();
        let (path, file) = create(&dir);
        let local = direct_io_pays(&file);
        let out = OutputFile::new(file, false);
        assert_eq!(out.direct(), local, "direct I/O on exactly where it pays");
        let mut want = Vec::new();
        // Out of order, as two writers may finish them.
        for seed in [1u8, 0, 2] {
            let mut b = Batch::new();
            b.bytes.extend_from_slice(&pattern(BATCH, seed));
            assert_eq!(b.data().as_ptr() as usize % DIRECT_ALIGN, 0);
            out.write_at(b.data(), u64::from(seed) * BATCH as u64).unwrap();
        }
        for seed in 0..3 {
            want.extend_from_slice(&pattern(BATCH, seed));
        }
        assert_eq!(out.direct(), local);
        let odd = pattern(1000 + 7, 9);
        out.write_at(&odd[7..], want.len() as u64).unwrap();
        want.extend_from_slice(&odd[7..]);
        assert!(!out.direct(), "an unaligned piece turns direct I/O off");
        out.write_at(&pattern(BATCH, 4), want.len() as u64).unwrap();
        want.extend_from_slice(&pattern(BATCH, 4));
        out.finish().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), want);
    }

    /// Sparse output: zero units become holes, also inside a piece; the length counts them.
    #[test]
    fn output_file_leaves_zero_units_as_holes_when_sparse() {
        let dir = tempfile::tempdir().unwrap();
        let (path, file) = create(&dir);
        let out = OutputFile::new(file, true);
        let mut b = Batch::new();
        b.bytes.extend_from_slice(&pattern(HOLE_UNIT, 1));
        b.bytes.resize(b.start + BATCH - HOLE_UNIT, 0);
        b.bytes.extend_from_slice(&pattern(HOLE_UNIT, 2));
        out.write_at(b.data(), 0).unwrap();
        out.write_at(&vec![0; BATCH], BATCH as u64).unwrap();
        out.write_at(&[0; 3], 2 * BATCH as u64 + 100).unwrap();
        out.write_at(&pattern(100, 3), 2 * BATCH as u64).unwrap();
        out.finish().unwrap();
        let mut want = b.data().to_vec();
        want.resize(2 * BATCH, 0);
        want.extend_from_slice(&pattern(100, 3));
        want.extend_from_slice(&[0; 3]);
        assert_eq!(std::fs::read(&path).unwrap(), want);
        let stored = std::fs::metadata(&path).unwrap().blocks() * 512;
        assert!(stored < 4 * HOLE_UNIT as u64, "the zeros were not written: {stored} bytes stored");
    }
}
