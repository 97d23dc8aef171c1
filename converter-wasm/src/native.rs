//! The native shell's inputs: files on disk read with positional reads (`pread`), and a file
//! set that resolves referenced names beside the referring file. This is the only place the
//! crate touches `std::fs`; the browser has its own equivalents over `Blob`s.

use crate::error::{Error, Result};
use crate::source::{check_range, FileSet, SafeName, Source, SourceRef};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A file on disk.
pub struct FileSource {
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
        Ok(Arc::new(FileSource { name, file, len }))
    }
}

impl Source for FileSource {
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

use crate::convert::{Converter, Progress, Report};
use crate::decode::{BatchIn, BatchOut};
use crate::driver::{Driver, Next};
use sha2::{Digest, Sha512};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};

/// Output is handed to the writer and hasher threads in batches of this size.
const BATCH: usize = 256 << 10;
/// Batches queued for the writer/hasher before the assembler waits.
const BATCHES_IN_FLIGHT: usize = 32;
/// Jobs (64 KiB units) handed to a decoder thread in one message: one unit per message spent
/// about 5% of the CPU time in channel and scheduler hand-offs.
const JOBS_PER_MESSAGE: usize = 8;

/// Run a conversion on all cores: this thread maps, reads the sources and assembles (the
/// [`Driver`]); `threads` threads decode, taking `JOBS_PER_MESSAGE` jobs at a time; one thread
/// computes the SHA-512 of the output and one runs `out` (the writes), so neither holds up the
/// other. At most `4 * threads * JOBS_PER_MESSAGE` jobs and `BATCHES_IN_FLIGHT` output batches
/// are in flight: memory stays around `2 * 4 * threads * JOBS_PER_MESSAGE * unit + 2 *
/// BATCHES_IN_FLIGHT * BATCH` (about 24 MiB with 64 KiB clusters on 2 threads).
/// `progress` is called as output is produced; `cancel` is polled between jobs. With
/// `sha512` false the output is not hashed (`Report::sha512` stays empty): SHA-512 runs at
/// about 0.7 GB/s on one core, a floor for the whole conversion when nobody needs it.
/// The converter comes back with the report (a compressed image's tables are written after,
/// see `qcow2::in_place`).
pub fn convert_parallel(
    conv: Converter,
    threads: usize,
    sha512: bool,
    out: &mut (dyn FnMut(&[u8]) -> Result<()> + Send),
    progress: &mut dyn FnMut(&Progress),
    cancel: &AtomicBool,
) -> Result<(Report, Converter)> {
    let threads = threads.max(1);
    let mut driver = Driver::new(conv, (4 * threads * JOBS_PER_MESSAGE) as u64);
    let (job_tx, job_rx) = mpsc::sync_channel::<BatchIn<'static>>(4 * threads);
    let (res_tx, res_rx) = mpsc::channel::<BatchOut>();
    let (write_tx, write_rx) = mpsc::sync_channel::<std::sync::Arc<Vec<u8>>>(BATCHES_IN_FLIGHT);
    let (hash_tx, hash_rx) = mpsc::sync_channel::<std::sync::Arc<Vec<u8>>>(BATCHES_IN_FLIGHT);
    let job_rx = Mutex::new(job_rx);
    driver.hash_output_externally();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let (job_rx, res_tx) = (&job_rx, res_tx.clone());
            scope.spawn(move || loop {
                let next = job_rx.lock().map(|rx| rx.recv());
                let Ok(Ok(batch)) = next else { return };
                if res_tx.send(batch.run()).is_err() {
                    return;
                }
            });
        }
        drop(res_tx);
        let hasher = scope.spawn(move || {
            let mut sha = Sha512::new();
            for batch in hash_rx {
                sha.update(&batch[..]);
            }
            if sha512 {
                hex::encode(sha.finalize())
            } else {
                String::new()
            }
        });
        let writer = scope.spawn(move || -> Result<()> {
            for batch in write_rx {
                out(&batch)?;
            }
            Ok(())
        });
        let mut batch: Vec<u8> = Vec::with_capacity(BATCH);
        let send_batch = |batch: &mut Vec<u8>| -> Result<()> {
            let full = std::sync::Arc::new(std::mem::replace(batch, Vec::with_capacity(BATCH)));
            // A closed channel means the writer failed: its error is reported below.
            if sha512 {
                let _ = hash_tx.send(full.clone());
            }
            write_tx.send(full).map_err(|_| Error::invalid("output writer stopped"))
        };
        let mut sink = |b: &[u8]| -> Result<()> {
            let mut b = b;
            while !b.is_empty() {
                let n = (BATCH - batch.len()).min(b.len());
                batch.extend_from_slice(&b[..n]);
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
            while let Some(jobs) = driver.next_batch(JOBS_PER_MESSAGE, usize::MAX)? {
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
            if !batch.is_empty() {
                send_batch(&mut batch)?;
            }
            Ok(r)
        });
        drop(hash_tx);
        drop(write_tx);
        let written = writer.join().unwrap_or_else(|_| Err(Error::invalid("output writer panicked")));
        let sha512 = hasher.join().unwrap_or_default();
        let mut report = result?;
        written?;
        report.sha512 = sha512;
        Ok((report, driver.into_converter()))
    })
}
