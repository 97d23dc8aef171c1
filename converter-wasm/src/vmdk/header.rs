//! `SparseExtentHeader`: the 512-byte header of a hosted sparse extent (magic `KDMV`), used by
//! monolithicSparse, twoGbMaxExtentSparse extents and streamOptimized files (VMware "Virtual
//! Disk Format 5.0", section "Hosted Sparse Extent Header"; open-vmdk `vmware_vmdk.h`).
//!
//! Hand-written parsing (no crate reads VMDK): every field is decoded little-endian from fixed
//! byte offsets, then [`SparseExtentHeader::validate`] checks each one against the file length
//! and the limits below before anything is allocated from it.

use crate::bytes::{le16, le32, le64};
use crate::error::{Error, Result};
use crate::units::{HostOffset, Sectors};

/// Bytes in a VMDK sector: every offset and size in the header counts these (defined with the
/// other units in [`crate::units`]).
pub use crate::units::SECTOR;
/// Size of the header (one sector) on disk.
pub const HEADER_LEN: usize = 512;

/// `KDMV` read as a little-endian u32 (the file starts with the bytes `K D M V`).
pub const MAGIC: u32 = 0x564d_444b;

/// Flag bit 0: the four new-line test bytes are valid and must be checked.
pub const FLAG_VALID_NEW_LINE_TEST: u32 = 1 << 0;
/// Flag bit 1: a redundant grain directory and tables exist (`rgdOffset`).
pub const FLAG_REDUNDANT_GT: u32 = 1 << 1;
/// Flag bit 2: a grain table entry of 1 means "grain reads as zeros" (zeroed-grain GTE).
pub const FLAG_ZEROED_GRAIN_GTE: u32 = 1 << 2;
/// Flag bit 16: grains are compressed (qemu decides by `compressAlgorithm`; so do we).
pub const FLAG_COMPRESSED: u32 = 1 << 16;
/// Flag bit 17: every grain and metadata block is preceded by a marker (stream-optimized).
pub const FLAG_MARKERS: u32 = 1 << 17;

/// `compressAlgorithm`: grains stored as-is.
pub const COMPRESSION_NONE: u16 = 0;
/// `compressAlgorithm`: grains are zlib (RFC 1950/1951) streams.
pub const COMPRESSION_DEFLATE: u16 = 1;

/// `gdOffset` value meaning "the grain directory is at the end; read the footer".
pub const GD_AT_END: u64 = 0xffff_ffff_ffff_ffff;

/// Highest header version we read: 1 (original), 2 (zeroed-grain GTEs), 3 (adds persistent
/// changed-block tracking, readable as version 1 per VMware KB 2064959; qemu reads up to 3).
pub const MAX_VERSION: u32 = 3;

/// Smallest grain: VMware "Virtual Disk Format 5.0" requires a power of two greater than
/// 8 sectors (4 KiB); every writer uses at least 8.
pub const MIN_GRAIN_SECTORS: u64 = 8;
/// Largest grain: qemu `vmdk_add_extent` refuses grains above 0x200000 sectors (1 GiB).
pub const MAX_GRAIN_SECTORS: u64 = 0x20_0000;
/// Largest `numGTEsPerGT`: the spec fixes it at 512 and qemu refuses anything above 512
/// ("L2 table size too big"). Bounds each grain table to 2 KiB.
pub const MAX_GTES_PER_GT: u32 = 512;
/// Largest guest size we accept: 2^63 bytes, qemu's `BDRV_MAX_LENGTH` (INT64_MAX): no qemu
/// image, our QCOW2 output included, can describe more. Also keeps `capacity * 512` in range.
pub const MAX_CAPACITY_BYTES: u64 = 1 << 63;
/// Largest grain directory we hold in memory: 4 Mi entries (16 MiB). With 64 KiB grains and
/// 512-entry tables that covers 128 PiB; with the smallest 4 KiB grains, 8 TiB (qemu allows
/// 32 Mi entries; we keep the bound lower to keep memory small).
pub const MAX_GD_ENTRIES: u64 = 4 << 20;

/// Byte offsets of the fields (from the start of the header, magic included), for errors.
pub mod field {
    pub const VERSION: u64 = 4;
    pub const FLAGS: u64 = 8;
    pub const CAPACITY: u64 = 12;
    pub const GRAIN_SIZE: u64 = 20;
    pub const DESCRIPTOR_OFFSET: u64 = 28;
    pub const DESCRIPTOR_SIZE: u64 = 36;
    pub const NUM_GTES_PER_GT: u64 = 44;
    pub const RGD_OFFSET: u64 = 48;
    pub const GD_OFFSET: u64 = 56;
    pub const OVER_HEAD: u64 = 64;
    pub const NEW_LINE_TEST: u64 = 73;
    pub const COMPRESS_ALGORITHM: u64 = 77;
}

/// The hosted sparse extent header, field by field as on disk (all sizes and offsets in
/// 512-byte sectors, little-endian).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SparseExtentHeader {
    /// `KDMV` ([`MAGIC`]).
    pub magic_number: u32,
    /// Format version, 1 to 3.
    pub version: u32,
    /// `FLAG_*` bits.
    pub flags: u32,
    /// Size of the extent (guest bytes it holds), in sectors.
    pub capacity: u64,
    /// Sectors per grain (the allocation unit).
    pub grain_size: u64,
    /// Sector of the embedded descriptor, 0 if none.
    pub descriptor_offset: u64,
    /// Sectors reserved for the embedded descriptor.
    pub descriptor_size: u64,
    /// Entries per grain table (512).
    pub num_gtes_per_gt: u32,
    /// Sector of the redundant grain directory (with [`FLAG_REDUNDANT_GT`]).
    pub rgd_offset: u64,
    /// Sector of the grain directory, or [`GD_AT_END`] (stream-optimized: see the footer).
    pub gd_offset: u64,
    /// Sectors of metadata before the first grain.
    pub over_head: u64,
    /// Set while the disk is open for writing; informational.
    pub unclean_shutdown: u8,
    /// New-line test byte: `'\n'`.
    pub single_end_line_char: u8,
    /// New-line test byte: `' '`.
    pub non_end_line_char: u8,
    /// New-line test byte: `'\r'`.
    pub double_end_line_char1: u8,
    /// New-line test byte: `'\n'`.
    pub double_end_line_char2: u8,
    /// [`COMPRESSION_NONE`] or [`COMPRESSION_DEFLATE`].
    pub compress_algorithm: u16,
}

impl SparseExtentHeader {
    /// Decode the fields of a header sector (no validation).
    pub fn parse(b: &[u8; HEADER_LEN]) -> Self {
        SparseExtentHeader {
            magic_number: le32(b, 0),
            version: le32(b, 4),
            flags: le32(b, 8),
            capacity: le64(b, 12),
            grain_size: le64(b, 20),
            descriptor_offset: le64(b, 28),
            descriptor_size: le64(b, 36),
            num_gtes_per_gt: le32(b, 44),
            rgd_offset: le64(b, 48),
            gd_offset: le64(b, 56),
            over_head: le64(b, 64),
            unclean_shutdown: b[72],
            single_end_line_char: b[73],
            non_end_line_char: b[74],
            double_end_line_char1: b[75],
            double_end_line_char2: b[76],
            compress_algorithm: le16(b, 77),
        }
    }

    /// Encode into a header sector (tests build images with it).
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..4].copy_from_slice(&self.magic_number.to_le_bytes());
        b[4..8].copy_from_slice(&self.version.to_le_bytes());
        b[8..12].copy_from_slice(&self.flags.to_le_bytes());
        b[12..20].copy_from_slice(&self.capacity.to_le_bytes());
        b[20..28].copy_from_slice(&self.grain_size.to_le_bytes());
        b[28..36].copy_from_slice(&self.descriptor_offset.to_le_bytes());
        b[36..44].copy_from_slice(&self.descriptor_size.to_le_bytes());
        b[44..48].copy_from_slice(&self.num_gtes_per_gt.to_le_bytes());
        b[48..56].copy_from_slice(&self.rgd_offset.to_le_bytes());
        b[56..64].copy_from_slice(&self.gd_offset.to_le_bytes());
        b[64..72].copy_from_slice(&self.over_head.to_le_bytes());
        b[72] = self.unclean_shutdown;
        b[73] = self.single_end_line_char;
        b[74] = self.non_end_line_char;
        b[75] = self.double_end_line_char1;
        b[76] = self.double_end_line_char2;
        b[77..79].copy_from_slice(&self.compress_algorithm.to_le_bytes());
        b
    }

    /// Grains are zlib-compressed (qemu's test: the algorithm field, not the flag).
    pub fn compressed(&self) -> bool {
        self.compress_algorithm == COMPRESSION_DEFLATE
    }
    pub fn has_markers(&self) -> bool {
        self.flags & FLAG_MARKERS != 0
    }
    pub fn zeroed_grain_gte(&self) -> bool {
        self.flags & FLAG_ZEROED_GRAIN_GTE != 0
    }
    pub fn has_redundant_gd(&self) -> bool {
        self.flags & FLAG_REDUNDANT_GT != 0 && self.rgd_offset != 0
    }
    /// Guest bytes in this extent (valid after [`validate`](Self::validate)).
    pub fn capacity_bytes(&self) -> u64 {
        Sectors(self.capacity).bytes()
    }
    /// Bytes per grain (valid after validation).
    pub fn grain_bytes(&self) -> u64 {
        Sectors(self.grain_size).bytes()
    }
    /// Where the grain directory is (valid after validation, `gdOffset` not [`GD_AT_END`]).
    pub fn gd_at(&self) -> HostOffset {
        Sectors(self.gd_offset).host()
    }
    /// Where the redundant grain directory is (valid after validation).
    pub fn rgd_at(&self) -> HostOffset {
        Sectors(self.rgd_offset).host()
    }
    /// Guest bytes one grain table covers (valid after validation).
    pub fn gt_coverage(&self) -> u64 {
        self.grain_bytes() * self.num_gtes_per_gt as u64
    }
    /// Grain directory entries needed to cover the capacity (valid after validation).
    pub fn gd_entries(&self) -> u64 {
        self.capacity.div_ceil(self.grain_size * self.num_gtes_per_gt as u64)
    }

    /// Check every field against the format and against `file_len`. `base` is where this
    /// header sits in `file` (0, or the footer's offset) so errors point at the bad field.
    /// Does not check `gdOffset` when it is [`GD_AT_END`] (the caller reads the footer).
    pub fn validate(&self, file: &str, base: u64, file_len: u64) -> Result<()> {
        let at = |f: u64| base + f;
        if self.magic_number != MAGIC {
            return Err(Error::corrupt(
                file,
                base,
                format!("bad sparse extent magic 0x{:08x}, expected 'KDMV'", self.magic_number),
            ));
        }
        if self.version == 0 || self.version > MAX_VERSION {
            return Err(Error::unsupported(
                file,
                Some(at(field::VERSION)),
                format!("sparse extent version {} (versions 1 to {MAX_VERSION} are supported)", self.version),
            ));
        }
        if self.flags & FLAG_VALID_NEW_LINE_TEST != 0 {
            let got = [
                self.single_end_line_char,
                self.non_end_line_char,
                self.double_end_line_char1,
                self.double_end_line_char2,
            ];
            if got != *b"\n \r\n" {
                return Err(Error::corrupt(
                    file,
                    at(field::NEW_LINE_TEST),
                    format!(
                        "new-line test bytes are {:02x} {:02x} {:02x} {:02x}, expected 0a 20 0d 0a: the file was \
                         altered by a text-mode transfer (FTP ASCII mode or a line-ending conversion); copy it again in binary mode",
                        got[0], got[1], got[2], got[3]
                    ),
                ));
            }
        }
        if self.compress_algorithm != COMPRESSION_NONE && self.compress_algorithm != COMPRESSION_DEFLATE {
            return Err(Error::unsupported(
                file,
                Some(at(field::COMPRESS_ALGORITHM)),
                format!("unknown compressAlgorithm {}", self.compress_algorithm),
            ));
        }
        let g = self.grain_size;
        if !g.is_power_of_two() || !(MIN_GRAIN_SECTORS..=MAX_GRAIN_SECTORS).contains(&g) {
            return Err(Error::corrupt(
                file,
                at(field::GRAIN_SIZE),
                format!(
                    "grainSize {g} sectors is not a power of two between {MIN_GRAIN_SECTORS} and {MAX_GRAIN_SECTORS}"
                ),
            ));
        }
        if self.num_gtes_per_gt == 0 || self.num_gtes_per_gt > MAX_GTES_PER_GT {
            return Err(Error::corrupt(
                file,
                at(field::NUM_GTES_PER_GT),
                format!("numGTEsPerGT {} is outside 1..={MAX_GTES_PER_GT}", self.num_gtes_per_gt),
            ));
        }
        match Sectors(self.capacity).checked_bytes() {
            Some(b) if b <= MAX_CAPACITY_BYTES => {}
            _ => {
                return Err(Error::too_large(
                    file,
                    Some(at(field::CAPACITY)),
                    format!(
                        "capacity of {} sectors exceeds the largest supported disk ({MAX_CAPACITY_BYTES} bytes)",
                        self.capacity
                    ),
                ))
            }
        }
        let gd_entries = self.gd_entries();
        if gd_entries > MAX_GD_ENTRIES {
            return Err(Error::too_large(
                file,
                Some(at(field::CAPACITY)),
                format!(
                    "capacity of {} sectors with {}-sector grains needs a grain directory of {gd_entries} entries (limit {MAX_GD_ENTRIES})",
                    self.capacity, g
                ),
            ));
        }
        let gd_bytes = gd_entries * 4;
        let in_file = |sector: u64, len: u64, fld: u64, what: &str| -> Result<()> {
            let start = Sectors(sector).try_host(file, at(fld), what)?;
            if start.fits(len, file_len) {
                return Ok(());
            }
            Err(Error::truncated(
                file,
                at(fld),
                start.0.saturating_add(len),
                file_len,
                format!(
                    "{what} at sector {sector} (byte {}, {len} bytes) lies past the end of the file ({file_len} bytes)",
                    start.0
                ),
            ))
        };
        in_file(self.over_head, 0, field::OVER_HEAD, "overHead (first grain)")?;
        if self.descriptor_offset != 0 {
            let dlen = Sectors(self.descriptor_size).try_bytes(file, at(field::DESCRIPTOR_SIZE), "descriptorSize")?;
            in_file(self.descriptor_offset, dlen, field::DESCRIPTOR_OFFSET, "embedded descriptor")?;
        }
        if self.gd_offset != GD_AT_END {
            if self.gd_offset == 0 && self.capacity != 0 {
                return Err(Error::corrupt(
                    file,
                    at(field::GD_OFFSET),
                    "gdOffset is 0: the sparse extent has no grain directory",
                ));
            }
            in_file(self.gd_offset, gd_bytes, field::GD_OFFSET, "grain directory")?;
        }
        // "At the end" only in the first header of a stream-optimized extent, whose footer has
        // both directories; anywhere else the offset must be in the file (qemu reads it).
        if self.has_redundant_gd() && !(self.rgd_offset == GD_AT_END && self.gd_offset == GD_AT_END) {
            in_file(self.rgd_offset, gd_bytes, field::RGD_OFFSET, "redundant grain directory")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn good() -> SparseExtentHeader {
        SparseExtentHeader {
            magic_number: MAGIC,
            version: 1,
            flags: FLAG_VALID_NEW_LINE_TEST | FLAG_REDUNDANT_GT,
            capacity: 20480,
            grain_size: 128,
            descriptor_offset: 1,
            descriptor_size: 20,
            num_gtes_per_gt: 512,
            rgd_offset: 21,
            gd_offset: 26,
            over_head: 128,
            unclean_shutdown: 0,
            single_end_line_char: b'\n',
            non_end_line_char: b' ',
            double_end_line_char1: b'\r',
            double_end_line_char2: b'\n',
            compress_algorithm: 0,
        }
    }

    #[test]
    fn round_trip_and_valid() {
        let h = good();
        let b = h.to_bytes();
        assert_eq!(&b[0..4], b"KDMV");
        assert_eq!(SparseExtentHeader::parse(&b), h);
        h.validate("x", 0, 1 << 20).unwrap();
        assert_eq!(h.gd_entries(), 1);
        assert_eq!((h.capacity_bytes(), h.grain_bytes()), (20480 * 512, 128 * 512));
        assert_eq!((h.gd_at(), h.rgd_at()), (HostOffset(26 * 512), HostOffset(21 * 512)));
    }

    #[test]
    fn each_bad_field_is_named() {
        type Case = (Box<dyn Fn(&mut SparseExtentHeader)>, ErrorKind, u64);
        let cases: Vec<Case> = vec![
            (Box::new(|h| h.grain_size = 100), ErrorKind::Corrupt, field::GRAIN_SIZE),
            (Box::new(|h| h.grain_size = 4), ErrorKind::Corrupt, field::GRAIN_SIZE),
            (Box::new(|h| h.grain_size = 1 << 40), ErrorKind::Corrupt, field::GRAIN_SIZE),
            (Box::new(|h| h.num_gtes_per_gt = 1 << 30), ErrorKind::Corrupt, field::NUM_GTES_PER_GT),
            (Box::new(|h| h.num_gtes_per_gt = 0), ErrorKind::Corrupt, field::NUM_GTES_PER_GT),
            (Box::new(|h| h.capacity = 1 << 62), ErrorKind::TooLarge, field::CAPACITY),
            (Box::new(|h| h.capacity = u64::MAX), ErrorKind::TooLarge, field::CAPACITY),
            (Box::new(|h| h.capacity = 1 << 50), ErrorKind::TooLarge, field::CAPACITY),
            (Box::new(|h| h.gd_offset = 1 << 30), ErrorKind::Truncated, field::GD_OFFSET),
            (Box::new(|h| h.gd_offset = u64::MAX - 1), ErrorKind::Corrupt, field::GD_OFFSET),
            (Box::new(|h| h.rgd_offset = 1 << 30), ErrorKind::Truncated, field::RGD_OFFSET),
            (Box::new(|h| h.over_head = 1 << 30), ErrorKind::Truncated, field::OVER_HEAD),
            (Box::new(|h| h.descriptor_size = u64::MAX), ErrorKind::Corrupt, field::DESCRIPTOR_SIZE),
            (Box::new(|h| h.double_end_line_char1 = b'\n'), ErrorKind::Corrupt, field::NEW_LINE_TEST),
            (Box::new(|h| h.version = 4), ErrorKind::Unsupported, field::VERSION),
            (Box::new(|h| h.compress_algorithm = 7), ErrorKind::Unsupported, field::COMPRESS_ALGORITHM),
        ];
        for (i, (f, kind, off)) in cases.into_iter().enumerate() {
            let mut h = good();
            f(&mut h);
            let e = h.validate("d.vmdk", 1000, 1 << 20).unwrap_err();
            assert_eq!(e.kind, kind, "case {i}: {e}");
            assert_eq!(e.offset, Some(1000 + off), "case {i}: {e}");
            assert_eq!(e.file, "d.vmdk");
        }
    }
}
