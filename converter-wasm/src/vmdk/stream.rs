//! Stream-optimized sparse extents (VMware "Virtual Disk Format 5.0", "Stream-Optimized
//! Compressed Sparse Extents"; createType `streamOptimized`, the OVF/OVA disk format): every
//! grain is one zlib stream preceded by a grain marker, metadata blocks (grain tables, the
//! grain directory, the footer) by metadata markers, and the file may end in an end-of-stream
//! marker. The grain directory is either where the header says, or — when the header's
//! `gdOffset` is `GD_AT_END` (0xffffffffffffffff) because the writer streamed it out — in a
//! footer: a copy of the header in the second-to-last sector, after a footer marker and
//! before the end-of-stream marker. Writers that know the layout in advance (open-vmdk) put
//! the grain directory right after the header and write no footer at all.
//!
//! This module only reads metadata: the header/footer and, per allocated grain, its 12-byte
//! marker, to turn a grain table entry into a `Deflate` run pointing at the zlib bytes after the
//! marker. Inflating is `decode::inflate_run`'s job. Hand-written parsing (no crate does VMDK).

use super::header::{SparseExtentHeader, GD_AT_END, HEADER_LEN, MAGIC, SECTOR};
use super::marker::{Marker, GRAIN_MARKER_LEN, MARKER_EOS, MARKER_FOOTER};
use crate::error::{Error, Result};
use crate::image::RunKind;
use crate::source::{check_range, Source, SourceRef};
use crate::units::{GrainIndex, HostOffset, Sectors};

/// Largest compressed grain we accept, as a multiple of the grain size: qemu reads a grain's
/// marker and data from two grains' worth of bytes and refuses larger `size` fields; a zlib
/// stream of incompressible data is only a few bytes per 16 KiB larger than its input.
pub const MAX_COMPRESSED_GRAINS: u64 = 2;
/// Largest grain we accept in a compressed extent: 2048 sectors (1 MiB), sixteen times what
/// VMware and qemu write (64 KiB). Each decoder holds one inflated grain, so this bounds
/// decoding memory.
pub const MAX_COMPRESSED_GRAIN_SECTORS: u64 = 2048;

fn read_marker(src: &dyn Source, off: u64) -> Result<Marker> {
    let mut b = [0u8; 16];
    src.read_exact_at(off, &mut b)?;
    Ok(Marker::parse(&b))
}

/// The header that governs the file: the one at offset 0, or, when its `gdOffset` is
/// `GD_AT_END`, the footer copy (which takes precedence, as in qemu). Checks the footer
/// marker before and the end-of-stream marker after it. Returns the header and the byte offset
/// it was read from (for errors).
pub fn effective_header(src: &dyn Source, h: SparseExtentHeader) -> Result<(SparseExtentHeader, u64)> {
    if h.gd_offset != GD_AT_END {
        return Ok((h, 0));
    }
    let name = src.name();
    let len = src.len();
    // Footer marker, footer, end-of-stream marker: the last three sectors.
    let Some(marker_at) = len.checked_sub(3 * SECTOR).filter(|&o| o >= SECTOR) else {
        return Err(Error::truncated(
            name,
            0,
            4 * SECTOR,
            len,
            format!(
            "gdOffset is GD_AT_END but the file ({len} bytes) is too short to hold a footer: the stream is truncated"),
        ));
    };
    let footer_at = marker_at + SECTOR;
    let eos_at = footer_at + SECTOR;
    let no_footer = |what: &str, at: u64| {
        Error::corrupt(name, at, format!(
            "gdOffset is GD_AT_END (grain directory in the footer) but {what}: the stream is truncated or was not finished"))
    };
    let fm = read_marker(src, marker_at)?;
    if fm.size != 0 || fm.marker_type != MARKER_FOOTER {
        return Err(no_footer(
            &format!(
                "there is no footer marker in the third-to-last sector (size {}, type {})",
                fm.size, fm.marker_type
            ),
            marker_at,
        ));
    }
    let eos = read_marker(src, eos_at)?;
    if eos.val != 0 || eos.size != 0 || eos.marker_type != MARKER_EOS {
        return Err(no_footer("the last sector is not an end-of-stream marker", eos_at));
    }
    let mut b = [0u8; HEADER_LEN];
    src.read_exact_at(footer_at, &mut b)?;
    let f = SparseExtentHeader::parse(&b);
    if f.magic_number != MAGIC {
        return Err(no_footer("the footer has no 'KDMV' magic", footer_at));
    }
    if f.gd_offset == GD_AT_END {
        return Err(Error::corrupt(
            name,
            footer_at + super::header::field::GD_OFFSET,
            "the footer's gdOffset is GD_AT_END too: no grain directory",
        ));
    }
    Ok((f, footer_at))
}

/// The run for guest bytes `[skip, skip + len)` of compressed grain number `grain` (counted
/// from the start of the extent), whose grain table entry (at byte `entry_at` of the file)
/// holds sector `gte`.
///
/// With markers and a `next` sector known to lie after the grain (the next grain in the file,
/// or the grain table listing it, when that follows the grains as VMware and ovftool write
/// it), the run points at the marker, bounded by `next`, and the marker is checked when the
/// grain is decoded ([`super::marker::grain_stream`]): mapping a whole disk then reads no grain at all.
/// Otherwise the marker is read and checked now: its `lba` must be the grain's first sector,
/// its `size` non-zero, bounded and inside the file. Without markers (compressed but unmarked,
/// rare) the zlib stream starts at the sector itself and its length is bounded by two grains
/// or the end of the file.
pub fn grain_run(
    src: &SourceRef,
    h: &SparseExtentHeader,
    grain: GrainIndex,
    gte: Sectors,
    entry_at: HostOffset,
    skip: u64,
    next: Option<Sectors>,
) -> Result<RunKind> {
    let name = src.name();
    let grain_bytes = h.grain_bytes();
    let (GrainIndex(grain), HostOffset(entry_at)) = (grain, entry_at);
    let off = gte.bytes();
    let gte = gte.0;
    let max_clen = grain_bytes * MAX_COMPRESSED_GRAINS;
    let len = src.len();
    if off >= len {
        return Err(Error::truncated(name, entry_at, off.saturating_add(GRAIN_MARKER_LEN), len, format!(
            "grain table entry for grain {grain} points at sector {gte} (byte {off}), past the end of the file ({len} bytes)")));
    }
    let grain_len = u32::try_from(grain_bytes).map_err(|_| Error::corrupt(name, off, "grain too large"))?;
    let skip = u32::try_from(skip).map_err(|_| Error::corrupt(name, off, "grain offset too large"))?;
    let lazy_end = next.and_then(Sectors::checked_bytes).filter(|&e| e > off + GRAIN_MARKER_LEN);
    if let (true, Some(end)) = (h.has_markers(), lazy_end) {
        let room = end.min(len).min(off + GRAIN_MARKER_LEN + max_clen) - off;
        // At most 12 + two grains (2 MiB + 12 with the largest grains we accept).
        let clen = u32::try_from(room).map_err(|_| Error::corrupt(name, off, "compressed grain too large"))?;
        return Ok(RunKind::Deflate {
            src: src.clone(),
            offset: off,
            clen,
            grain_len,
            skip,
            marker: Some(grain * h.grain_size),
        });
    }
    let (data_at, clen) = if h.has_markers() {
        check_range(src.as_ref(), off, GRAIN_MARKER_LEN).map_err(|_| Error::truncated(name, entry_at, off.saturating_add(GRAIN_MARKER_LEN), len, format!(
            "grain table entry for grain {grain} points at sector {gte}: its grain marker is cut off by the end of the file ({len} bytes)")))?;
        let mut b = [0u8; GRAIN_MARKER_LEN as usize];
        src.read_exact_at(off, &mut b)?;
        let lba = grain * h.grain_size;
        let size = Marker::parse_grain(&b).check_grain(lba, name, off).map_err(|mut e| {
            e.message = format!("{} (grain {grain}, table entry at byte {entry_at})", e.message);
            e
        })? as u64;
        if size > max_clen {
            return Err(Error::corrupt(
                name,
                off,
                format!("grain marker for lba {lba} claims {size} compressed bytes, more than {max_clen} (two grains)"),
            ));
        }
        let data_at = off + GRAIN_MARKER_LEN;
        check_range(src.as_ref(), data_at, size).map_err(|_| {
            Error::truncated(
                name,
                off,
                data_at.saturating_add(size),
                len,
                format!("compressed grain for lba {lba} ({size} bytes) runs past the end of the file ({len} bytes)"),
            )
        })?;
        (data_at, size)
    } else {
        (off, max_clen.min(len - off))
    };
    // Fits in u32: the grain is at most MAX_COMPRESSED_GRAIN_SECTORS (checked at open).
    let clen = u32::try_from(clen).map_err(|_| Error::corrupt(name, off, "compressed grain too large"))?;
    Ok(RunKind::Deflate { src: src.clone(), offset: data_at, clen, grain_len, skip, marker: None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemSource;

    #[test]
    fn footer_must_be_complete() {
        let mut h = SparseExtentHeader::parse(&[0u8; 512]);
        h.magic_number = MAGIC;
        h.gd_offset = GD_AT_END;
        let src = MemSource::new("s.vmdk", vec![0u8; 4096]);
        let e = effective_header(src.as_ref(), h.clone()).unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::Corrupt);
        assert_eq!(e.offset, Some(4096 - 1536));
        let short = MemSource::new("s.vmdk", vec![0u8; 1024]);
        assert_eq!(effective_header(short.as_ref(), h).unwrap_err().kind, crate::ErrorKind::Truncated);
    }
}
