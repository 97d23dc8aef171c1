//! The one conversion loop every shell runs: the CLI's decoder threads (`native`), the serial
//! path ([`convert_serial`]) and the page's converter worker (`wasm`, driven from
//! `web/src/converter-worker.js`). The [`Driver`] hands jobs out within a bound, takes their
//! results back in any order, writes what is ready and says what the shell does next, including
//! the one stall rule: when nothing is being decoded and nothing more can be handed out, the
//! conversion cannot finish and stops with an error instead of waiting forever. Shells only
//! carry batches to decoders and back, and wait.
//!
//! A shell's loop:
//! ```text
//! loop {
//!     while let Some(batch) = driver.next_batch(jobs, bytes)? { send it to a decoder }
//!     match driver.emit(sink)? {
//!         Next::Done => break,
//!         Next::Feed => continue,
//!         Next::Wait => { wait for a decoded batch; driver.push(it) }
//!         Next::Digests => { provide the digests of the files hashed elsewhere }
//!     }
//! }
//! ```

use crate::convert::{Converter, Emit, JobInput, Report};
use crate::decode::{BatchIn, BatchOut, JobSpec};
use crate::error::{Error, Result};
use crate::image::Disk;
use crate::output::Sink;
use crate::plan::Plan;
use std::borrow::Cow;

/// What the shell does after [`Driver::emit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Results are on their way: wait for a decoded batch and push it.
    Wait,
    /// Nothing is on its way but jobs remain: hand out more (a new pass started, or the bound
    /// stopped the last round).
    Feed,
    /// The whole output is written: take the report.
    Done,
    /// Everything is decoded, and the last bytes wait for the digests of the input files the
    /// shell hashes itself ([`crate::manifest::DiskCheck::hash_elsewhere`]): provide them.
    Digests,
}

/// A conversion in progress, as every shell drives it.
pub struct Driver {
    conv: Converter,
    /// Most jobs handed out and not yet written: results that come back early wait in the
    /// assembler for the ones before them and count too. This bounds memory.
    max_in_flight: u64,
    /// Jobs handed out whose results have not been pushed.
    pending: u64,
    /// `emit` asked for more jobs and none has been handed out since.
    starved: bool,
}

impl Driver {
    /// Drive `conv` with at most `max_in_flight` jobs handed out and not yet written.
    pub fn new(conv: Converter, max_in_flight: u64) -> Self {
        Driver { conv, max_in_flight: max_in_flight.max(1), pending: 0, starved: false }
    }

    pub fn converter(&self) -> &Converter {
        &self.conv
    }

    /// The converter back, once the shell is done with it (its plan holds the final layout).
    pub fn into_converter(self) -> Converter {
        self.conv
    }

    /// Leave the SHA-512 of the output to the caller (see
    /// [`Converter::hash_output_externally`]).
    pub fn hash_output_externally(&mut self) {
        self.conv.hash_output_externally();
    }

    /// Up to `max_jobs` jobs for one decoder, stopping once their input reaches `max_bytes`,
    /// within the bound; `None` when the bound is reached or no job is ready in this pass.
    pub fn next_batch(&mut self, max_jobs: usize, max_bytes: usize) -> Result<Option<BatchIn<'static>>> {
        let read = |(job, input)| match input {
            JobInput::Read(bytes) => (job, Cow::Owned(bytes)),
            JobInput::Deferred(_) => unreachable!("jobs are deferred only when asked"),
        };
        Ok(self.take(max_jobs, max_bytes, false)?.map(|jobs| BatchIn { jobs: jobs.into_iter().map(read).collect() }))
    }

    /// Up to `max_jobs` jobs for one decoder thread, within the bound, each with its input or
    /// where to read it (the native decoder threads read files themselves, [`JobInput`]);
    /// `None` as for [`next_batch`](Self::next_batch).
    pub fn next_jobs(&mut self, max_jobs: usize) -> Result<Option<Vec<(JobSpec, JobInput)>>> {
        self.take(max_jobs, usize::MAX, true)
    }

    fn take(&mut self, max_jobs: usize, max_bytes: usize, defer: bool) -> Result<Option<Vec<(JobSpec, JobInput)>>> {
        let mut jobs = Vec::new();
        let mut bytes = 0;
        while jobs.len() < max_jobs.max(1) && bytes < max_bytes && self.conv.in_flight() < self.max_in_flight {
            let Some((job, input)) = self.conv.next_job_input(defer)? else { break };
            if let JobInput::Read(read) = &input {
                bytes += read.len();
            }
            jobs.push((job, input));
        }
        if jobs.is_empty() {
            return Ok(None);
        }
        self.pending += jobs.len() as u64;
        self.starved = false;
        Ok(Some(jobs))
    }

    /// Hand back a decoded batch (batches in any order).
    pub fn push(&mut self, batch: BatchOut) {
        for (seq, result) in batch.results {
            self.pending = self.pending.saturating_sub(1);
            self.conv.push(seq, result);
        }
    }

    /// Write everything that is ready through `sink`, and say what to do next. An error when a
    /// decoded job failed (the first in output order), when the output cannot be written, or
    /// when the conversion stalled.
    pub fn emit(&mut self, sink: &mut dyn Sink) -> Result<Next> {
        // Only once all is decoded can the last bytes be next (the check runs before them).
        if self.pending == 0 && !self.conv.next_job_pending() && self.conv.check().is_some_and(|c| c.awaiting()) {
            return Ok(Next::Digests);
        }
        match self.conv.emit(sink)? {
            Emit::Done => Ok(Next::Done),
            Emit::Blocked if self.pending > 0 => Ok(Next::Wait),
            // Nothing on its way and everything handed out written: only new jobs can help.
            Emit::Blocked if self.conv.in_flight() == 0 && self.conv.next_job_pending() && !self.starved => {
                self.starved = true;
                Ok(Next::Feed)
            }
            Emit::Blocked => {
                let p = self.conv.progress();
                Err(Error::invalid(format!(
                    "conversion stalled at guest byte {} of {} ({} jobs unfinished, more jobs: {})",
                    p.guest_done,
                    p.guest_total,
                    self.conv.in_flight(),
                    self.conv.next_job_pending()
                )))
            }
        }
    }

    /// The final report, once `emit` said [`Next::Done`].
    pub fn report(&self) -> Result<Report> {
        self.conv.report()
    }
}

/// Run a whole conversion on this thread, one job at a time (tests, small inputs).
pub fn convert_serial(disk: Disk, plan: Plan, sink: &mut dyn Sink) -> Result<Report> {
    let mut driver = Driver::new(Converter::new(disk, plan), 1);
    loop {
        while let Some(batch) = driver.next_batch(1, usize::MAX)? {
            driver.push(batch.run());
        }
        match driver.emit(sink)? {
            Next::Done => return driver.report(),
            Next::Feed => {}
            Next::Wait => return Err(Error::invalid("serial conversion has results outstanding")),
            Next::Digests => return Err(Error::invalid("serial conversion has files hashed elsewhere")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{DiskInfo, Mapper, Run, RunKind};
    use crate::plan::{plan, Options, OutputFormat};
    use crate::source::MemSource;

    /// A disk of `size` bytes, all data (1s).
    struct Ones(u64, crate::SourceRef);
    impl Mapper for Ones {
        fn size(&self) -> u64 {
            self.0
        }
        fn map(&self, offset: u64, len: u64, out: &mut Vec<Run>) -> Result<()> {
            out.push(Run { len, kind: RunKind::Data { src: self.1.clone(), offset } });
            Ok(())
        }
    }

    fn driver(format: OutputFormat, max_in_flight: u64) -> Driver {
        let size = 1 << 20;
        let src = MemSource::new("ones", vec![1; size as usize]);
        let disk = Disk { info: DiskInfo::default(), map: Box::new(Ones(size, src)), check: None };
        let p = plan(&disk, &Options { format, ..Options::default() }, &|| false).unwrap();
        Driver::new(Converter::new(disk, p), max_in_flight)
    }

    fn sink(out: &mut Vec<u8>) -> impl FnMut(&[u8]) -> Result<()> + '_ {
        |b| {
            out.extend_from_slice(b);
            Ok(())
        }
    }

    #[test]
    fn batches_respect_the_bound_and_results_come_back_in_any_order() {
        let mut d = driver(OutputFormat::Raw, 5);
        let a = d.next_batch(3, usize::MAX).unwrap().unwrap();
        let b = d.next_batch(3, usize::MAX).unwrap().unwrap();
        assert_eq!((a.jobs.len(), b.jobs.len()), (3, 2), "five jobs in flight at most");
        assert!(d.next_batch(3, usize::MAX).unwrap().is_none());
        let mut out = Vec::new();
        assert_eq!(d.emit(&mut sink(&mut out)).unwrap(), Next::Wait);
        d.push(b.run());
        assert_eq!(d.emit(&mut sink(&mut out)).unwrap(), Next::Wait, "the first unit is still out");
        assert!(out.is_empty());
        d.push(a.run());
        assert_eq!(d.emit(&mut sink(&mut out)).unwrap(), Next::Feed);
        assert_eq!(out.len(), 5 << 16);
        // The byte limit ends a batch after the job that reaches it.
        assert_eq!(d.next_batch(10, 1).unwrap().unwrap().jobs.len(), 1);
    }

    #[test]
    fn the_last_bytes_wait_for_the_digests_of_files_hashed_elsewhere() {
        use crate::manifest::{digest, Algorithm, Manifest, Verifier};
        let size = 1u64 << 20;
        let ones = vec![1u8; size as usize];
        let listed = digest(Algorithm::Sha256, &ones);
        let run = |provided: Vec<u8>| {
            let text = format!("SHA256(ones)= {}\n", hex::encode(&listed));
            let m = Manifest::parse("vm.mf", text.as_bytes()).unwrap();
            let mut v = Verifier::new(&m);
            let src = v.wrap(MemSource::new("ones", ones.clone()), m.find("ones").unwrap());
            v.note_use(&src, 0);
            let check = v.disk_checks(1).remove(0);
            let id = check.elsewhere()[0].id;
            check.hash_elsewhere(id);
            let disk = Disk { info: DiskInfo::default(), map: Box::new(Ones(size, src)), check: Some(check) };
            let p = plan(&disk, &Options { format: OutputFormat::Raw, ..Options::default() }, &|| false).unwrap();
            let mut d = Driver::new(Converter::new(disk, p), 64);
            let all = d.next_batch(64, usize::MAX).unwrap().unwrap();
            assert!(d.next_batch(64, usize::MAX).unwrap().is_none());
            let mut out = Vec::new();
            assert_eq!(d.emit(&mut sink(&mut out)).unwrap(), Next::Wait);
            d.push(all.run());
            assert_eq!(d.emit(&mut sink(&mut out)).unwrap(), Next::Digests);
            assert_eq!(d.emit(&mut sink(&mut out)).unwrap(), Next::Digests, "until they are given");
            assert!(out.is_empty());
            d.converter().check().unwrap().provide(id, provided);
            let r = d.emit(&mut sink(&mut out));
            (r, out)
        };
        let (r, out) = run(listed.clone());
        assert_eq!(r.unwrap(), Next::Done);
        assert_eq!(out, ones);
        let mut wrong = listed.clone();
        wrong[0] ^= 1;
        let (r, out) = run(wrong);
        assert_eq!(r.unwrap_err().kind, crate::error::ErrorKind::Checksum);
        assert!(out.len() < ones.len(), "the last bytes are not written");
    }

    #[test]
    fn every_pass_finishes_and_a_lost_result_is_a_stall() {
        // Compressed QCOW2 runs two passes: the serial driver feeds both.
        let mut want = Vec::new();
        let disk = {
            let src = MemSource::new("ones", vec![1; 1 << 20]);
            Disk { info: DiskInfo::default(), map: Box::new(Ones(1 << 20, src)), check: None }
        };
        let options = Options { format: OutputFormat::Qcow2Compressed, ..Options::default() };
        let p = plan(&disk, &options, &|| false).unwrap();
        let r = convert_serial(disk, p, &mut sink(&mut want)).unwrap();
        assert_eq!(r.output_len, want.len() as u64);

        // A result that never comes back although its decoder answered: emit says so instead
        // of waiting for it.
        let mut d = driver(OutputFormat::Raw, 4);
        let mut lost = d.next_batch(2, usize::MAX).unwrap().unwrap().run();
        let _ = lost.results.remove(0);
        d.push(lost);
        d.pending = 0;
        let mut out = Vec::new();
        let e = d.emit(&mut sink(&mut out)).unwrap_err();
        assert!(e.message.contains("conversion stalled at guest byte 0 of 1048576 (2 jobs unfinished"), "{e}");
    }
}
