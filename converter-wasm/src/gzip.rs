//! gzip (RFC 1952) members as random-access [`Source`]s: OVF `ovf:compression="gzip"` file
//! references, where a whole VMDK was gzip-compressed.
//!
//! gzip has no index, so random access is emulated with a forward cursor (behind a `RefCell`)
//! and **checkpoints**: a read at or a little after the cursor inflates forward, discarding the
//! bytes it skips; any other read resumes from the last checkpoint at or before it. The
//! measuring pass (below) saves the inflater's whole state (its 32 KiB window and the decoder)
//! every [`MIN_CHECKPOINT_SPACING`] inflated bytes or more — at most [`MAX_CHECKPOINTS`], the
//! spacing doubling as the file grows — so a read out of order costs at most one spacing of
//! inflating, not a pass from the start. Without them a VMDK whose grains are stored backwards
//! (or guest inspection, which reads file-system metadata all over the disk) re-inflated from
//! the first byte for every read: quadratic. Even so, reading far out of order repeats work, so
//! the bytes inflated again are bounded ([`reinflate_budget`]): past it, a clear error says to
//! gunzip the file first.
//!
//! The inflater is miniz_oxide's core decoder, not flate2's `Decompress` (zlib-rs): only its
//! state can be copied (it is `Clone`), which a checkpoint needs; zlib-rs offers that through
//! an `unsafe` C-style API only.
//!
//! **Length.** The OVF `ovf:size` is the *compressed* size, and nothing in the package states
//! the inflated size reliably: the gzip ISIZE trailer holds it only modulo 2^32 (wrong for any
//! file of 4 GiB or more) and only for the last member of a multi-member file. A VMDK reader
//! needs the exact length (stream-optimized disks keep their footer at the end), so
//! [`GzipSource::open`] makes one forward pass to measure it. ISIZE is used only as a check:
//! each member's ISIZE must equal its measured length modulo 2^32, and its CRC-32 must match,
//! so a corrupt member is reported when the package is opened, not half-way through a
//! conversion. The measuring pass keeps the last [`TAIL_KEEP`] inflated bytes, so the footer,
//! grain directory and grain tables of a stream-optimized VMDK (all near its end) are served
//! without inflating the whole file again.
//!
//! **Limits.** Inflating stops with a `TooLarge` error once more than the limit
//! ([`MAX_INFLATED_SIZE`] unless the caller gives a smaller one) would come out: a deflate
//! bomb is reported, not inflated forever. Memory: the tail (≤ 1 MiB), one input buffer and
//! one skip buffer (64 KiB each), the inflate state (32 KiB window and about 11 KiB of decoder)
//! and up to [`MAX_CHECKPOINTS`] copies of it (≤ 5.5 MiB) per source.
//!
//! The gzip header is parsed by hand (it is 10 bytes plus optional fields, RFC 1952 §2.3).

use crate::bytes::{le16, le32};
use crate::error::{Error, Result};
use crate::source::{check_range, Source, SourceRef};
use flate2::Crc;
use miniz_oxide::inflate::core::{decompress_with_limit, inflate_flags, DecompressorOxide, TINFL_LZ_DICT_SIZE};
use miniz_oxide::inflate::TINFLStatus;
use std::cell::RefCell;
use std::sync::Arc;

/// Largest inflated size accepted. A gzip member in an OVF holds one VMDK file; VMDK capacity
/// is at most 62 TiB (VMFS 6 limit), and its file is never larger than capacity plus metadata,
/// so more than 64 TiB of output is not a disk but a deflate bomb.
pub const MAX_INFLATED_SIZE: u64 = 64 << 40;

/// Inflated bytes kept from the end of the measuring pass (stream-optimized VMDK footer, grain
/// directory and grain tables are at the end of the file).
pub const TAIL_KEEP: usize = 1 << 20;

/// Checkpoints are at least this many inflated bytes apart (then 2×, 4×... as the file grows).
pub const MIN_CHECKPOINT_SPACING: u64 = 4 << 20;

/// Most checkpoints kept per source (each about 43 KiB).
pub const MAX_CHECKPOINTS: usize = 128;

/// How many bytes reads may inflate again in all (skipping forward to what they want) before
/// the source refuses: 16 passes over the file, and at least 1 GiB.
pub fn reinflate_budget(len: u64) -> u64 {
    len.saturating_mul(16).max(1 << 30)
}

/// Bytes of compressed input read at a time.
const IN_BUF: usize = 64 << 10;

/// Longest optional FNAME/FCOMMENT/FEXTRA field we scan (RFC 1952 sets no limit; real files
/// hold a file name of a few dozen bytes).
const MAX_HEADER_FIELD: u64 = 64 << 10;

/// gzip magic (ID1, ID2), RFC 1952 §2.3.1.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// CM = 8: deflate, the only compression method gzip defines.
const CM_DEFLATE: u8 = 8;
/// FLG bits, RFC 1952 §2.3.1.
const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;
/// Bits 5..7 of FLG are reserved and must be zero.
const FLG_RESERVED: u8 = 0xe0;
/// Fixed part of the member header: ID1 ID2 CM FLG MTIME(4) XFL OS.
const HEADER_LEN: u64 = 10;
/// Member trailer: CRC32(4) ISIZE(4), little-endian.
const TRAILER_LEN: u64 = 8;

/// True when `src` starts with the gzip magic.
pub fn is_gzip(src: &dyn Source) -> bool {
    let mut m = [0u8; 2];
    src.len() >= 2 && src.read_exact_at(0, &mut m).is_ok() && m == GZIP_MAGIC
}

/// A gzip file read as its inflated bytes.
pub struct GzipSource {
    name: String,
    inner: SourceRef,
    len: u64,
    /// Inflated offset where `tail` starts.
    tail_start: u64,
    tail: Vec<u8>,
    /// Saved cursor positions, by increasing `out_pos`, the first at 0.
    checkpoints: Vec<Checkpoint>,
    spacing: u64,
    /// [`reinflate_budget`] of `len`.
    budget: u64,
    cur: RefCell<Cursor>,
}

/// Raw deflate (RFC 1951) with a state that can be copied: miniz_oxide's decoder writing into a
/// 32 KiB ring (the window back-references read from).
#[derive(Clone)]
struct Inflater {
    d: Box<DecompressorOxide>,
    window: Vec<u8>,
    /// Where the next inflated byte goes in `window`.
    at: usize,
}

impl Inflater {
    fn new() -> Self {
        Inflater { d: Box::default(), window: vec![0; TINFL_LZ_DICT_SIZE], at: 0 }
    }

    /// Start a new deflate stream (a new gzip member).
    fn reset(&mut self) {
        self.d.init();
        self.at = 0;
    }

    /// Inflate from `input` into `out`: (input bytes used, bytes made, the stream ended).
    fn inflate(&mut self, input: &[u8], out: &mut [u8]) -> std::result::Result<(usize, usize, bool), TINFLStatus> {
        // Up to the end of the ring only, so what was made is one slice of it.
        let room = out.len().min(self.window.len() - self.at);
        let flags = inflate_flags::TINFL_FLAG_HAS_MORE_INPUT;
        let (status, used, made) = decompress_with_limit(&mut self.d, input, &mut self.window, self.at, room, flags);
        out[..made].copy_from_slice(&self.window[self.at..self.at + made]);
        self.at = (self.at + made) % self.window.len();
        match status {
            TINFLStatus::Done => Ok((used, made, true)),
            TINFLStatus::NeedsMoreInput | TINFLStatus::HasMoreOutput => Ok((used, made, false)),
            failed => Err(failed),
        }
    }
}

/// A cursor position to resume from: the inflater's state and where it stood.
#[derive(Clone)]
struct Checkpoint {
    inf: Inflater,
    in_pos: u64,
    out_pos: u64,
    in_member: bool,
    member_out: u64,
}

/// The forward inflate position.
struct Cursor {
    inf: Inflater,
    /// Next compressed byte not yet given to `inf` (absolute offset in `inner`).
    in_pos: u64,
    /// Inflated bytes produced so far (across members).
    out_pos: u64,
    inbuf: Vec<u8>,
    in_start: usize,
    in_end: usize,
    /// Inside a member's deflate data (false at a member boundary).
    in_member: bool,
    /// Inflated bytes of the current member, and its CRC (checked in the measuring pass).
    member_out: u64,
    crc: Crc,
    /// Buffer for bytes skipped over.
    skip: Vec<u8>,
    /// Bytes inflated again by reads so far (see [`reinflate_budget`]).
    reinflated: u64,
}

impl Cursor {
    fn new() -> Self {
        Cursor {
            inf: Inflater::new(),
            in_pos: 0,
            out_pos: 0,
            inbuf: vec![0; IN_BUF],
            in_start: 0,
            in_end: 0,
            in_member: false,
            member_out: 0,
            crc: Crc::new(),
            skip: Vec::new(),
            reinflated: 0,
        }
    }

    /// Continue from `cp` (CRCs are checked only in the measuring pass, so none is kept).
    fn resume(&mut self, cp: &Checkpoint) {
        self.inf.clone_from(&cp.inf);
        self.in_pos = cp.in_pos;
        self.out_pos = cp.out_pos;
        self.in_start = 0;
        self.in_end = 0;
        self.in_member = cp.in_member;
        self.member_out = cp.member_out;
    }

    fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            inf: self.inf.clone(),
            in_pos: self.in_pos,
            out_pos: self.out_pos,
            in_member: self.in_member,
            member_out: self.member_out,
        }
    }
}

impl GzipSource {
    /// Measure `inner` (one forward pass, checking every member's CRC-32 and ISIZE) and return
    /// it as a source of its inflated bytes named `name`, with the default limit.
    pub fn open(inner: SourceRef, name: impl Into<String>) -> Result<SourceRef> {
        Self::open_with_limit(inner, name, MAX_INFLATED_SIZE)
    }

    /// As [`open`](Self::open), refusing more than `limit` inflated bytes.
    pub fn open_with_limit(inner: SourceRef, name: impl Into<String>, limit: u64) -> Result<SourceRef> {
        let g = Self::measured(inner, name.into(), limit, MIN_CHECKPOINT_SPACING)?;
        // Sources are single-threaded by design (see `Source`): the cursor is a RefCell.
        #[allow(clippy::arc_with_non_send_sync)]
        Ok(Arc::new(g))
    }

    /// The source after its measuring pass, checkpoints `spacing` or more apart.
    fn measured(inner: SourceRef, name: String, limit: u64, spacing: u64) -> Result<Self> {
        let mut g = GzipSource {
            name,
            inner,
            len: 0,
            tail_start: 0,
            tail: Vec::new(),
            checkpoints: Vec::new(),
            spacing,
            budget: 0,
            cur: RefCell::new(Cursor::new()),
        };
        g.measure(limit)?;
        g.budget = reinflate_budget(g.len);
        Ok(g)
    }

    /// The compressed file this reads.
    pub fn compressed(&self) -> &SourceRef {
        &self.inner
    }

    /// The measuring pass: inflate everything, checking sizes and CRCs, keeping the tail and
    /// saving checkpoints.
    fn measure(&mut self, limit: u64) -> Result<()> {
        let mut ring = vec![0u8; TAIL_KEEP];
        let mut chunk = vec![0u8; IN_BUF];
        let mut c = Cursor::new();
        self.checkpoints.push(c.checkpoint());
        if self.inner.len() < HEADER_LEN + TRAILER_LEN {
            return Err(Error::truncated(
                self.inner.name(),
                0,
                HEADER_LEN + TRAILER_LEN,
                self.inner.len(),
                "too short for a gzip file",
            ));
        }
        loop {
            let n = self.inflate_some(&mut c, &mut chunk, true)?;
            if n == 0 {
                break;
            }
            if c.out_pos > limit {
                return Err(Error::over_limit(
                    self.inner.name(),
                    Some(c.in_pos),
                    c.out_pos,
                    limit,
                    format!("gzip data inflates past the limit of {limit} bytes (a deflate bomb or not a disk); stopped there"),
                ));
            }
            // Copy into the ring at the inflated offset modulo its size.
            // (`n` ≤ IN_BUF < TAIL_KEEP, so a chunk wraps at most once.)
            let at = ((c.out_pos - n as u64) % TAIL_KEEP as u64) as usize;
            let first = n.min(TAIL_KEEP - at);
            ring[at..at + first].copy_from_slice(&chunk[..first]);
            ring[..n - first].copy_from_slice(&chunk[first..n]);
            if c.out_pos >= self.checkpoints.last().map_or(0, |p| p.out_pos) + self.spacing {
                if self.checkpoints.len() == MAX_CHECKPOINTS {
                    // Keep every other one (the first, at 0, stays): twice the spacing.
                    let mut i = 0;
                    self.checkpoints.retain(|_| (i % 2 == 0, i += 1).0);
                    self.spacing *= 2;
                }
                self.checkpoints.push(c.checkpoint());
            }
        }
        self.len = c.out_pos;
        let tail_len = self.len.min(TAIL_KEEP as u64);
        self.tail_start = self.len - tail_len;
        self.tail = (0..tail_len).map(|i| ring[((self.tail_start + i) % TAIL_KEEP as u64) as usize]).collect();
        Ok(())
    }

    /// Parse the member header at `off`; returns its length. RFC 1952 §2.3.
    fn parse_header(&self, off: u64) -> Result<u64> {
        let f = self.inner.name();
        let mut h = [0u8; HEADER_LEN as usize];
        check_range(self.inner.as_ref(), off, HEADER_LEN).map_err(|_| {
            Error::truncated(f, off, off + HEADER_LEN, self.inner.len(), "gzip member header is cut off")
        })?;
        self.inner.read_exact_at(off, &mut h)?;
        if h[0..2] != GZIP_MAGIC {
            return Err(Error::corrupt(
                f,
                off,
                format!("not a gzip member (magic {:02x} {:02x}, expected 1f 8b)", h[0], h[1]),
            ));
        }
        if h[2] != CM_DEFLATE {
            return Err(Error::unsupported(
                f,
                Some(off + 2),
                format!("gzip compression method {} (only 8, deflate, exists)", h[2]),
            ));
        }
        let flg = h[3];
        if flg & FLG_RESERVED != 0 {
            return Err(Error::corrupt(f, off + 3, format!("gzip header flags 0x{flg:02x} have reserved bits set")));
        }
        let mut pos = off + HEADER_LEN;
        if flg & FEXTRA != 0 {
            let mut xlen = [0u8; 2];
            check_range(self.inner.as_ref(), pos, 2)?;
            self.inner.read_exact_at(pos, &mut xlen)?;
            pos = pos
                .checked_add(2 + u64::from(le16(&xlen, 0)))
                .ok_or_else(|| Error::corrupt(f, pos, "gzip extra field overflows"))?;
        }
        for (bit, what) in [(FNAME, "file name"), (FCOMMENT, "comment")] {
            if flg & bit != 0 {
                pos = self.skip_zero_terminated(pos, what)?;
            }
        }
        if flg & FHCRC != 0 {
            pos += 2;
        }
        if pos > self.inner.len() {
            return Err(Error::truncated(
                f,
                off,
                pos,
                self.inner.len(),
                "gzip member header runs past the end of the file",
            ));
        }
        Ok(pos - off)
    }

    /// Skip a zero-terminated header field starting at `pos`; returns the offset after the NUL.
    fn skip_zero_terminated(&self, pos: u64, what: &str) -> Result<u64> {
        let f = self.inner.name();
        let avail = self.inner.len().saturating_sub(pos).min(MAX_HEADER_FIELD + 1);
        let mut buf = vec![0u8; avail as usize];
        self.inner.read_exact_at(pos, &mut buf)?;
        match buf.iter().position(|&b| b == 0) {
            Some(i) => Ok(pos + i as u64 + 1),
            None if avail > MAX_HEADER_FIELD => {
                Err(Error::corrupt(f, pos, format!("gzip header {what} is longer than {MAX_HEADER_FIELD} bytes")))
            }
            None => Err(Error::truncated(
                f,
                pos,
                self.inner.len() + 1,
                self.inner.len(),
                format!("gzip header {what} is not terminated"),
            )),
        }
    }

    /// Produce up to `out.len()` inflated bytes at the cursor, crossing member boundaries.
    /// Returns 0 only at the end of the last member. `check` verifies CRC-32 and ISIZE of each
    /// member as it ends (the measuring pass).
    fn inflate_some(&self, c: &mut Cursor, out: &mut [u8], check: bool) -> Result<usize> {
        let f = self.inner.name();
        let total = self.inner.len();
        loop {
            if !c.in_member {
                if c.in_pos >= total {
                    return Ok(0);
                }
                if c.in_pos > 0 {
                    // After a member: only another member may follow.
                    let mut m = [0u8; 2];
                    if total - c.in_pos < 2 || {
                        self.inner.read_exact_at(c.in_pos, &mut m)?;
                        m != GZIP_MAGIC
                    } {
                        return Err(Error::corrupt(f, c.in_pos, "unexpected bytes after the end of the gzip data"));
                    }
                }
                let hl = self.parse_header(c.in_pos)?;
                c.in_pos += hl;
                c.in_start = 0;
                c.in_end = 0;
                c.inf.reset();
                c.in_member = true;
                c.member_out = 0;
                c.crc.reset();
            }
            if c.in_start == c.in_end {
                let n = (total - c.in_pos).min(IN_BUF as u64) as usize;
                if n == 0 {
                    return Err(Error::truncated(
                        f,
                        c.in_pos,
                        total + 1,
                        total,
                        "gzip data ends before its end-of-stream marker",
                    ));
                }
                self.inner.read_exact_at(c.in_pos, &mut c.inbuf[..n])?;
                c.in_start = 0;
                c.in_end = n;
            }
            let (used, made, ended) = c
                .inf
                .inflate(&c.inbuf[c.in_start..c.in_end], out)
                .map_err(|e| Error::corrupt(f, c.in_pos, format!("deflate data is corrupt ({e:?})")))?;
            c.in_start += used;
            c.in_pos += used as u64;
            c.out_pos += made as u64;
            c.member_out += made as u64;
            if check {
                c.crc.update(&out[..made]);
            }
            if ended {
                let mut t = [0u8; TRAILER_LEN as usize];
                check_range(self.inner.as_ref(), c.in_pos, TRAILER_LEN).map_err(|_| {
                    Error::truncated(
                        f,
                        c.in_pos,
                        c.in_pos + TRAILER_LEN,
                        total,
                        "gzip member trailer (CRC-32, ISIZE) is cut off",
                    )
                })?;
                self.inner.read_exact_at(c.in_pos, &mut t)?;
                if check {
                    let crc = le32(&t, 0);
                    let isize = le32(&t, 4);
                    if crc != c.crc.sum() {
                        return Err(Error::corrupt(
                            f,
                            c.in_pos,
                            format!("gzip CRC-32 {:08x} does not match the inflated data ({:08x})", crc, c.crc.sum()),
                        ));
                    }
                    if isize as u64 != c.member_out & 0xffff_ffff {
                        return Err(Error::corrupt(
                            f,
                            c.in_pos + 4,
                            format!("gzip ISIZE {isize} does not match the {} bytes inflated (mod 2^32)", c.member_out),
                        ));
                    }
                }
                c.in_pos += TRAILER_LEN;
                c.in_member = false;
                c.in_start = 0;
                c.in_end = 0;
                if made > 0 {
                    return Ok(made);
                }
                continue;
            }
            if made > 0 {
                return Ok(made);
            }
            if used == 0 {
                // Input available, output room, no progress: the stream cannot go on.
                return Err(Error::corrupt(f, c.in_pos, "deflate data makes no progress"));
            }
        }
    }
}

impl Source for GzipSource {
    fn name(&self) -> &str {
        &self.name
    }
    fn len(&self) -> u64 {
        self.len
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        check_range(self, offset, buf.len() as u64)?;
        if buf.is_empty() {
            return Ok(());
        }
        if offset >= self.tail_start {
            let s = (offset - self.tail_start) as usize;
            buf.copy_from_slice(&self.tail[s..s + buf.len()]);
            return Ok(());
        }
        let mut c = self.cur.borrow_mut();
        let c = &mut *c;
        // Resume from the checkpoint before `offset` unless the cursor is nearer (a forward read).
        let i = self.checkpoints.partition_point(|p| p.out_pos <= offset);
        let cp = &self.checkpoints[i.saturating_sub(1)];
        if offset < c.out_pos || cp.out_pos > c.out_pos {
            c.resume(cp);
        }
        let mut skip = std::mem::take(&mut c.skip);
        skip.resize(IN_BUF, 0);
        let result = (|| {
            let budget = self.budget;
            c.reinflated += offset - c.out_pos;
            if c.reinflated > budget {
                return Err(Error::over_limit(
                    &self.name,
                    Some(offset),
                    c.reinflated,
                    budget,
                    format!(
                        "reads jump around this gzip-compressed file so much that it would be inflated more than {} times over \
                         (its grains are stored out of order?); gunzip it and open the uncompressed file instead",
                        budget / self.len.max(1)
                    ),
                ));
            }
            while c.out_pos < offset {
                // Bound in u64 first: the distance may pass 4 GiB, which wasm32's usize cannot hold.
                let want = (offset - c.out_pos).min(skip.len() as u64) as usize;
                if self.inflate_some(c, &mut skip[..want], false)? == 0 {
                    return Err(Error::truncated(
                        &self.name,
                        c.out_pos,
                        self.len,
                        c.out_pos,
                        "gzip data ended early (it changed since it was measured?)",
                    ));
                }
            }
            let mut filled = 0;
            while filled < buf.len() {
                let n = self.inflate_some(c, &mut buf[filled..], false)?;
                if n == 0 {
                    return Err(Error::truncated(
                        &self.name,
                        c.out_pos,
                        self.len,
                        c.out_pos,
                        "gzip data ended early (it changed since it was measured?)",
                    ));
                }
                filled += n;
            }
            Ok(())
        })();
        c.skip = skip;
        if result.is_err() {
            // Leave a clean cursor behind for the next read.
            c.resume(&self.checkpoints[0]);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemSource;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn pattern(n: usize) -> Vec<u8> {
        let mut x: u32 = 12345;
        (0..n)
            .map(|i| {
                x = x.wrapping_mul(1103515245).wrapping_add(12345);
                if i % 7000 < 3000 {
                    0
                } else {
                    (x >> 16) as u8
                }
            })
            .collect()
    }

    #[test]
    fn reads_forward_backward_and_tail() {
        let data = pattern(3 << 20);
        let src = GzipSource::open(MemSource::new("d.vmdk.gz", gz(&data)), "d.vmdk").unwrap();
        assert_eq!(src.len(), data.len() as u64);
        for &(off, len) in &[
            (0usize, 100usize),
            (5000, 70000),
            (100, 10),
            ((3 << 20) - 1, 1),
            (2_500_000, 600_000),
            (1_000_000, 4096),
            (999_999, 2),
        ] {
            let mut b = vec![0u8; len];
            src.read_exact_at(off as u64, &mut b).unwrap();
            assert_eq!(b, &data[off..off + len], "at {off}");
        }
        let mut b = [0u8; 2];
        assert_eq!(src.read_exact_at(data.len() as u64 - 1, &mut b).unwrap_err().kind, crate::ErrorKind::Truncated);
    }

    /// Grains stored backwards: every read is before the last. Checkpoints bound what each read
    /// inflates again (here 64 KiB apart at first, thinned to at most MAX_CHECKPOINTS).
    #[test]
    fn backward_reads_resume_from_checkpoints() {
        let data = pattern(24 << 20);
        let file = MemSource::new("back.vmdk.gz", gz(&data));
        let g = GzipSource::measured(file, "back.vmdk".into(), MAX_INFLATED_SIZE, 64 << 10).unwrap();
        // 384 checkpoints wanted: thinned (every other one dropped, spacing doubled) until the
        // file fits in MAX_CHECKPOINTS of them; the first stays at 0, the last near the end.
        let mut spacing = 64 << 10;
        while (data.len() as u64) / spacing >= MAX_CHECKPOINTS as u64 {
            spacing *= 2;
        }
        assert_eq!(g.spacing, spacing);
        assert!(g.checkpoints.len() <= MAX_CHECKPOINTS);
        assert_eq!(g.checkpoints[0].out_pos, 0);
        assert!(g.checkpoints.windows(2).all(|w| w[1].out_pos - w[0].out_pos >= g.spacing / 2));
        assert!(g.checkpoints.last().unwrap().out_pos + 2 * g.spacing >= data.len() as u64);
        let block = 64 << 10;
        let mut b = vec![0u8; block];
        for off in (0..data.len() - (1 << 20)).step_by(block).rev() {
            g.read_exact_at(off as u64, &mut b).unwrap();
            assert_eq!(b, &data[off..off + block], "at {off}");
        }
        // Each read inflates again at most one spacing: 367 reads × 256 KiB, not 367 × 12 MiB.
        let reads = (data.len() - (1 << 20)) / block;
        let again = g.cur.borrow().reinflated;
        assert!(again <= (reads as u64) * g.spacing, "{again} bytes inflated again for {reads} reads");
    }

    /// Past the budget of bytes inflated again, a read fails clearly, naming the file and offset.
    #[test]
    fn reading_far_out_of_order_is_bounded() {
        let data = pattern(8 << 20);
        let mut g =
            GzipSource::measured(MemSource::new("b.gz", gz(&data)), "b.vmdk".into(), MAX_INFLATED_SIZE, 64 << 20)
                .unwrap();
        assert_eq!(g.checkpoints.len(), 1);
        g.budget = 20 << 20;
        let mut b = [0u8; 512];
        let e = (0..8)
            .rev()
            .map(|i| g.read_exact_at((i << 20) + 4096, &mut b))
            .find_map(|r| r.err())
            .expect("the budget ends the reads");
        assert_eq!(e.kind, crate::ErrorKind::TooLarge);
        assert!(e.to_string().starts_with("b.vmdk: ") && e.message.contains("gunzip"), "{e}");
        // The cursor is usable again: a forward read from the start still works.
        g.budget = u64::MAX;
        g.read_exact_at(0, &mut b).unwrap();
        assert_eq!(b, &data[..512]);
    }

    #[test]
    fn multi_member_and_header_fields() {
        let a = pattern(100_000);
        let b = pattern(50_000);
        let mut e =
            flate2::GzBuilder::new().filename("disk.vmdk").comment("hello").write(Vec::new(), Compression::default());
        e.write_all(&a).unwrap();
        let mut file = e.finish().unwrap();
        file.extend(gz(&b));
        let src = GzipSource::open(MemSource::new("x.gz", file), "x").unwrap();
        assert_eq!(src.len(), 150_000);
        let mut got = vec![0u8; 150_000];
        // The second member first, then back into the first.
        src.read_exact_at(120_000, &mut got[120_000..]).unwrap();
        src.read_exact_at(0, &mut got[..120_000]).unwrap();
        assert_eq!(&got[..100_000], &a[..]);
        assert_eq!(&got[100_000..], &b[..]);
    }

    #[test]
    fn corrupt_crc_and_trailing_garbage_and_bomb() {
        let data = pattern(200_000);
        let mut file = gz(&data);
        let n = file.len();
        file[n - 8] ^= 1;
        let e = GzipSource::open(MemSource::new("c.gz", file), "c").err().unwrap();
        assert_eq!(e.kind, crate::ErrorKind::Corrupt);
        assert!(e.message.contains("CRC-32"), "{e}");

        let mut file = gz(&data);
        file.extend_from_slice(b"junk");
        let e = GzipSource::open(MemSource::new("g.gz", file), "g").err().unwrap();
        assert!(e.message.contains("after the end"), "{e}");

        let zeros = vec![0u8; 4 << 20];
        let e = GzipSource::open_with_limit(MemSource::new("bomb.gz", gz(&zeros)), "bomb", 1 << 20).err().unwrap();
        assert_eq!(e.kind, crate::ErrorKind::TooLarge);
        assert!(e.to_string().starts_with("bomb.gz: "), "{e}");

        let file = gz(&data);
        let e = GzipSource::open(MemSource::new("t.gz", file[..file.len() / 2].to_vec()), "t").err().unwrap();
        assert_eq!(e.kind, crate::ErrorKind::Truncated, "{e}");
    }
}
