//! Assembling: turns a [`Plan`] into output bytes in order.
//!
//! The [`Converter`] is a pull-style state machine with three calls, so the same code drives
//! native threads and browser Web Workers:
//! - [`Converter::next_job`] maps the next unit of guest space and reads its source bytes
//!   (the only I/O), giving a serialisable [`JobSpec`] and its input;
//! - [`decode`] (pure, run anywhere) inflates/copies, hashes the 64 KiB digest blocks and, for
//!   compressed QCOW2, deflates each cluster;
//! - [`Converter::push`] hands results back in any order and [`Converter::emit`] writes all
//!   output that is ready, in order, keeping the SHA-512 of the bytes and the content digest.
//!
//! Memory: the caller bounds the jobs in flight; each holds at most one unit (max(cluster,
//! 64 KiB)) of input and output. Compressed QCOW2 runs the jobs twice: a measuring pass that
//! learns every stored length (so the file length and tables are known before the first byte)
//! and the emitting pass.

use crate::decode::inflate_run;
use crate::digest::{self, ContentDigest};
use crate::error::{Error, Result};
use crate::image::{Disk, Run, RunKind};
use crate::plan::{OutputFormat, Plan};
use crate::qcow2::layout::{MetaWriter, Packer};
use crate::qcow2::{Compressed, DEFLATE_WINDOW_BITS};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha512};
use std::collections::BTreeMap;

/// How one stretch of a unit is produced from the job's input bytes.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Piece {
    /// `len` zero bytes; no input.
    Zero { len: u32 },
    /// `len` bytes copied from the input.
    Data { len: u32 },
    /// `clen` input bytes are a zlib grain inflating to `grain_len` bytes; this piece is
    /// `len` bytes starting `skip` into it. `file`/`offset` locate the grain for errors.
    /// With `marker`, the input starts with a grain marker to check (see `RunKind::Deflate`).
    Deflate { len: u32, clen: u32, grain_len: u32, skip: u32, file: String, offset: u64, marker: Option<u64> },
}

/// One unit of decoding work: serialisable, so it can be posted to a Web Worker.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JobSpec {
    pub seq: u64,
    pub guest_offset: u64,
    pub len: u32,
    pub pieces: Vec<Piece>,
    /// Output cluster size.
    pub cluster_size: u32,
    /// Which clusters of the unit are allocated in the output.
    pub alloc: Vec<bool>,
    /// Deflate each allocated cluster at this zlib level (compressed QCOW2).
    pub compress_level: Option<u32>,
    /// Return the decoded bytes (not needed while measuring compressed lengths).
    pub want_data: bool,
    /// Compute digest block hashes (not needed while measuring).
    pub want_digest: bool,
}

/// The result of [`decode`].
#[derive(Clone, Debug, Default)]
pub struct Decoded {
    pub seq: u64,
    /// The unit's guest bytes (empty unless `want_data`).
    pub data: Vec<u8>,
    /// BLAKE3 of each 64 KiB block of the unit, `None` for all-zero blocks.
    pub blocks: Vec<Option<[u8; 32]>>,
    /// Compressed QCOW2: the stored bytes of each allocated cluster, in order (shorter than a
    /// cluster: raw deflate; exactly a cluster: stored uncompressed).
    pub stored: Vec<Vec<u8>>,
}

/// Decode one job from its input bytes. Pure: no I/O, no shared state.
pub fn decode(job: &JobSpec, input: Vec<u8>) -> Result<Decoded> {
    let len = job.len as usize;
    let data = match job.pieces.as_slice() {
        // The common uncompressed case: the input already is the output.
        [Piece::Data { len: l }] if *l as usize == len && input.len() == len => input,
        // A whole grain per unit (stream-optimized VMDKs, 64 KiB grains): inflate in place.
        [Piece::Deflate { len: l, clen, grain_len, skip: 0, file, offset, marker }]
            if *l as usize == len && *grain_len as usize == len && input.len() == *clen as usize =>
        {
            let mut data = vec![0u8; len];
            inflate_run(&input, *marker, file, *offset, &mut data, len)?;
            data
        }
        pieces => {
            let mut data = vec![0u8; len];
            let (mut at, mut inp) = (0usize, 0usize);
            let mut grain = Vec::new();
            for p in pieces {
                match p {
                    Piece::Zero { len } => at += *len as usize,
                    Piece::Data { len } => {
                        let n = *len as usize;
                        let src = input.get(inp..inp + n).ok_or_else(|| Error::invalid("job input too short"))?;
                        data.get_mut(at..at + n)
                            .ok_or_else(|| Error::invalid("job pieces exceed the unit"))?
                            .copy_from_slice(src);
                        at += n;
                        inp += n;
                    }
                    Piece::Deflate { len, clen, grain_len, skip, file, offset, marker } => {
                        let (n, cl) = (*len as usize, *clen as usize);
                        let bytes = input.get(inp..inp + cl).ok_or_else(|| Error::invalid("job input too short"))?;
                        inp += cl;
                        grain.resize(*grain_len as usize, 0);
                        let s = *skip as usize;
                        inflate_run(bytes, *marker, file, *offset, &mut grain, s + n)?;
                        data.get_mut(at..at + n)
                            .ok_or_else(|| Error::invalid("job pieces exceed the unit"))?
                            .copy_from_slice(&grain[s..s + n]);
                        at += n;
                    }
                }
            }
            if at != len {
                return Err(Error::invalid("job pieces do not cover the unit"));
            }
            data
        }
    };
    let blocks =
        if job.want_digest { data.chunks(digest::BLOCK).map(digest::block_hash).collect() } else { Vec::new() };
    let mut stored = Vec::new();
    if let Some(level) = job.compress_level {
        let c = job.cluster_size as usize;
        for (i, chunk) in data.chunks(c).enumerate() {
            if job.alloc.get(i).copied().unwrap_or(false) {
                stored.push(deflate_cluster(chunk, c, level));
            }
        }
    }
    Ok(Decoded { seq: job.seq, data: if job.want_data { data } else { Vec::new() }, blocks, stored })
}

/// Deflate one cluster the way qemu stores compressed clusters (raw deflate, 4 KiB window);
/// when that does not save anything, the cluster is stored whole (`cluster_size` bytes).
fn deflate_cluster(chunk: &[u8], cluster_size: usize, level: u32) -> Vec<u8> {
    use flate2::{Compress, Compression, FlushCompress, Status};
    let mut full;
    let input = if chunk.len() < cluster_size {
        full = chunk.to_vec();
        full.resize(cluster_size, 0);
        &full[..]
    } else {
        chunk
    };
    let mut z = Compress::new_with_window_bits(Compression::new(level.clamp(1, 9)), false, DEFLATE_WINDOW_BITS);
    let mut out = Vec::with_capacity(cluster_size);
    match z.compress_vec(input, &mut out, FlushCompress::Finish) {
        Ok(Status::StreamEnd) if out.len() < cluster_size => out,
        _ => {
            full = input.to_vec();
            full
        }
    }
}

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

/// What [`Converter::emit`] stopped on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Emit {
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
    meta: Option<MetaWriter>,
    packer: Packer,
    measured: Vec<u32>,
    rank: u64,
    out_pos: u64,
    /// SHA-512 of the output, unless the caller hashes the output itself.
    sha: Option<Sha512>,
    content: ContentDigest,
    runs: Vec<Run>,
    before_last: Option<Box<dyn FnMut() -> Result<()>>>,
}

impl Converter {
    pub fn new(disk: Disk, plan: Plan) -> Self {
        let c = plan.cluster_size();
        let unit = c.max(digest::BLOCK as u64);
        let unit_bits = unit.trailing_zeros();
        let units = plan.virtual_size.div_ceil(unit);
        let measuring = plan.options.format == OutputFormat::Qcow2Compressed && plan.compressed.is_none();
        let meta = plan.layout.as_ref().map(|l| l.metadata());
        Converter {
            phase: if measuring { Phase::Measure } else { Phase::Write },
            unit_bits,
            units,
            job_unit: 0,
            emit_unit: 0,
            next_seq: 0,
            emit_seq: 0,
            ready: BTreeMap::new(),
            meta,
            packer: Packer::new(c),
            measured: Vec::new(),
            rank: 0,
            out_pos: 0,
            sha: Some(Sha512::new()),
            content: ContentDigest::new(plan.virtual_size),
            runs: Vec::new(),
            before_last: None,
            disk,
            plan,
        }
    }

    /// Run `check` just before the last output bytes are written (manifest verification): if
    /// it fails, the output stays incomplete, so an upload in progress is never finished.
    pub fn set_before_last(&mut self, check: Box<dyn FnMut() -> Result<()>>) {
        self.before_last = Some(check);
    }

    /// Leave the SHA-512 of the output to the caller (the native driver hashes on its own
    /// thread so the assembler is not held up); `report().sha512` is then empty.
    pub fn hash_output_externally(&mut self) {
        self.sha = None;
    }

    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Total output length: known from the start except for compressed QCOW2, where it is
    /// known once the measuring pass is over (before the first output byte).
    pub fn output_len(&self) -> Option<u64> {
        self.plan.output_len()
    }

    pub fn progress(&self) -> Progress {
        let guest_done = (self.emit_unit << self.unit_bits).min(self.plan.virtual_size);
        Progress {
            phase: if self.phase == Phase::Measure { "measure" } else { "write" },
            guest_done,
            guest_total: self.plan.virtual_size,
            bytes_out: self.out_pos,
            output_len: self.output_len(),
        }
    }

    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
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

    /// The next job and its input bytes, or `None` when every job of the current pass has been
    /// handed out (call `emit` after pushing results; compressed QCOW2 then starts its second
    /// pass and jobs flow again).
    pub fn next_job(&mut self) -> Result<Option<(JobSpec, Vec<u8>)>> {
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
        let mut input = Vec::new();
        for run in &self.runs {
            let len = run.len as u32;
            match &run.kind {
                RunKind::Unallocated | RunKind::Zero => pieces.push(Piece::Zero { len }),
                RunKind::Data { src, offset } => {
                    let at = input.len();
                    input.resize(at + len as usize, 0);
                    src.read_exact_at(*offset, &mut input[at..])?;
                    pieces.push(Piece::Data { len });
                }
                RunKind::Deflate { src, offset, clen, grain_len, skip, marker } => {
                    crate::source::check_range(src.as_ref(), *offset, *clen as u64)?;
                    let at = input.len();
                    input.resize(at + *clen as usize, 0);
                    src.read_exact_at(*offset, &mut input[at..])?;
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
        let measuring = self.phase == Phase::Measure;
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
    pub fn push(&mut self, seq: u64, result: Result<Decoded>) {
        self.ready.insert(seq, result);
    }

    /// Jobs handed out whose results have not been emitted yet.
    pub fn in_flight(&self) -> u64 {
        self.next_seq - self.emit_seq
    }

    fn write(&mut self, out: &mut dyn FnMut(&[u8]) -> Result<()>, bytes: &[u8]) -> Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        if Some(self.out_pos + bytes.len() as u64) == self.output_len() {
            if let Some(mut check) = self.before_last.take() {
                check()?;
            }
        }
        if let Some(sha) = self.sha.as_mut() {
            sha.update(bytes);
        }
        out(bytes)?;
        self.out_pos += bytes.len() as u64;
        Ok(())
    }

    fn write_zeros(&mut self, out: &mut dyn FnMut(&[u8]) -> Result<()>, mut n: u64) -> Result<()> {
        static Z: [u8; 64 * 1024] = [0; 64 * 1024];
        while n > 0 {
            let k = n.min(Z.len() as u64) as usize;
            self.write(out, &Z[..k])?;
            n -= k as u64;
        }
        Ok(())
    }

    /// Write everything that is ready, in order, through `out`.
    pub fn emit(&mut self, out: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<Emit> {
        if self.phase == Phase::Write {
            if let Some(mut meta) = self.meta.take() {
                let layout = self.plan.layout.clone().ok_or_else(|| Error::invalid("no layout"))?;
                let mut buf = vec![0u8; layout.cluster_size() as usize];
                while meta.next_cluster(&layout, &self.plan.alloc, self.plan.compressed.as_ref(), &mut buf) {
                    self.write(out, &buf)?;
                }
            }
        }
        loop {
            match self.phase {
                Phase::Done => return Ok(Emit::Done),
                Phase::Measure | Phase::Write => {}
            }
            if self.emit_unit >= self.units {
                self.finish_pass(out)?;
                continue;
            }
            let u = self.emit_unit;
            if !self.unit_has_data(u) {
                if self.plan.options.format == OutputFormat::Raw && self.phase == Phase::Write {
                    let (s, e) = self.unit_range(u);
                    self.write_zeros(out, e - s)?;
                }
                self.emit_unit += 1;
                continue;
            }
            let Some(result) = self.ready.remove(&self.emit_seq) else { return Ok(Emit::Blocked) };
            let d = result?;
            self.emit_seq += 1;
            self.emit_unit += 1;
            self.emit_unit_data(u, d, out)?;
        }
    }

    fn emit_unit_data(&mut self, u: u64, d: Decoded, out: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()> {
        let c = self.plan.cluster_size();
        let (start, _) = self.unit_range(u);
        if self.phase == Phase::Measure {
            self.measured.extend(d.stored.iter().map(|s| s.len() as u32));
            return Ok(());
        }
        let first_block = start / digest::BLOCK as u64;
        for (i, b) in d.blocks.iter().enumerate() {
            self.content.push(first_block + i as u64, *b);
        }
        match self.plan.options.format {
            OutputFormat::Raw => self.write(out, &d.data)?,
            OutputFormat::Qcow2 => {
                for (i, alloc) in self.unit_alloc(u).into_iter().enumerate() {
                    if alloc {
                        let a = i * c as usize;
                        let chunk = &d.data[a..(a + c as usize).min(d.data.len())];
                        self.write(out, chunk)?;
                        self.write_zeros(out, c - chunk.len() as u64)?;
                    }
                }
            }
            OutputFormat::Qcow2Compressed => {
                for s in &d.stored {
                    let want = self.plan.compressed.as_ref().and_then(|m| m.lens.get(self.rank as usize)).copied();
                    if want != Some(s.len() as u32) {
                        return Err(Error::invalid(
                            "compressed cluster changed size between the measuring and writing passes",
                        ));
                    }
                    let (_, pad) = self.packer.place(s.len() as u32);
                    self.write_zeros(out, pad)?;
                    self.write(out, s)?;
                    self.rank += 1;
                }
            }
        }
        Ok(())
    }

    fn finish_pass(&mut self, out: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()> {
        if self.phase == Phase::Measure {
            let lens = std::mem::take(&mut self.measured);
            self.plan.set_compressed(Compressed { lens })?;
            self.meta = self.plan.layout.as_ref().map(|l| l.metadata());
            self.phase = Phase::Write;
            self.job_unit = 0;
            self.emit_unit = 0;
            // Metadata now comes first.
            return self.emit(out).map(|_| ());
        }
        // Pad to the planned length (compressed data ends mid-cluster).
        if let Some(total) = self.output_len() {
            if self.out_pos < total {
                self.write_zeros(out, total - self.out_pos)?;
            }
            if self.out_pos != total {
                return Err(Error::invalid(format!("wrote {} bytes but planned {total}", self.out_pos)));
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
            output_len: self.out_pos,
            data_bytes: self.plan.data_bytes(),
            content_digest: self.content.clone().finish(),
            sha512: self.sha.clone().map(|s| hex::encode(s.finalize())).unwrap_or_default(),
        })
    }
}

/// Run a whole conversion on this thread (tests, small inputs, the browser's single-worker
/// fallback).
pub fn convert_serial(disk: Disk, plan: Plan, out: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<Report> {
    let mut conv = Converter::new(disk, plan);
    loop {
        while let Some((job, input)) = conv.next_job()? {
            let seq = job.seq;
            conv.push(seq, decode(&job, input));
            if conv.emit(out)? == Emit::Done {
                return conv.report();
            }
        }
        if conv.emit(out)? == Emit::Done {
            return conv.report();
        }
        if conv.in_flight() == 0 && conv.next_job_pending() {
            continue;
        }
        if conv.in_flight() == 0 {
            return Err(Error::invalid("conversion stalled"));
        }
    }
}

impl Converter {
    /// True when `next_job` may produce more work (a new pass started).
    pub fn next_job_pending(&self) -> bool {
        self.phase != Phase::Done && self.job_unit < self.units
    }
}
