//! seSparse: ESXi's space-efficient sparse extents (snapshot deltas on VMFS 6, and on VMFS 5
//! for disks of 2 TiB and more; ESXi 6.5+).
//!
//! Hand-written because no crate reads this format, and VMware never published it. The layout
//! is the one qemu reads (`block/vmdk.c`: `VMDKSESparseConstHeader`,
//! `VMDKSESparseVolatileHeader`, `vmdk_open_se_sparse`, the seSparse branch of
//! `get_cluster_offset`) and ESXi's `hostd.log` dump of a new snapshot; every field is a
//! little-endian u64, offsets and sizes in 512-byte sectors.
//!
//! Constant header, sector 0:
//!
//! | byte | field | |
//! |---|---|---|
//! | 0   | magic                  | 0xcafebabe |
//! | 8   | version                | 0x0000000200000001 ("2.1") |
//! | 16  | capacity               | sectors |
//! | 24  | grain_size             | sectors, must be 8 (4 KiB grains) |
//! | 32  | grain_table_size       | sectors, must be 64 (4096 entries of 8 bytes) |
//! | 40  | flags                  | must be 0 |
//! | 48  | reserved1..4           | must be 0 |
//! | 80  | volatile_header_offset, 88 volatile_header_size | |
//! | 96  | journal_header_offset, 104 journal_header_size | |
//! | 112 | journal_offset, 120 journal_size | |
//! | 128 | grain_dir_offset, 136 grain_dir_size | |
//! | 144 | grain_tables_offset, 152 grain_tables_size | |
//! | 160 | free_bitmap_offset, 168 free_bitmap_size | |
//! | 176 | backmap_offset, 184 backmap_size | |
//! | 192 | grains_offset, 200 grains_size | |
//! | 208 | pad\[304\] | must be 0 |
//!
//! Volatile header (at `volatile_header_offset`, one sector): magic 0xcafecafe (0),
//! free_gt_number (8), next_txn_seq_number (16), replay_journal (24, must be 0: a journal
//! that needs replaying means ESXi did not close the snapshot cleanly), pad\[480\] zero.
//!
//! Grain directory entries (u64): 0 = no grain table (whole 16 MiB span unallocated);
//! otherwise the top 32 bits are 0x10000000 and the low 32 bits index a grain table in the
//! grain-table region (`grain_tables_offset + index * grain_table_size` sectors).
//!
//! Grain table entries (u64), type in the top nibble:
//! - `0x0`: unallocated (the whole entry must be 0): read the parent;
//! - `0x1`: SCSI-unmapped, and `0x2`: zero — both read as zeros, hiding the parent;
//! - `0x3`: allocated: grain index = bits 48..59 as its low 12 bits, bits 0..47 as the rest
//!   (`((e >> 48) & 0xfff) | ((e & 0xffff_ffff_ffff) << 12)`); the grain is at
//!   `grains_offset + index * grain_size` sectors;
//! - anything else is corrupt.
//!
//! Validated at open, before anything is allocated: both headers as qemu checks them, the
//! capacity (at most [`MAX_CAPACITY_SECTORS`]), that the directory region covers the capacity
//! and lies in the file, and every directory entry (form, index inside the grain-table region,
//! table inside the file). Validated when mapping: every grain-table entry's type, and that
//! allocated grains lie in the file. The journal, free bitmap and backmap are not read.
//!
//! This module reads the headers and decides what directory and table entries mean; the walk
//! over them is shared with COWD (`tables.rs`).
//!
//! Memory: the used part of the directory as u32 indexes (4 bytes per 16 MiB of capacity: 16
//! MiB at the 64 TiB maximum, 512 KiB for 2 TiB) plus at most [`GT_CACHE_TABLES`] grain
//! tables of 32 KiB.

use super::tables::{read_directory, Delta, DeltaExtent, Grain};
use crate::bytes::le64;
use crate::error::{Error, Result};
use crate::image::Mapper;
use crate::source::{read_vec, Source, SourceRef};
use crate::units::{HostOffset, Sectors};

/// Constant header magic (`SESPARSE_CONST_HEADER_MAGIC`).
pub const CONST_HEADER_MAGIC: u64 = 0x0000_0000_cafe_babe;
/// Volatile header magic (`SESPARSE_VOLATILE_HEADER_MAGIC`).
pub const VOLATILE_HEADER_MAGIC: u64 = 0x0000_0000_cafe_cafe;
/// The only version qemu (and ESXi 6.5 to 8) writes: 2.1.
pub const VERSION: u64 = 0x0000_0002_0000_0001;
/// Grain size in sectors: 4 KiB grains are the only ones qemu (and ESXi) use.
pub const GRAIN_SECTORS: u64 = 8;
/// Grain-table size in sectors: 4096 entries of 8 bytes, each table covering 16 MiB.
pub const GT_SECTORS: u64 = 64;
/// Entries per grain table.
pub const GT_ENTRIES: u64 = Sectors(GT_SECTORS).bytes() / 8;
/// Largest capacity: seSparse disks are limited to (slightly less than) 64 TiB (qemu's
/// `vmdk_add_extent` comment; VMware's maximum virtual disk size).
pub const MAX_CAPACITY_SECTORS: u64 = Sectors::floor(64 << 40).0;
/// Grain tables kept in memory (each 32 KiB); see `cowd::GT_CACHE_TABLES`.
pub const GT_CACHE_TABLES: usize = 8;
/// Size of either header.
pub const HEADER_SIZE: u64 = 512;

/// Top 32 bits of an allocated grain-directory entry.
const GDE_ALLOCATED: u64 = 0x1000_0000;
/// Directory index marking "no grain table" in our in-memory copy (never a valid index:
/// such a table would start 128 TiB into the region).
const NO_TABLE: u32 = u32::MAX;

/// The constant header, field by field (sizes and offsets in sectors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConstHeader {
    /// [`CONST_HEADER_MAGIC`].
    pub magic: u64,
    /// [`VERSION`].
    pub version: u64,
    /// Capacity in sectors.
    pub capacity: u64,
    /// Sectors per grain ([`GRAIN_SECTORS`]).
    pub grain_size: u64,
    /// Sectors per grain table ([`GT_SECTORS`]).
    pub grain_table_size: u64,
    /// No flags are defined.
    pub flags: u64,
    /// Must be zero.
    pub reserved: [u64; 4],
    /// Sector of the volatile header.
    pub volatile_header_offset: u64,
    /// Sectors of the volatile header.
    pub volatile_header_size: u64,
    /// Sector of the journal header.
    pub journal_header_offset: u64,
    /// Sectors of the journal header.
    pub journal_header_size: u64,
    /// Sector of the journal.
    pub journal_offset: u64,
    /// Sectors of the journal.
    pub journal_size: u64,
    /// Sector of the grain directory.
    pub grain_dir_offset: u64,
    /// Sectors of the grain directory region.
    pub grain_dir_size: u64,
    /// Sector of the grain-table region.
    pub grain_tables_offset: u64,
    /// Sectors of the grain-table region.
    pub grain_tables_size: u64,
    /// Sector of the free-grain bitmap.
    pub free_bitmap_offset: u64,
    /// Sectors of the free-grain bitmap.
    pub free_bitmap_size: u64,
    /// Sector of the grain → table back map.
    pub backmap_offset: u64,
    /// Sectors of the back map.
    pub backmap_size: u64,
    /// Sector of the grain region.
    pub grains_offset: u64,
    /// Sectors of the grain region.
    pub grains_size: u64,
}

/// The volatile header, field by field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolatileHeader {
    /// [`VOLATILE_HEADER_MAGIC`].
    pub magic: u64,
    /// Next grain table to hand out.
    pub free_gt_number: u64,
    /// Journal transaction sequence.
    pub next_txn_seq_number: u64,
    /// Non-zero when the journal must be replayed before the tables are consistent.
    pub replay_journal: u64,
}

/// True when `head` starts with the seSparse constant-header magic (for format detection).
pub fn is_sesparse(head: &[u8]) -> bool {
    head.len() >= 8 && le64(head, 0) == CONST_HEADER_MAGIC
}

impl ConstHeader {
    /// Read and check the constant header the way qemu does (strictly: the format is not
    /// documented, so anything unexpected is refused rather than guessed at).
    pub fn read(src: &dyn Source) -> Result<ConstHeader> {
        let name = src.name();
        if src.len() < HEADER_SIZE {
            return Err(Error::truncated(
                name,
                0,
                HEADER_SIZE,
                src.len(),
                format!("seSparse header needs {HEADER_SIZE} bytes but the file is only {} bytes long", src.len()),
            ));
        }
        let b = read_vec(src, 0, HEADER_SIZE)?;
        let f = |i: usize| le64(&b, i * 8);
        let h = ConstHeader {
            magic: f(0),
            version: f(1),
            capacity: f(2),
            grain_size: f(3),
            grain_table_size: f(4),
            flags: f(5),
            reserved: [f(6), f(7), f(8), f(9)],
            volatile_header_offset: f(10),
            volatile_header_size: f(11),
            journal_header_offset: f(12),
            journal_header_size: f(13),
            journal_offset: f(14),
            journal_size: f(15),
            grain_dir_offset: f(16),
            grain_dir_size: f(17),
            grain_tables_offset: f(18),
            grain_tables_size: f(19),
            free_bitmap_offset: f(20),
            free_bitmap_size: f(21),
            backmap_offset: f(22),
            backmap_size: f(23),
            grains_offset: f(24),
            grains_size: f(25),
        };
        if h.magic != CONST_HEADER_MAGIC {
            return Err(Error::corrupt(
                name,
                0,
                format!("not a seSparse extent: magic is 0x{:016x}, expected 0x{CONST_HEADER_MAGIC:016x}", h.magic),
            ));
        }
        if h.version != VERSION {
            return Err(Error::unsupported(
                name,
                Some(8),
                format!("seSparse version 0x{:016x} is not supported (only 0x{VERSION:016x})", h.version),
            ));
        }
        if h.grain_size != GRAIN_SECTORS {
            return Err(Error::unsupported(
                name,
                Some(24),
                format!("seSparse grain size of {} sectors is not supported (only {GRAIN_SECTORS})", h.grain_size),
            ));
        }
        if h.grain_table_size != GT_SECTORS {
            return Err(Error::unsupported(
                name,
                Some(32),
                format!(
                    "seSparse grain table size of {} sectors is not supported (only {GT_SECTORS})",
                    h.grain_table_size
                ),
            ));
        }
        if h.flags != 0 {
            return Err(Error::unsupported(
                name,
                Some(40),
                format!("seSparse flags 0x{:016x} are not supported", h.flags),
            ));
        }
        if let Some(i) = h.reserved.iter().position(|&r| r != 0) {
            return Err(Error::unsupported(
                name,
                Some(48 + 8 * i as u64),
                "seSparse reserved header field is not zero",
            ));
        }
        if let Some(i) = b[208..].iter().position(|&x| x != 0) {
            return Err(Error::unsupported(name, Some(208 + i as u64), "seSparse header padding is not zero"));
        }
        if h.capacity > MAX_CAPACITY_SECTORS {
            return Err(Error::too_large(
                name,
                Some(16),
                format!("seSparse capacity of {} sectors is beyond the 64 TiB maximum", h.capacity),
            ));
        }
        Ok(h)
    }
}

impl VolatileHeader {
    /// Read and check the volatile header `h` points at.
    pub fn read(src: &dyn Source, h: &ConstHeader) -> Result<VolatileHeader> {
        let name = src.name();
        let at =
            Sectors(h.volatile_header_offset).checked_bytes().filter(|&a| HostOffset(a).fits(HEADER_SIZE, src.len()));
        let Some(at) = at else {
            return Err(Error::corrupt(
                name,
                80,
                format!(
                    "seSparse volatile header at sector {} lies past the end of the file ({} bytes)",
                    h.volatile_header_offset,
                    src.len()
                ),
            ));
        };
        let b = read_vec(src, at, HEADER_SIZE)?;
        let v = VolatileHeader {
            magic: le64(&b, 0),
            free_gt_number: le64(&b, 8),
            next_txn_seq_number: le64(&b, 16),
            replay_journal: le64(&b, 24),
        };
        if v.magic != VOLATILE_HEADER_MAGIC {
            return Err(Error::corrupt(
                name,
                at,
                format!(
                    "seSparse volatile header magic is 0x{:016x}, expected 0x{VOLATILE_HEADER_MAGIC:016x}",
                    v.magic
                ),
            ));
        }
        if v.replay_journal != 0 {
            return Err(Error::unsupported(
                name,
                Some(at + 24),
                "seSparse journal needs replaying (the snapshot was not closed cleanly): consolidate or power the VM off in ESXi first",
            ));
        }
        if let Some(i) = b[32..].iter().position(|&x| x != 0) {
            return Err(Error::unsupported(
                name,
                Some(at + 32 + i as u64),
                "seSparse volatile header padding is not zero",
            ));
        }
        Ok(v)
    }
}

/// Open a seSparse extent as a layer: unallocated grains come back as `RunKind::Unallocated`.
pub fn open_extent(src: SourceRef) -> Result<Box<dyn Mapper>> {
    let h = ConstHeader::read(src.as_ref())?;
    VolatileHeader::read(src.as_ref(), &h)?;
    let name = src.name();
    let flen = src.len();
    // Capacity <= 2^37 sectors, so this cannot overflow.
    let size = Sectors(h.capacity).bytes();
    let needed = h.capacity.div_ceil(GT_ENTRIES * GRAIN_SECTORS);
    let gd_region_entries = Sectors(h.grain_dir_size).bytes() / 8;
    if gd_region_entries < needed {
        return Err(Error::corrupt(
            name,
            136,
            format!(
                "seSparse grain directory holds {gd_region_entries} entries but {needed} are needed to cover {} sectors",
                h.capacity
            ),
        ));
    }
    let gd_at = Sectors(h.grain_dir_offset).checked_bytes().map(HostOffset).filter(|a| a.fits(needed * 8, flen));
    let Some(gd_at) = gd_at else {
        return Err(Error::corrupt(
            name,
            128,
            format!(
                "seSparse grain directory ({needed} entries at sector {}) runs past the end of the file ({flen} bytes)",
                h.grain_dir_offset
            ),
        ));
    };
    let tables_at = Sectors(h.grain_tables_offset).try_host(name, 144, "seSparse grain-table offset")?;
    let region_tables = h.grain_tables_size / GT_SECTORS;
    let grains_at = Sectors(h.grains_offset).try_host(name, 192, "seSparse grain offset")?;
    // Keep 4 bytes per entry: the table's index in the grain-table region.
    let dir = read_directory::<u64>(src.as_ref(), gd_at, needed, |idx, e, at| {
        if e == 0 {
            return Ok(NO_TABLE);
        }
        if e >> 32 != GDE_ALLOCATED {
            return Err(Error::corrupt(
                name,
                at.0,
                format!("seSparse grain directory entry {idx} is 0x{e:016x}: not 0 and not 0x10000000_xxxxxxxx"),
            ));
        }
        let t = e & 0xffff_ffff;
        if t >= region_tables {
            return Err(Error::corrupt(
                name,
                at.0,
                format!("seSparse grain directory entry {idx} names grain table {t}, outside the {region_tables}-table region"),
            ));
        }
        if !tables_at.fits((t + 1) * GT_BYTES, flen) {
            return Err(Error::corrupt(
                name,
                at.0,
                format!("seSparse grain directory entry {idx} names grain table {t}, past the end of the file ({flen} bytes)"),
            ));
        }
        Ok(t as u32)
    })?;
    let format = SeSparse { tables_at, grains_at };
    Ok(Box::new(DeltaExtent::new(src, format, size, GRAIN, dir, GT_CACHE_TABLES)))
}

/// seSparse's grain tables: directory entries index the grain-table region, table entries
/// carry a type in their top nibble.
struct SeSparse {
    /// Where the grain-table region starts.
    tables_at: HostOffset,
    /// Where the grain region starts.
    grains_at: HostOffset,
}

const GRAIN: u64 = Sectors(GRAIN_SECTORS).bytes();
const GT_BYTES: u64 = Sectors(GT_SECTORS).bytes();

/// The grain index an allocated (type 3) grain-table entry holds.
fn grain_index(e: u64) -> u64 {
    ((e >> 48) & 0xfff) | ((e & 0x0000_ffff_ffff_ffff) << 12)
}

impl Delta for SeSparse {
    type Entry = u64;
    const NAME: &'static str = "seSparse";
    const GT_ENTRIES: u64 = GT_ENTRIES;

    fn table_at(&self, t: u32) -> Option<HostOffset> {
        // Inside the file: checked for every directory entry at open.
        (t != NO_TABLE).then(|| self.tables_at + u64::from(t) * GT_BYTES)
    }

    fn grain(&self, e: u64) -> std::result::Result<Grain, String> {
        match e >> 60 {
            0x0 if e == 0 => Ok(Grain::Unallocated),
            0x1 | 0x2 => Ok(Grain::Zero),
            // The index is below 2^60, so its byte offset may overflow: checked.
            0x3 => Ok(Grain::At(grain_index(e).checked_mul(GRAIN).and_then(|o| self.grains_at.checked_add(o)))),
            _ => Err(format!("is 0x{e:016x}: not a known grain type")),
        }
    }

    fn target(e: u64) -> String {
        format!("grain {}", grain_index(e))
    }
}
