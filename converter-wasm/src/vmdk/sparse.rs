//! Hosted sparse extents (magic `KDMV`; VMware "Virtual Disk Format 5.0", "Hosted Sparse
//! Extents"): a monolithicSparse file, each `-sNNN` extent of a twoGbMaxExtentSparse disk, and
//! (with compressed grains, see [`super::stream`]) streamOptimized files.
//!
//! Guest data is cut into grains (`grainSize` sectors). A grain directory (GD) of u32 sector
//! offsets points at grain tables (GTs) of `numGTEsPerGT` u32 entries (GTEs), each the sector of
//! one grain: 0 = not allocated in this extent (the parent's data, or zeros), 1 with the
//! zeroed-grain flag = reads as zeros, anything else = where the grain is (for compressed
//! grains: where its marker is). The primary GD is used; a redundant copy (`rgdOffset`) is
//! only compared, with a warning when it differs.
//!
//! Memory: the GD is held (at most `MAX_GD_ENTRIES` u32s, 4 bytes per 32 MiB of guest at the
//! usual 64 KiB grains); grain tables are read lazily into an LRU cache of
//! [`GT_CACHE_ENTRIES`] tables per extent of a split disk, [`GT_CACHE_ENTRIES_ONE_FILE`] for
//! a disk in one file (2 KiB each at 512 entries, twice that for compressed extents, which
//! also keep the table sorted: at most 64 KiB per extent, 4 MiB per file). Opening
//! scans every GT once, through a window of [`SCAN_WINDOW_BYTES`], to count allocated grains
//! and to check that every GT and grain lies inside the file, so a damaged file fails before
//! conversion starts. Hand-written parsing (no crate does VMDK).

use super::header::{SparseExtentHeader, HEADER_LEN};
use super::stream;
use super::tables::Lru;
use crate::bytes::le_entries;
use crate::error::{Error, Result};
use crate::image::{push_run, Mapper, Run, RunKind};
use crate::notice::{Notice, WarnCode};
use crate::source::{read_vec, Source, SourceRef};
use crate::units::{GrainIndex, GuestOffset, HostOffset, Sectors};
use std::cell::RefCell;
use std::rc::Rc;

/// Grain tables kept in the LRU cache of each extent of a disk split into several files
/// (qemu's `L2_CACHE_SIZE` is 16 as well).
pub const GT_CACHE_ENTRIES: usize = 16;
/// Grain tables kept for a disk in one file (monolithicSparse, streamOptimized: what OVAs
/// hold): 4 KiB each with their sorted copy, so at most 4 MiB, and all the tables of a disk up
/// to 32 GiB (64 KiB grains). Opening reads every table to check it (and fills the cache),
/// planning walks them all and the conversion walks them again: with 16 each was read three
/// times, and in the page every such read is a synchronous `FileReaderSync` call of about
/// 1.5 ms on the converter thread (128 tables for the bench's 4 GiB disk).
pub const GT_CACHE_ENTRIES_ONE_FILE: usize = 1024;
/// Most bytes read at once while scanning grain tables at open: tables that follow each other
/// in the file (VMware and qemu write them back to back) come from one read; scattered ones
/// (stream-optimized files interleave them with grains) are read one by one.
pub const SCAN_WINDOW_BYTES: u64 = 1 << 20;
/// Grain directory entries looked ahead to find tables that share a scan read.
const SCAN_LOOKAHEAD: usize = 1024;

/// An opened sparse extent and what its metadata says.
pub struct Opened {
    pub extent: SparseExtent,
    /// The header at offset 0 (the footer's copy may differ; `extent` uses that one).
    pub header: SparseExtentHeader,
    /// Bytes of allocated grains (grain count × grain size).
    pub allocated: u64,
    /// Oddities worth telling the user.
    pub warnings: Vec<Notice>,
}

/// Read a header sector at offset 0 (no validation).
pub fn read_header(src: &dyn Source) -> Result<SparseExtentHeader> {
    if src.len() < HEADER_LEN as u64 {
        return Err(Error::truncated(
            src.name(),
            0,
            HEADER_LEN as u64,
            src.len(),
            format!("sparse extent header needs 512 bytes, the file has {}", src.len()),
        ));
    }
    let mut b = [0u8; HEADER_LEN];
    src.read_exact_at(0, &mut b)?;
    Ok(SparseExtentHeader::parse(&b))
}

/// Open a hosted sparse or stream-optimized extent whose header `h0` was read at offset 0.
pub fn open(src: SourceRef, h0: SparseExtentHeader, cached_tables: usize) -> Result<Opened> {
    let name = src.name().to_string();
    let len = src.len();
    h0.validate(&name, 0, len)?;
    let (h, hdr_at) = stream::effective_header(src.as_ref(), h0.clone())?;
    if hdr_at != 0 {
        h.validate(&name, hdr_at, len)?;
    }
    if h.compressed() && h.grain_size > stream::MAX_COMPRESSED_GRAIN_SECTORS {
        return Err(Error::unsupported(
            &name,
            Some(hdr_at + super::header::field::GRAIN_SIZE),
            format!(
                "compressed grains of {} sectors (at most {} supported)",
                h.grain_size,
                stream::MAX_COMPRESSED_GRAIN_SECTORS
            ),
        ));
    }
    let gd_at = h.gd_at();
    let gd = read_table(src.as_ref(), gd_at, h.gd_entries())?;
    let extent = SparseExtent { src: src.clone(), h, gd, gd_at, cache: RefCell::new(Lru::new(cached_tables)) };
    let mut warnings = Vec::new();
    if h0.unclean_shutdown != 0 && !extent.h.compressed() {
        warnings.push(Notice::new(
            WarnCode::UncleanShutdown,
            &name,
            "the disk was not closed cleanly (uncleanShutdown is set); its contents may be inconsistent",
        ));
    }
    let allocated = extent.scan(&mut warnings)?;
    Ok(Opened { extent, header: h0, allocated, warnings })
}

/// Read `n` little-endian u32s at `at` (bounded by the header checks).
fn read_table(src: &dyn Source, at: HostOffset, n: u64) -> Result<Vec<u32>> {
    Ok(le_entries(&read_vec(src, at.0, n * 4)?).collect())
}

/// Serves ranges from a window of one large read (used to scan tables at open).
struct Window<'a> {
    src: &'a dyn Source,
    start: u64,
    buf: Vec<u8>,
}

impl<'a> Window<'a> {
    fn new(src: &'a dyn Source) -> Self {
        Window { src, start: 0, buf: Vec::new() }
    }
    /// `len` bytes at `off`; when they are not in the window, read `[off, span_end)` (the
    /// caller's estimate of what the next lookups need, at least `off + len`). The caller
    /// checked both lie inside the file.
    fn get(&mut self, off: HostOffset, len: u64, span_end: impl FnOnce() -> u64) -> Result<&[u8]> {
        let off = off.0;
        let inside = off >= self.start && off + len <= self.start + self.buf.len() as u64;
        if !inside {
            let end = span_end().max(off + len).min(self.src.len());
            self.buf = read_vec(self.src, off, end - off)?;
            self.start = off;
        }
        // Both inside the buffer just checked or read, so they fit in usize.
        let s = (off - self.start) as usize;
        Ok(&self.buf[s..s + len as usize])
    }
}

/// A grain table as read, and (stream-optimized extents only) its entries sorted, to find
/// where the file's next grain after a given one starts.
struct GrainTable {
    entries: Vec<u32>,
    sorted: Vec<u32>,
}

impl GrainTable {
    /// The lowest sector after `gte` that another grain of this table, or the table itself
    /// (at `gt_sector`), starts at: the grain at `gte` ends before it in any file where
    /// grains and tables do not overlap. None when nothing of this table follows.
    fn next_after(&self, gte: u32, gt_sector: u32) -> Option<u64> {
        let i = self.sorted.partition_point(|&s| s <= gte);
        let next = self.sorted.get(i).copied();
        let table = (gt_sector > gte).then_some(gt_sector);
        next.into_iter().chain(table).min().map(u64::from)
    }
}

/// The guest map of one sparse extent.
pub struct SparseExtent {
    src: SourceRef,
    /// The governing header (the footer's copy for GD-at-end streams), validated.
    h: SparseExtentHeader,
    /// Grain directory: sector of each grain table, 0 = none.
    gd: Vec<u32>,
    /// Where the grain directory is, for errors.
    gd_at: HostOffset,
    /// Grain tables by GD index.
    cache: RefCell<Lru<u64, Rc<GrainTable>>>,
}

impl SparseExtent {
    pub fn header(&self) -> &SparseExtentHeader {
        &self.h
    }

    fn total_grains(&self) -> u64 {
        self.h.capacity.div_ceil(self.h.grain_size)
    }

    /// The sector of grain table `k` (0 = none).
    fn gd_entry(&self, k: u64) -> u32 {
        usize::try_from(k).ok().and_then(|k| self.gd.get(k)).copied().unwrap_or(0)
    }

    /// Entries of grain table `k` that cover guest grains (the last table may be partial).
    fn entries_in(&self, k: u64) -> u64 {
        let per = self.h.num_gtes_per_gt as u64;
        (self.total_grains() - k * per).min(per)
    }

    /// Where GT `k` is (`sector`, per the directory at `gd_at`) and its length in bytes,
    /// checked to lie inside the file; errors name GD entry `k`.
    fn gt_range(&self, gd_at: HostOffset, sector: u32, k: u64) -> Result<(HostOffset, u64)> {
        let off = Sectors::from(sector).host();
        let n = self.entries_in(k) * 4;
        let len = self.src.len();
        if !off.fits(n, len) {
            return Err(Error::truncated(self.src.name(), (gd_at + 4 * k).0, off.0.saturating_add(n), len, format!(
                "grain directory entry {k} points at sector {sector} (byte {}), but its {n}-byte grain table lies past the end of the file ({len} bytes)", off.0)));
        }
        Ok((off, n))
    }

    /// End of the run of grain tables after table `k` (at byte `off`) that lie in ascending
    /// order within one scan window of `off`, per directory `dir`.
    fn span_end(&self, dir: &[u32], k: u64, off: HostOffset) -> u64 {
        let limit = off.0 + SCAN_WINDOW_BYTES;
        let mut end = off.0;
        let mut last = off.0;
        for (k2, &s) in dir.iter().enumerate().skip(k as usize).take(SCAN_LOOKAHEAD) {
            if s == 0 {
                continue;
            }
            let o = Sectors::from(s).bytes();
            let e = o + self.entries_in(k2 as u64) * 4;
            if o < last || e > limit {
                break;
            }
            last = o;
            end = end.max(e);
        }
        end
    }

    /// Check one entry; `Ok(true)` when it is an allocated grain.
    fn check_gte(&self, gte: u32, grain: GrainIndex, entry_at: HostOffset) -> Result<bool> {
        if gte == 0 || (gte == 1 && self.h.zeroed_grain_gte()) {
            return Ok(false);
        }
        let off = Sectors::from(gte).host();
        let len = self.src.len();
        // Compressed grains: the marker and data are checked when mapped; here only the start.
        let need = if self.h.compressed() { 1 } else { self.grain_bytes_at(grain) };
        if !off.fits(need, len) {
            return Err(Error::truncated(self.src.name(), entry_at.0, off.0.saturating_add(need), len, format!(
                "grain table entry for grain {} points at sector {gte} (byte {}), but the grain's {need} bytes lie past the end of the file ({len} bytes)", grain.0, off.0)));
        }
        Ok(true)
    }

    /// Guest bytes of grain `g` inside the capacity (the last grain may be partial).
    fn grain_bytes_at(&self, g: GrainIndex) -> u64 {
        let gb = self.h.grain_bytes();
        (self.h.capacity_bytes() - g.start(gb).0).min(gb)
    }

    /// Walk every grain table: count allocated grains, check all entries point inside the
    /// file, and compare with the redundant copy when there is one.
    fn scan(&self, warnings: &mut Vec<Notice>) -> Result<u64> {
        let src = self.src.as_ref();
        let per = self.h.num_gtes_per_gt as u64;
        let mut win = Window::new(src);
        let mut allocated = 0u64;
        // Redundant directory: compared only; problems with it are warnings.
        let mut rgd: Option<(Vec<u32>, HostOffset, Window)> = None;
        if self.h.has_redundant_gd() {
            let at = self.h.rgd_at();
            match read_table(src, at, self.gd.len() as u64) {
                Ok(t) => rgd = Some((t, at, Window::new(src))),
                Err(e) => warnings.push(Notice::new(
                    WarnCode::RedundantUnreadable,
                    src.name(),
                    format!("redundant grain directory unreadable ({e}); using the primary"),
                )),
            }
        }
        let mut differs = false;
        for (k, &sector) in self.gd.iter().enumerate() {
            let k = k as u64;
            let primary: Option<Vec<u32>> = if sector == 0 {
                None
            } else {
                let (off, n) = self.gt_range(self.gd_at, sector, k)?;
                let bytes = win.get(off, n, || self.span_end(&self.gd, k, off))?;
                let gt: Vec<u32> = le_entries(bytes).collect();
                for (j, &gte) in gt.iter().enumerate() {
                    let j = j as u64;
                    if self.check_gte(gte, GrainIndex(k * per + j), off + 4 * j)? {
                        allocated += 1;
                    }
                }
                // Kept for mapping while the cache has room: planning and converting then
                // read no table again (a disk in one file of up to 32 GiB).
                let mut cache = self.cache.borrow_mut();
                if !cache.is_full() {
                    cache.get(k, || Ok(self.table(gt.clone())))?;
                }
                Some(gt)
            };
            if let (false, Some((rgd, rgd_at, rwin))) = (differs, rgd.as_mut()) {
                let rsector = rgd[k as usize];
                let same = match (&primary, rsector) {
                    (None, 0) => true,
                    (None, _) | (Some(_), 0) => false,
                    (Some(p), rs) => match self.gt_range(*rgd_at, rs, k) {
                        Ok((roff, rn)) => match rwin.get(roff, rn, || self.span_end(rgd, k, roff)) {
                            Ok(rb) => le_entries::<u32>(rb).eq(p.iter().copied()),
                            Err(_) => false,
                        },
                        Err(_) => false,
                    },
                };
                if !same {
                    differs = true;
                    warnings.push(Notice::new(WarnCode::RedundantDiffers, src.name(), format!(
                        "the redundant grain directory (sector {}) differs from the primary one at grain table {k}; using the primary",
                        self.h.rgd_offset)));
                }
            }
        }
        Ok(allocated * self.h.grain_bytes())
    }

    /// Grain table `k` (GD entry non-zero), from the cache or the file.
    fn gt(&self, k: u64) -> Result<Rc<GrainTable>> {
        self.cache.borrow_mut().get(k, || {
            let (off, n) = self.gt_range(self.gd_at, self.gd_entry(k), k)?;
            Ok(self.table(read_table(self.src.as_ref(), off, n / 4)?))
        })
    }

    fn table(&self, entries: Vec<u32>) -> Rc<GrainTable> {
        let sorted = if self.h.has_markers() {
            let mut v = entries.clone();
            v.sort_unstable();
            v
        } else {
            Vec::new()
        };
        Rc::new(GrainTable { entries, sorted })
    }
}

impl Mapper for SparseExtent {
    fn size(&self) -> u64 {
        self.h.capacity_bytes()
    }

    fn map(&self, offset: u64, len: u64, out: &mut Vec<Run>) -> Result<()> {
        let end = offset.checked_add(len).filter(|&e| e <= self.size()).ok_or_else(|| {
            Error::invalid(format!(
                "{}: read of {len} bytes at {offset} is beyond the extent's {} bytes",
                self.src.name(),
                self.size()
            ))
        })?;
        let gb = self.h.grain_bytes();
        let cov = self.h.gt_coverage();
        let per = self.h.num_gtes_per_gt as u64;
        let mut pos = offset;
        while pos < end {
            let (g, in_grain) = GuestOffset(pos).grain(gb);
            let (k, j) = g.table(per);
            let sector = self.gd_entry(k);
            if sector == 0 {
                let e = end.min((k + 1) * cov);
                push_run(out, Run { len: e - pos, kind: RunKind::Unallocated });
                pos = e;
                continue;
            }
            let gt = self.gt(k)?;
            let n = end.min(g.end(gb).0) - pos;
            let gte = gt.entries.get(j).copied().unwrap_or(0);
            let entry_at = Sectors::from(sector).host() + 4 * j as u64;
            let kind = if gte == 0 {
                RunKind::Unallocated
            } else if gte == 1 && self.h.zeroed_grain_gte() {
                RunKind::Zero
            } else if self.h.compressed() {
                let next = if self.h.has_markers() { gt.next_after(gte, sector).map(Sectors) } else { None };
                stream::grain_run(&self.src, &self.h, g, Sectors::from(gte), entry_at, in_grain, next)?
            } else {
                self.check_gte(gte, g, entry_at)?;
                RunKind::Data { src: self.src.clone(), offset: Sectors::from(gte).bytes() + in_grain }
            };
            push_run(out, Run { len: n, kind });
            pos += n;
        }
        Ok(())
    }
}
