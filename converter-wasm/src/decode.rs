//! Decoding: source bytes of a unit → its guest bytes, digest block hashes and, for compressed
//! QCOW2, its stored clusters. [`decode`] is a pure function of a [`JobSpec`] and the job's
//! input (no I/O, no shared state), so the pipeline runs it on other threads or in other Web
//! Workers; [`read_guest`] is the simple reader over a map, for checks and tests.

use crate::digest;
use crate::error::{Error, Result};
use crate::image::{Mapper, Run, RunKind};
use crate::qcow2::compress::deflate_cluster;
use crate::vmdk::marker;
use bytes::Bytes;
use flate2::{Decompress, FlushDecompress, Status};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::mem::MaybeUninit;

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

impl JobSpec {
    /// Bytes of input the job reads: its data pieces and compressed grains, back to back.
    pub fn input_len(&self) -> usize {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Zero { .. } => 0,
                Piece::Data { len } => *len as usize,
                Piece::Deflate { clen, .. } => *clen as usize,
            })
            .sum()
    }
}

/// The result of [`decode`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decoded {
    /// The unit's guest bytes (empty unless `want_data`): shared, not copied, when they arrive
    /// packed from a decode worker ([`BatchOut::decode`]).
    pub data: Bytes,
    /// BLAKE3 of each 64 KiB block of the unit, `None` for all-zero blocks.
    pub blocks: Vec<Option<[u8; 32]>>,
    /// Compressed QCOW2: the stored bytes of each allocated cluster, in order (shorter than a
    /// cluster: raw deflate; exactly a cluster: stored uncompressed).
    pub stored: Vec<Vec<u8>>,
}

/// Jobs posted to a decoder in one message (a decoder thread's channel, a decode worker), each
/// with its input: owned when the jobs were just read, borrowed from the message when they
/// arrived packed.
#[derive(Debug, Default)]
pub struct BatchIn<'a> {
    pub jobs: Vec<(JobSpec, Cow<'a, [u8]>)>,
}

impl BatchIn<'_> {
    /// Decode every job: what a decoder thread or worker runs. A job that fails gives its
    /// error in its place, for the assembler to report in output order.
    pub fn run(self) -> BatchOut {
        BatchOut { results: self.jobs.into_iter().map(|(job, input)| (job.seq, decode(&job, input))).collect() }
    }

    /// The batch as one buffer, for a decode worker (one transfer, no field names for the
    /// JavaScript between to know): the length of a JSON header (u32, little-endian), the
    /// header (the `JobSpec`s), then the inputs back to back.
    pub fn encode(&self) -> Vec<u8> {
        let header = self.header();
        collect(|part| self.encode_parts(&header, part))
    }

    /// The JSON header of [`encode`](Self::encode): the job specs.
    pub fn header(&self) -> Vec<u8> {
        let specs: Vec<&JobSpec> = self.jobs.iter().map(|(job, _)| job).collect();
        serde_json::to_vec(&specs).expect("job specs serialise")
    }

    /// Length of [`encode`](Self::encode)'s buffer, given the [`header`](Self::header).
    pub fn encoded_len(&self, header: &[u8]) -> usize {
        4 + header.len() + self.jobs.iter().map(|(_, input)| input.len()).sum::<usize>()
    }

    /// [`encode`](Self::encode)'s bytes as pieces in order, given the
    /// [`header`](Self::header), so a shell can copy each straight into its own buffer (the
    /// page: a transferable `ArrayBuffer`) without gathering them here first.
    pub fn encode_parts(&self, header: &[u8], part: &mut dyn FnMut(&[u8])) {
        part(&(header.len() as u32).to_le_bytes());
        part(header);
        for (_, input) in &self.jobs {
            part(input);
        }
    }

    /// A batch from [`encode`](Self::encode)'s buffer; the inputs stay in it.
    pub fn decode(packed: &[u8]) -> Result<BatchIn<'_>> {
        let mut r = Unpack(packed);
        let n = r.u32()? as usize;
        let specs: Vec<JobSpec> =
            serde_json::from_slice(r.take(n)?).map_err(|e| Error::invalid(format!("packed batch: job specs: {e}")))?;
        let mut jobs = Vec::with_capacity(specs.len());
        for job in specs {
            let input = r.take(job.input_len())?;
            jobs.push((job, Cow::Borrowed(input)));
        }
        r.end()?;
        Ok(BatchIn { jobs })
    }
}

/// The results of a [`BatchIn`], each with its job's sequence number.
#[derive(Debug, Default)]
pub struct BatchOut {
    pub results: Vec<(u64, Result<Decoded>)>,
}

impl BatchOut {
    /// The results as one buffer, for the trip back from a decode worker: the number of
    /// results (u32), then per result its seq (u64) and a tag: 0 and the decoded data (u32
    /// length and bytes), the digest blocks (u32 count, each a flag byte: 0 all-zero block, 1
    /// followed by its 32-byte hash) and the stored clusters (u32 count, each a u32 length and
    /// its bytes); or 1 and the error as JSON (u32 length and text). Little-endian throughout.
    pub fn encode(&self) -> Vec<u8> {
        collect(|part| {
            self.encode_parts(part);
        })
    }

    /// Length of [`encode`](Self::encode)'s buffer (nothing copied).
    pub fn encoded_len(&self) -> usize {
        self.encode_parts(&mut |_| ())
    }

    /// [`encode`](Self::encode)'s bytes as pieces in order (see [`BatchIn::encode_parts`]):
    /// the decoded data goes out as whole slices. Returns the total length.
    pub fn encode_parts(&self, part: &mut dyn FnMut(&[u8])) -> usize {
        let mut n = 0;
        let mut put = |b: &[u8]| {
            part(b);
            n += b.len();
        };
        put(&(self.results.len() as u32).to_le_bytes());
        for (seq, result) in &self.results {
            put(&seq.to_le_bytes());
            match result {
                Ok(d) => {
                    put(&[0]);
                    put_bytes(&mut put, &d.data);
                    put(&(d.blocks.len() as u32).to_le_bytes());
                    for b in &d.blocks {
                        match b {
                            None => put(&[0]),
                            Some(h) => {
                                put(&[1]);
                                put(h);
                            }
                        }
                    }
                    put(&(d.stored.len() as u32).to_le_bytes());
                    for st in &d.stored {
                        put_bytes(&mut put, st);
                    }
                }
                Err(e) => {
                    put(&[1]);
                    put_bytes(&mut put, &serde_json::to_vec(e).expect("errors serialise"));
                }
            }
        }
        n
    }

    /// Results from [`encode`](Self::encode)'s buffer. Each result's data stays in `packed`
    /// (a slice of it, not a copy): the page's converter hands it on to the output as is.
    pub fn decode(packed: Bytes) -> Result<BatchOut> {
        let mut r = Unpack(&packed);
        let mut results = Vec::new();
        for _ in 0..r.u32()? {
            let seq = r.u64()?;
            let result = match r.u8()? {
                0 => {
                    let data = packed.slice_ref(r.bytes()?);
                    let mut blocks = Vec::new();
                    for _ in 0..r.u32()? {
                        blocks.push(match r.u8()? {
                            0 => None,
                            1 => Some(r.take(32)?.try_into().expect("32 bytes")),
                            f => return Err(Error::invalid(format!("packed batch: digest block flag {f}"))),
                        });
                    }
                    let mut stored = Vec::new();
                    for _ in 0..r.u32()? {
                        stored.push(r.bytes()?.to_vec());
                    }
                    Ok(Decoded { data, blocks, stored })
                }
                1 => Err(serde_json::from_slice(r.bytes()?)
                    .map_err(|e| Error::invalid(format!("packed batch: error of job {seq}: {e}")))?),
                t => return Err(Error::invalid(format!("packed batch: result tag {t}"))),
            };
            results.push((seq, result));
        }
        r.end()?;
        Ok(BatchOut { results })
    }
}

/// The pieces `parts` gives, gathered into one buffer.
fn collect(parts: impl FnOnce(&mut dyn FnMut(&[u8]))) -> Vec<u8> {
    let mut out = Vec::new();
    parts(&mut |b| out.extend_from_slice(b));
    out
}

/// A u32 length (little-endian) and the bytes.
fn put_bytes(put: &mut impl FnMut(&[u8]), b: &[u8]) {
    put(&(b.len() as u32).to_le_bytes());
    put(b);
}

/// Reads a packed batch front to back; a read past its end is an error.
struct Unpack<'a>(&'a [u8]);

impl<'a> Unpack<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.0.len() {
            return Err(Error::invalid(format!("packed batch: {n} bytes wanted, {} left", self.0.len())));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
    /// A u32 length and that many bytes.
    fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    fn end(&self) -> Result<()> {
        match self.0.len() {
            0 => Ok(()),
            n => Err(Error::invalid(format!("packed batch: {n} bytes left over"))),
        }
    }
}

/// Decoded data starts on a boundary of this many bytes (the page size): the native writer
/// hands it to the disk as it is, and direct I/O takes only page-aligned memory. The cost is
/// at most this much padding per unit.
pub const DATA_ALIGN: usize = 4096;

/// An empty vector with room for `len` bytes from a [`DATA_ALIGN`] boundary on, and that
/// boundary's index: the bytes before it are padding. (Padding rather than an aligned
/// allocation keeps this safe code and the result an ordinary `Vec`, for `Bytes`.)
pub(crate) fn aligned_vec(len: usize) -> (Vec<u8>, usize) {
    let mut v = Vec::<u8>::with_capacity(len + DATA_ALIGN);
    // `align_offset` may decline (usize::MAX): the data is then unaligned, written buffered.
    let start = Some(v.as_ptr().align_offset(DATA_ALIGN)).filter(|&n| n < DATA_ALIGN).unwrap_or(0);
    v.resize(start, 0);
    (v, start)
}

/// Decode one job from its input bytes. Pure: no I/O, no shared state.
pub fn decode(job: &JobSpec, input: Cow<[u8]>) -> Result<Decoded> {
    let len = job.len as usize;
    // The unit's bytes are `buf[start..]`.
    let (buf, start) = match job.pieces.as_slice() {
        // The common uncompressed case: the input already is the output.
        [Piece::Data { len: l }] if *l as usize == len && input.len() == len => (input.into_owned(), 0),
        // A whole grain per unit (stream-optimized VMDKs, 64 KiB grains): inflate in place,
        // into memory not zeroed first (the grain must fill all of it: zeroing was 4-5 % of
        // the CLI's CPU).
        [Piece::Deflate { len: l, clen, grain_len, skip: 0, file, offset, marker }]
            if *l as usize == len && *grain_len as usize == len && input.len() == *clen as usize =>
        {
            let (mut buf, start) = aligned_vec(len);
            let got = inflate_run_uninit(&input, *marker, file, *offset, &mut buf.spare_capacity_mut()[..len], len)?;
            debug_assert_eq!(got, len);
            // SAFETY: inflate_run_uninit wrote `got` (>= len, and at most the slice's len) bytes.
            unsafe { buf.set_len(start + len) };
            (buf, start)
        }
        pieces => {
            let (mut buf, start) = aligned_vec(len);
            buf.resize(start + len, 0);
            let data = &mut buf[start..];
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
            (buf, start)
        }
    };
    let data = &buf[start..];
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
    let data = if job.want_data { Bytes::from(buf).slice(start..) } else { Bytes::new() };
    Ok(Decoded { data, blocks, stored })
}

/// Inflate one zlib-wrapped grain into `out` (exactly the grain's size). A grain that would
/// inflate past `out.len()` is corrupt (or a deflate bomb) and stops at once; one that ends
/// early returns its shorter length (whether that is enough is the caller's question).
/// `file`/`offset` name the grain for errors.
fn inflate_grain(compressed: &[u8], out: &mut [MaybeUninit<u8>], file: &str, offset: u64) -> Result<usize> {
    #[cfg(feature = "native")]
    if let Some(n) = crate::libdeflate::zlib_inflate(compressed, out) {
        return Ok(n);
    }
    inflate_grain_zlib(compressed, out, file, offset)
}

/// [`inflate_grain`] by zlib-rs: the page's inflater, and the one whose verdict on a bad grain
/// both shells give.
fn inflate_grain_zlib(compressed: &[u8], out: &mut [MaybeUninit<u8>], file: &str, offset: u64) -> Result<usize> {
    let mut z = Decompress::new(true);
    let status = z
        .decompress_uninit(compressed, out, FlushDecompress::Finish)
        .map_err(|e| Error::corrupt(file, offset, format!("compressed grain does not inflate: {e}")))?;
    let produced = z.total_out() as usize;
    match status {
        Status::StreamEnd => Ok(produced),
        _ if produced == out.len() => {
            // Output full but the stream has not ended: more data would follow.
            let mut probe = [0u8; 1];
            let more = z.decompress(&compressed[z.total_in() as usize..], &mut probe, FlushDecompress::Finish);
            match more {
                Ok(Status::StreamEnd) if z.total_out() as usize == produced => Ok(produced),
                _ => Err(Error::corrupt(
                    file,
                    offset,
                    format!("compressed grain inflates past its size of {} bytes", out.len()),
                )),
            }
        }
        _ => Err(Error::corrupt(
            file,
            offset,
            format!("compressed grain is truncated after {} of {} bytes", z.total_in(), compressed.len()),
        )),
    }
}

/// Inflate the grain of a `Deflate` run (see [`RunKind::Deflate`]) into `grain`, which is
/// exactly the grain's size: `bytes` are the run's `clen` bytes read at `offset` of `file`,
/// starting with the grain marker to check when there is one (`marker: Some(lba)`). At least
/// `need` bytes must come out (those the run's guest range reads). Returns the inflated length.
pub fn inflate_run(
    bytes: &[u8],
    marker: Option<u64>,
    file: &str,
    offset: u64,
    grain: &mut [u8],
    need: usize,
) -> Result<usize> {
    // SAFETY: the same memory seen as possibly uninitialised; inflating only ever writes
    // initialised bytes into it, so `grain` stays initialised.
    let grain = unsafe { &mut *(grain as *mut [u8] as *mut [MaybeUninit<u8>]) };
    inflate_run_uninit(bytes, marker, file, offset, grain, need)
}

/// [`inflate_run`] into memory that need not be initialised: the first `got` bytes (the
/// length returned) are, once it returns.
fn inflate_run_uninit(
    bytes: &[u8],
    marker: Option<u64>,
    file: &str,
    offset: u64,
    grain: &mut [MaybeUninit<u8>],
    need: usize,
) -> Result<usize> {
    let stream = match marker {
        None => bytes,
        Some(lba) => marker::grain_stream(bytes, lba, file, offset)?,
    };
    let got = inflate_grain(stream, grain, file, offset)?;
    if got < need {
        return Err(Error::corrupt(
            file,
            offset,
            format!("compressed grain inflates to {got} bytes but {need} are needed"),
        ));
    }
    Ok(got)
}

/// Read guest bytes `[offset, offset + buf.len())` through a map: the simple, single-threaded
/// reference reader (used by `inspect`-style checks and tests; the converter uses the
/// pipeline in `convert`).
pub fn read_guest(map: &dyn Mapper, offset: u64, buf: &mut [u8]) -> Result<()> {
    let mut runs: Vec<Run> = Vec::new();
    map.map(offset, buf.len() as u64, &mut runs)?;
    let mut pos = 0usize;
    let mut grain = Vec::new();
    for run in runs {
        let n = run.len as usize;
        let dst = &mut buf[pos..pos + n];
        match run.kind {
            RunKind::Unallocated | RunKind::Zero => dst.fill(0),
            RunKind::Data { src, offset } => src.read_exact_at(offset, dst)?,
            RunKind::Deflate { src, offset, clen, grain_len, skip, marker } => {
                let bytes = crate::source::read_vec(src.as_ref(), offset, clen as u64)?;
                grain.resize(grain_len as usize, 0);
                let (s, e) = (skip as usize, skip as usize + n);
                inflate_run(&bytes, marker, src.name(), offset, &mut grain, e)?;
                dst.copy_from_slice(&grain[s..e]);
            }
        }
        pos += n;
    }
    if pos != buf.len() {
        return Err(Error::invalid(format!("map returned {pos} bytes for a {}-byte read at {offset}", buf.len())));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn job(seq: u64, pieces: Vec<Piece>) -> JobSpec {
        let len = pieces
            .iter()
            .map(|p| match p {
                Piece::Zero { len } | Piece::Data { len } | Piece::Deflate { len, .. } => *len,
            })
            .sum();
        JobSpec {
            seq,
            guest_offset: seq * 4096,
            len,
            pieces,
            cluster_size: 512,
            alloc: vec![true; len.div_ceil(512) as usize],
            compress_level: None,
            want_data: true,
            want_digest: true,
        }
    }

    #[test]
    fn batches_travel_packed_and_decode_the_same() {
        let grain = {
            use flate2::{write::ZlibEncoder, Compression};
            use std::io::Write;
            let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
            z.write_all(&[7u8; 4096]).unwrap();
            z.finish().unwrap()
        };
        let bad = Piece::Deflate {
            len: 512,
            clen: 3,
            grain_len: 4096,
            skip: 0,
            file: "g.vmdk".into(),
            offset: 99,
            marker: None,
        };
        let good = Piece::Deflate {
            len: 1024,
            clen: grain.len() as u32,
            grain_len: 4096,
            skip: 512,
            file: "g.vmdk".into(),
            offset: 7,
            marker: None,
        };
        let mut input1 = vec![5u8; 1000];
        input1.extend_from_slice(&grain);
        let batch = BatchIn {
            jobs: vec![
                (job(0, vec![Piece::Data { len: 1000 }, Piece::Zero { len: 24 }, good]), Cow::Owned(input1)),
                (job(1, vec![bad]), Cow::Owned(vec![1, 2, 3])),
                (job(2, vec![Piece::Zero { len: 65536 }]), Cow::Owned(vec![])),
            ],
        };
        let packed = batch.encode();
        let again = BatchIn::decode(&packed).unwrap();
        assert_eq!(again.jobs.len(), 3);
        assert!(again.jobs.iter().zip(&batch.jobs).all(|((a, x), (b, y))| a.seq == b.seq && x == y));
        let want = batch.run();
        let got = BatchOut::decode(again.run().encode().into()).unwrap();
        assert_eq!(got.results.len(), 3);
        for ((s1, r1), (s2, r2)) in got.results.iter().zip(&want.results) {
            assert_eq!((s1, r1), (s2, r2));
        }
        let d = got.results[0].1.as_ref().unwrap();
        assert_eq!(
            (&d.data[..1000], &d.data[1000..1024], &d.data[1024..]),
            (&[5u8; 1000][..], &[0u8; 24][..], &[7u8; 1024][..])
        );
        assert_eq!(got.results[2].1.as_ref().unwrap().blocks, vec![None], "an all-zero block has no hash");
        let e = got.results[1].1.as_ref().unwrap_err();
        assert_eq!((e.kind, e.file.as_str(), e.offset), (ErrorKind::Corrupt, "g.vmdk", Some(99)));
        // Cut short or padded: refused.
        assert!(BatchIn::decode(&packed[..packed.len() - 1]).is_err());
        let mut longer = want.encode();
        longer.push(0);
        assert!(BatchOut::decode(longer.into()).unwrap_err().message.contains("left over"));
    }

    #[test]
    fn errors_keep_their_code_and_args_between_workers() {
        let e = Error::truncated("d.vmdk", 512, 4096, 1000, "cut off").with_code(crate::error::ErrorCode::Truncated);
        let missing = Error::missing("d.vmdk", "d-flat.vmdk", crate::error::Referent::Extent);
        let out = BatchOut { results: vec![(1, Err(e.clone())), (2, Err(missing.clone()))] };
        let back = BatchOut::decode(out.encode().into()).unwrap();
        assert_eq!(back.results[0].1.as_ref().unwrap_err(), &e);
        assert_eq!(back.results[1].1.as_ref().unwrap_err(), &missing);
        let e = back.results[0].1.as_ref().unwrap_err();
        assert_eq!((e.code.as_str(), e.args.needed, e.args.size), ("truncated", Some(4096), Some(1000)));
    }

    /// The CLI's fast inflater gives exactly what zlib-rs gives, on grains good and bad:
    /// whole, short of their size, longer than it (a bomb), cut off anywhere, with bytes
    /// flipped, a bad header or checksum, bytes after the stream; and it is the one that
    /// inflates every good grain (else the comparison would prove nothing).
    #[cfg(feature = "native")]
    #[test]
    fn the_fast_inflater_agrees_with_zlib_rs_on_every_grain() {
        use flate2::{write::ZlibEncoder, Compression};
        use std::io::Write;
        let zlib = |data: &[u8], level: u32| {
            let mut z = ZlibEncoder::new(Vec::new(), Compression::new(level));
            z.write_all(data).unwrap();
            z.finish().unwrap()
        };
        let noise = crate::testdata::noise(65536, 7);
        let text: Vec<u8> = b"stackferry moves disks ".iter().cycle().take(65536).copied().collect();
        let mixed: Vec<u8> = text[..30000].iter().chain(&noise[..20000]).chain(&[0u8; 15536]).copied().collect();
        type Inflater = fn(&[u8], &mut [MaybeUninit<u8>], &str, u64) -> Result<usize>;
        let inflate = |f: Inflater, input: &[u8], size: usize| {
            let mut out = vec![0u8; size];
            // SAFETY: initialised memory seen as possibly uninitialised; only bytes are written.
            let view = unsafe { &mut *(&mut out[..] as *mut [u8] as *mut [MaybeUninit<u8>]) };
            f(input, view, "g.vmdk", 512).map(|n| out[..n].to_vec())
        };
        let mut cases = 0;
        for data in [&text[..], &noise[..], &mixed[..], &[0u8; 65536][..], &text[..1000]] {
            for level in [0, 1, 6, 9] {
                let good = zlib(data, level);
                let mut inputs = vec![good.clone(), [&good[..], &[1, 2, 3][..]].concat()];
                inputs.extend((0..good.len()).step_by(good.len().div_ceil(23)).map(|k| good[..k].to_vec()));
                for k in (0..good.len()).step_by(good.len().div_ceil(31)) {
                    let mut bad = good.clone();
                    bad[k] ^= 0x5a;
                    inputs.push(bad);
                }
                let mut sum = good.clone();
                *sum.last_mut().unwrap() ^= 1;
                inputs.push(sum);
                for input in &inputs {
                    for size in [data.len(), data.len() - 1, data.len() + 100, 65536] {
                        let want = inflate(inflate_grain_zlib, input, size);
                        assert_eq!(inflate(inflate_grain, input, size), want, "level {level}, size {size}");
                        cases += 1;
                    }
                }
                let mut out = vec![MaybeUninit::uninit(); data.len()];
                let n = crate::libdeflate::zlib_inflate(&good, &mut out).expect("libdeflate inflates a good grain");
                assert_eq!(n, data.len());
                let bomb = zlib(&[0u8; 1 << 20], 9);
                assert!(crate::libdeflate::zlib_inflate(&bomb, &mut out).is_none(), "a bomb is declined");
            }
        }
        assert!(cases > 1000, "{cases}");
    }
}
