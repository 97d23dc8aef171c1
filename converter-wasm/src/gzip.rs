//! gzip (RFC 1952) members as random-access [`Source`]s: OVF `ovf:compression="gzip"` file
//! references, where a whole VMDK was gzip-compressed.
//!
//! gzip has no index, so random access is emulated with a single forward cursor (a flate2
//! `Decompress` behind a `RefCell`): a read at or after the cursor inflates forward, discarding
//! the bytes it skips; a read before the cursor restarts from the first member. A VMDK reader
//! goes mostly front to back, so this costs about one inflate pass per pass of the reader.
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
//! one skip buffer (64 KiB each), and the inflate state (32 KiB window) per source.
//!
//! The gzip header is parsed by hand (it is 10 bytes plus optional fields, RFC 1952 §2.3);
//! the deflate data is inflated by flate2.

use crate::bytes::{le16, le32};
use crate::error::{Error, Result};
use crate::source::{check_range, Source, SourceRef};
use flate2::{Crc, Decompress, FlushDecompress, Status};
use std::cell::RefCell;
use std::sync::Arc;

/// Largest inflated size accepted. A gzip member in an OVF holds one VMDK file; VMDK capacity
/// is at most 62 TiB (VMFS 6 limit), and its file is never larger than capacity plus metadata,
/// so more than 64 TiB of output is not a disk but a deflate bomb.
pub const MAX_INFLATED_SIZE: u64 = 64 << 40;

/// Inflated bytes kept from the end of the measuring pass (stream-optimized VMDK footer, grain
/// directory and grain tables are at the end of the file).
pub const TAIL_KEEP: usize = 1 << 20;

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
    cur: RefCell<Cursor>,
}

/// The forward inflate position.
struct Cursor {
    z: Decompress,
    /// Next compressed byte not yet given to `z` (absolute offset in `inner`).
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
}

impl Cursor {
    fn new() -> Self {
        Cursor {
            z: Decompress::new(false),
            in_pos: 0,
            out_pos: 0,
            inbuf: vec![0; IN_BUF],
            in_start: 0,
            in_end: 0,
            in_member: false,
            member_out: 0,
            crc: Crc::new(),
            skip: Vec::new(),
        }
    }

    fn restart(&mut self) {
        self.z.reset(false);
        self.in_pos = 0;
        self.out_pos = 0;
        self.in_start = 0;
        self.in_end = 0;
        self.in_member = false;
        self.member_out = 0;
        self.crc.reset();
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
        let mut g = GzipSource {
            name: name.into(),
            inner,
            len: 0,
            tail_start: 0,
            tail: Vec::new(),
            cur: RefCell::new(Cursor::new()),
        };
        g.measure(limit)?;
        // Sources are single-threaded by design (see `Source`): the cursor is a RefCell.
        #[allow(clippy::arc_with_non_send_sync)]
        Ok(Arc::new(g))
    }

    /// The compressed file this reads.
    pub fn compressed(&self) -> &SourceRef {
        &self.inner
    }

    /// The measuring pass: inflate everything, checking sizes and CRCs, keeping the tail.
    fn measure(&mut self, limit: u64) -> Result<()> {
        let mut ring = vec![0u8; TAIL_KEEP];
        let mut chunk = vec![0u8; IN_BUF];
        let mut c = Cursor::new();
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
                c.z.reset(false);
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
            let (bi, bo) = (c.z.total_in(), c.z.total_out());
            let status =
                c.z.decompress(&c.inbuf[c.in_start..c.in_end], out, FlushDecompress::None)
                    .map_err(|e| Error::corrupt(f, c.in_pos, format!("deflate data is corrupt: {e}")))?;
            let used = (c.z.total_in() - bi) as usize;
            let made = (c.z.total_out() - bo) as usize;
            c.in_start += used;
            c.in_pos += used as u64;
            c.out_pos += made as u64;
            c.member_out += made as u64;
            if check {
                c.crc.update(&out[..made]);
            }
            if status == Status::StreamEnd {
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
        if offset < c.out_pos {
            c.restart();
        }
        let mut skip = std::mem::take(&mut c.skip);
        skip.resize(IN_BUF, 0);
        let result = (|| {
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
            c.restart();
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
        src.read_exact_at(0, &mut got).unwrap();
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
