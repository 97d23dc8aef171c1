//! Assembling: turns a [`Plan`] into output bytes in order.
//!
//! The [`Converter`] is a pull-style state machine with three calls, so the same code drives
//! native threads and browser Web Workers (through the `Driver` of `driver.rs`, which every
//! shell uses):
//! - `next_job` maps the next unit of guest space and reads its source bytes (the only I/O),
//!   giving a serialisable [`JobSpec`] and its input;
//! - [`crate::decode::decode`] (pure, run anywhere) inflates/copies, hashes the 64 KiB digest
//!   blocks and, for compressed QCOW2, deflates each cluster;
//! - `push` hands results back in any order and `emit` writes all output that is ready, in
//!   order (through the format's writer: [`crate::raw`], [`crate::qcow2::writer`]), keeping the
//!   SHA-512 of the bytes and the content digest.
//!
//! Memory: the caller bounds the jobs in flight; each holds at most one unit (max(cluster,
//! 64 KiB)) of input and output. Compressed QCOW2 runs the jobs twice: a measuring pass that
//! learns every stored length (so the file length and tables are known before the first byte)
//! and the emitting pass. A shell that writes to a seekable file may instead take the data
//! area during the measuring pass and place the tables in front of it afterwards
//! ([`Converter::emit_data_first`]), deflating each cluster once.

use crate::decode::{Decoded, JobSpec, Piece};
use crate::digest::{self, ContentDigest};
use crate::error::{Error, Result};
use crate::image::{Disk, Run, RunKind};
use crate::output::{Output, Sink};
use crate::plan::{OutputFormat, Plan};
use crate::qcow2::writer::{self as qcow2_writer, Packed};
use crate::qcow2::{Compressed, Layout};
use crate::raw;
use crate::source::{SharedRef, Source};
use serde::Serialize;
use sha2::Digest;
use std::collections::BTreeMap;

/// Progress of a conversion.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Progress {
    /// Which pass: "measure" (compressed QCOW2 only) or "write".
    pub phase: &'static str,
    /// Guest bytes handled in this pass.
    pub guest_done: u64,
    pub guest_total: u64,
    /// Output bytes written.
    pub bytes_out: u64,
    /// Total output bytes, once known.
    pub output_len: Option<u64>,
}

/// What a conversion produced.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub format: OutputFormat,
    pub virtual_size: u64,
    pub output_len: u64,
    /// Guest bytes stored in the output (allocated clusters).
    pub data_bytes: u64,
    /// See [`crate::digest`].
    pub content_digest: String,
    /// SHA-512 of the output bytes (Glance `os_hash_value`).
    pub sha512: String,
}

/// A job's input: its bytes, or where to read them.
pub enum JobInput {
    Read(Vec<u8>),
    Deferred(DeferredInput),
}

/// Where a job's input is, piece after piece, in sources any thread may read: the native
/// decoder threads read it themselves, so the input of a conversion is not all read (copied
/// out of the page cache) on the one thread that also assembles the output.
pub struct DeferredInput(Vec<(SharedRef, u64, usize)>);

impl DeferredInput {
    /// The job's input bytes, back to back.
    pub fn read(&self) -> Result<Vec<u8>> {
        read_all(self.0.iter().map(|(src, offset, len)| (src.as_ref() as &dyn Source, *offset, *len)))
    }
}

/// `reads` (source, offset, length) read back to back into one buffer.
fn read_all<'a>(reads: impl Iterator<Item = (&'a dyn Source, u64, usize)> + Clone) -> Result<Vec<u8>> {
    let mut input = Vec::with_capacity(reads.clone().map(|r| r.2).sum());
    for (src, offset, len) in reads {
        src.append_at(offset, len, &mut input)?;
    }
    Ok(input)
}

/// What `Converter::emit` stopped on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Emit {
    /// Needs more decoded jobs pushed.
    Blocked,
    /// All output written.
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Measure,
    Write,
    Done,
}

/// The assembler. See the module doc for how to drive it.
pub struct Converter {
    disk: Disk,
    plan: Plan,
    phase: Phase,
    unit_bits: u32,
    units: u64,
    /// Next unit to give out as a job, and next unit to emit.
    job_unit: u64,
    emit_unit: u64,
    next_seq: u64,
    emit_seq: u64,
    ready: BTreeMap<u64, Result<Decoded>>,
    /// QCOW2 metadata still to write at the start of the write pass.
    meta_pending: bool,
    /// Compressed QCOW2: the stored lengths learnt in the measuring pass, and the data area.
    measured: Vec<u32>,
    packed: Packed,
    /// The measuring pass emits the data area and is the only pass (see `emit_data_first`).
    data_first: bool,
    out: Output,
    content: ContentDigest,
    runs: Vec<Run>,
}

impl Converter {
    /// Convert `disk` as `plan` says; the disk's manifest check, if any, runs before the last
    /// output byte.
    pub fn new(mut disk: Disk, plan: Plan) -> Self {
        let c = plan.cluster_size();
        let unit = c.max(digest::BLOCK as u64);
        let unit_bits = unit.trailing_zeros();
        let units = plan.virtual_size.div_ceil(unit);
        let measuring = plan.options.format == OutputFormat::Qcow2Compressed && plan.compressed.is_none();
        Converter {
            phase: if measuring { Phase::Measure } else { Phase::Write },
            unit_bits,
            units,
            job_unit: 0,
            emit_unit: 0,
            next_seq: 0,
            emit_seq: 0,
            ready: BTreeMap::new(),
            meta_pending: plan.layout.is_some(),
            measured: Vec::new(),
            packed: Packed::new(c),
            data_first: false,
            out: Output::new(plan.output_len(), disk.check.take()),
            content: ContentDigest::new(plan.virtual_size),
            runs: Vec::new(),
            disk,
            plan,
        }
    }

    /// Leave the SHA-512 of the output to the caller (the native driver hashes on its own
    /// thread so the assembler is not held up); `report().sha512` is then empty.
    pub fn hash_output_externally(&mut self) {
        self.out.sha = None;
    }

    /// The disk's manifest check, until it has run (just before the last output bytes).
    pub fn check(&self) -> Option<&crate::manifest::DiskCheck> {
        self.out.before_last.as_ref()
    }

    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Compressed QCOW2 in one pass, for a shell that can write at any offset: the sink gets
    /// only the data area, while the clusters are measured, so each is deflated once instead
    /// of twice; the tables in front of it are known at the end, when `plan().layout` is set.
    /// Returns the offset the data area starts at if every cluster were stored whole (the
    /// tables' largest size); the real `layout.data_offset` is at most that. The output's
    /// SHA-512 is not computed, as the output is not produced in order. `None` (and no change)
    /// unless a compressed conversion has not started.
    pub fn emit_data_first(&mut self) -> Result<Option<u64>> {
        if self.phase != Phase::Measure || self.emit_unit > 0 || self.job_unit > 0 {
            return Ok(None);
        }
        let whole = Compressed { lens: vec![self.plan.cluster_size() as u32; self.plan.alloc.count() as usize] };
        let most = Layout::new(self.plan.virtual_size, self.plan.cluster_bits, &self.plan.alloc, Some(&whole))?;
        self.data_first = true;
        self.out.sha = None;
        Ok(Some(most.data_offset))
    }

    /// Total output length: known from the start except for compressed QCOW2, where it is
    /// known once the measuring pass is over (before the first output byte).
    pub fn output_len(&self) -> Option<u64> {
        self.plan.output_len()
    }

    pub fn progress(&self) -> Progress {
        let guest_done = (self.emit_unit << self.unit_bits).min(self.plan.virtual_size);
        Progress {
            phase: if self.phase == Phase::Measure && !self.data_first { "measure" } else { "write" },
            guest_done,
            guest_total: self.plan.virtual_size,
            bytes_out: self.out.pos,
            output_len: self.output_len(),
        }
    }

    /// True when `next_job` may hand out more jobs in this pass (or the next pass started).
    pub(crate) fn next_job_pending(&self) -> bool {
        self.phase != Phase::Done && self.job_unit < self.units
    }

    fn unit_range(&self, u: u64) -> (u64, u64) {
        let start = u << self.unit_bits;
        (start, ((u + 1) << self.unit_bits).min(self.plan.virtual_size))
    }

    /// Clusters of unit `u` and whether each is allocated.
    fn unit_alloc(&self, u: u64) -> Vec<bool> {
        let per = 1u64 << (self.unit_bits - self.plan.cluster_bits);
        let first = u * per;
        (first..(first + per).min(self.plan.alloc.len())).map(|k| self.plan.alloc.get(k)).collect()
    }

    /// Does unit `u` need decoding? (Units without allocated clusters are zeros.)
    fn unit_has_data(&self, u: u64) -> bool {
        let per = 1u64 << (self.unit_bits - self.plan.cluster_bits);
        self.plan.alloc.any_in(u * per, ((u + 1) * per).min(self.plan.alloc.len()))
    }

    /// The next job and its input (its bytes, or where to read them when `defer` and all of
    /// it is in sources any thread may read, [`Source::shared`]), or `None` when every job of
    /// the current pass has been handed out (call `emit` after pushing results; compressed
    /// QCOW2 then starts its second pass and jobs flow again).
    pub(crate) fn next_job_input(&mut self, defer: bool) -> Result<Option<(JobSpec, JobInput)>> {
        if self.phase == Phase::Done {
            return Ok(None);
        }
        while self.job_unit < self.units && !self.unit_has_data(self.job_unit) {
            self.job_unit += 1;
        }
        if self.job_unit >= self.units {
            return Ok(None);
        }
        let u = self.job_unit;
        self.job_unit += 1;
        let (start, end) = self.unit_range(u);
        self.runs.clear();
        self.disk.map.map(start, end - start, &mut self.runs)?;
        let mut pieces = Vec::with_capacity(self.runs.len());
        let mut reads = Vec::with_capacity(self.runs.len());
        for run in &self.runs {
            let len = run.len as u32;
            match &run.kind {
                RunKind::Unallocated | RunKind::Zero => pieces.push(Piece::Zero { len }),
                RunKind::Data { src, offset } => {
                    reads.push((src, *offset, len as usize));
                    pieces.push(Piece::Data { len });
                }
                RunKind::Deflate { src, offset, clen, grain_len, skip, marker } => {
                    crate::source::check_range(src.as_ref(), *offset, *clen as u64)?;
                    reads.push((src, *offset, *clen as usize));
                    pieces.push(Piece::Deflate {
                        len,
                        clen: *clen,
                        grain_len: *grain_len,
                        skip: *skip,
                        file: src.name().to_string(),
                        offset: *offset,
                        marker: *marker,
                    });
                }
            }
        }
        let shared = || reads.iter().map(|(src, offset, len)| Some((src.shared()?, *offset, *len))).collect();
        let input = match defer.then(shared).flatten() {
            Some(reads) => JobInput::Deferred(DeferredInput(reads)),
            None => JobInput::Read(read_all(reads.iter().map(|(src, offset, len)| (src.as_ref(), *offset, *len)))?),
        };
        let measuring = self.phase == Phase::Measure && !self.data_first;
        let compressed = self.plan.options.format == OutputFormat::Qcow2Compressed;
        let job = JobSpec {
            seq: self.next_seq,
            guest_offset: start,
            len: (end - start) as u32,
            pieces,
            cluster_size: self.plan.cluster_size() as u32,
            alloc: self.unit_alloc(u),
            compress_level: compressed.then_some(self.plan.options.compression_level),
            want_data: !measuring && !compressed,
            want_digest: !measuring,
        };
        self.next_seq += 1;
        Ok(Some((job, input)))
    }

    /// Hand back a decoded job (or its error), in any order.
    pub(crate) fn push(&mut self, seq: u64, result: Result<Decoded>) {
        self.ready.insert(seq, result);
    }

    /// Jobs handed out whose results have not been emitted yet.
    pub(crate) fn in_flight(&self) -> u64 {
        self.next_seq - self.emit_seq
    }

    /// Write everything that is ready, in order, through `sink`.
    pub(crate) fn emit(&mut self, sink: &mut dyn Sink) -> Result<Emit> {
        loop {
            if self.phase == Phase::Done {
                return Ok(Emit::Done);
            }
            if self.phase == Phase::Write && self.meta_pending {
                let layout = self.plan.layout.as_ref().ok_or_else(|| Error::invalid("no layout"))?;
                let mut w = self.out.writer(sink);
                qcow2_writer::write_metadata(&mut w, layout, &self.plan.alloc, self.plan.compressed.as_ref())?;
                self.meta_pending = false;
            }
            if self.emit_unit >= self.units {
                self.finish_pass(sink)?;
                continue;
            }
            let u = self.emit_unit;
            if !self.unit_has_data(u) {
                if self.plan.options.format == OutputFormat::Raw && self.phase == Phase::Write {
                    let (s, e) = self.unit_range(u);
                    raw::write_hole(&mut self.out.writer(sink), e - s)?;
                }
                self.emit_unit += 1;
                continue;
            }
            let Some(result) = self.ready.remove(&self.emit_seq) else { return Ok(Emit::Blocked) };
            let d = result?;
            self.emit_seq += 1;
            self.emit_unit += 1;
            self.emit_unit_data(u, d, sink)?;
        }
    }

    fn emit_unit_data(&mut self, u: u64, d: Decoded, sink: &mut dyn Sink) -> Result<()> {
        if self.phase == Phase::Measure {
            self.measured.extend(d.stored.iter().map(|s| s.len() as u32));
            if !self.data_first {
                return Ok(());
            }
        }
        let (start, _) = self.unit_range(u);
        let first_block = start / digest::BLOCK as u64;
        for (i, b) in d.blocks.iter().enumerate() {
            self.content.push(first_block + i as u64, *b);
        }
        let alloc = self.unit_alloc(u);
        let mut w = self.out.writer(sink);
        match self.plan.options.format {
            OutputFormat::Raw => raw::write_unit(&mut w, &d.data),
            OutputFormat::Qcow2 => qcow2_writer::write_clusters(&mut w, &d.data, &alloc, self.plan.cluster_size()),
            OutputFormat::Qcow2Compressed if self.data_first => self.packed.write(&mut w, &d.stored, &self.measured),
            OutputFormat::Qcow2Compressed => {
                let lens = self.plan.compressed.as_ref().map_or(&[][..], |m| &m.lens[..]);
                self.packed.write(&mut w, &d.stored, lens)
            }
        }
    }

    fn finish_pass(&mut self, sink: &mut dyn Sink) -> Result<()> {
        if self.phase == Phase::Measure {
            let lens = std::mem::take(&mut self.measured);
            self.plan.set_compressed(Compressed { lens })?;
            if self.data_first {
                // The tables, written last, make the file an image: the manifest check first.
                if let Some(check) = self.out.before_last.take() {
                    check.finish()?;
                }
                self.phase = Phase::Done;
                return Ok(());
            }
            self.out.len = self.plan.output_len();
            self.meta_pending = true;
            self.phase = Phase::Write;
            self.job_unit = 0;
            self.emit_unit = 0;
            return Ok(());
        }
        // Pad to the planned length (compressed data ends mid-cluster).
        if let Some(total) = self.output_len() {
            let mut w = self.out.writer(sink);
            if w.pos() < total {
                w.zeros(total - w.pos())?;
            }
            if w.pos() != total {
                return Err(Error::invalid(format!("wrote {} bytes but planned {total}", w.pos())));
            }
        }
        self.phase = Phase::Done;
        Ok(())
    }

    /// The final report, once `emit` returned `Done`.
    pub fn report(&self) -> Result<Report> {
        if self.phase != Phase::Done {
            return Err(Error::invalid("conversion not finished"));
        }
        Ok(Report {
            format: self.plan.options.format,
            virtual_size: self.plan.virtual_size,
            output_len: if self.data_first { self.output_len().unwrap_or_default() } else { self.out.pos },
            data_bytes: self.plan.data_bytes(),
            content_digest: self.content.clone().finish(),
            sha512: self.out.sha.clone().map(|s| hex::encode(s.finalize())).unwrap_or_default(),
        })
    }
}
