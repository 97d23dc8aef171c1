//! The native shell's inputs: files on disk read with positional reads (`pread`), and a file
//! set that resolves referenced names beside the referring file. This is the only place the
//! crate touches `std::fs`; the browser has its own equivalents over `Blob`s.

use crate::error::{Error, Result};
use crate::source::{check_range, FileSet, Source, SourceRef};
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
/// way VMware resolves extent and parent names. Names were already checked for `..` and
/// absolute paths, so they cannot leave that directory.
#[derive(Default)]
pub struct DirFiles {
    /// Files the user named explicitly, preferred over directory look-ups.
    pub given: Vec<SourceRef>,
}

impl FileSet for DirFiles {
    fn open(&self, referrer: &str, name: &str) -> Result<Option<SourceRef>> {
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

use crate::convert::{decode, Converter, Decoded, Emit, JobSpec, Progress, Report};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};

/// Run a conversion with `threads` decoding threads: this thread reads the sources and
/// assembles, the others decode. At most `4 * threads` jobs are in flight, which bounds memory
/// at about `8 * threads` units (see the crate doc). `progress` is called after each write
/// batch; `cancel` is polled between jobs.
pub fn convert_parallel(
    mut conv: Converter,
    threads: usize,
    out: &mut dyn FnMut(&[u8]) -> Result<()>,
    progress: &mut dyn FnMut(&Progress),
    cancel: &AtomicBool,
) -> Result<Report> {
    let threads = threads.max(1);
    let max_in_flight = (4 * threads) as u64;
    let (job_tx, job_rx) = mpsc::sync_channel::<(JobSpec, Vec<u8>)>(max_in_flight as usize);
    let (res_tx, res_rx) = mpsc::channel::<(u64, Result<Decoded>)>();
    let job_rx = Mutex::new(job_rx);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let (job_rx, res_tx) = (&job_rx, res_tx.clone());
            scope.spawn(move || loop {
                let next = job_rx.lock().map(|rx| rx.recv());
                let Ok(Ok((job, input))) = next else { return };
                let seq = job.seq;
                if res_tx.send((seq, decode(&job, input))).is_err() {
                    return;
                }
            });
        }
        drop(res_tx);
        let result = (|| {
            let mut outstanding = 0u64;
            loop {
                if cancel.load(Ordering::Relaxed) {
                    return Err(Error::cancelled());
                }
                while outstanding < max_in_flight {
                    match conv.next_job()? {
                        Some((job, input)) => {
                            job_tx.send((job, input)).map_err(|_| Error::invalid("decoder threads stopped"))?;
                            outstanding += 1;
                        }
                        None => break,
                    }
                }
                if outstanding == 0 {
                    if conv.emit(out)? == Emit::Done {
                        return conv.report();
                    }
                    if !conv.next_job_pending() {
                        return Err(Error::invalid("conversion stalled"));
                    }
                    continue;
                }
                let (seq, r) = res_rx.recv().map_err(|_| Error::invalid("decoder threads stopped"))?;
                conv.push(seq, r);
                outstanding -= 1;
                // Take whatever else is ready without blocking.
                while let Ok((seq, r)) = res_rx.try_recv() {
                    conv.push(seq, r);
                    outstanding -= 1;
                }
                if conv.emit(out)? == Emit::Done {
                    return conv.report();
                }
                progress(&conv.progress());
            }
        })();
        drop(job_tx);
        result
    })
}
