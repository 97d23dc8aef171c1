//! Grain directories and grain tables, the two-level map of every sparse VMDK variant: the
//! bounded cache all of them keep tables in ([`Lru`]), and the directory read and guest walk
//! that COWD and seSparse share ([`Delta`], [`DeltaExtent`]). Hosted sparse extents walk their
//! own tables in `sparse.rs` (compressed grains, zeroed-grain entries, a scan at open).
//!
//! A delta format here has a directory of tables of a fixed number of entries, each entry
//! saying whether its grain is in this layer, reads as zeros or is stored at some offset of
//! the file. The format decides what an entry means; the walk, the bounds checks and the cache
//! are written once.

use crate::bytes::{le_entries, LeEntry};
pub(super) use crate::cache::Lru;
use crate::error::{Error, Result};
use crate::image::{push_run, Mapper, Run, RunKind};
use crate::source::{read_vec, Source, SourceRef};
use crate::units::{mem_len, GuestOffset, HostOffset};
use std::cell::RefCell;
use std::rc::Rc;

/// What a delta format's grain-table entry says about its grain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Grain {
    /// Not in this layer: read the parent.
    Unallocated,
    /// Reads as zeros, hiding the parent.
    Zero,
    /// Stored from this byte of the file; `None` when the entry's position overflows a byte
    /// offset (reported like a grain past the end of the file).
    At(Option<HostOffset>),
}

/// A delta format (COWD, seSparse): a grain directory whose entries name grain tables of
/// [`GT_ENTRIES`](Self::GT_ENTRIES) entries each.
pub(super) trait Delta {
    /// A grain-table entry as stored.
    type Entry: LeEntry;
    /// The format's name in errors.
    const NAME: &'static str;
    /// Entries in every grain table.
    const GT_ENTRIES: u64;
    /// Where the grain table of a kept directory entry (see [`read_directory`]) starts;
    /// `None`: no table, the whole span is unallocated.
    fn table_at(&self, kept: u32) -> Option<HostOffset>;
    /// What entry `e` says, or what is wrong with it (the caller names the entry).
    fn grain(&self, e: Self::Entry) -> std::result::Result<Grain, String>;
    /// Where entry `e` points, for errors: "sector 5", "grain 7".
    fn target(e: Self::Entry) -> String;
}

/// Directory entries read per chunk: bounds the buffer whatever the directory's size.
const DIRECTORY_CHUNK: u64 = 1 << 16;

/// Read the `n` directory entries of type `T` at `at`, in bounded chunks, keeping what `keep`
/// makes of each (4 bytes per entry whatever the on-disk width). `keep` gets the entry's index,
/// its value and its byte offset, and refuses a bad entry with an error.
pub(super) fn read_directory<T: LeEntry>(
    src: &dyn Source,
    at: HostOffset,
    n: u64,
    mut keep: impl FnMut(u64, T, HostOffset) -> Result<u32>,
) -> Result<Vec<u32>> {
    let size = T::SIZE as u64;
    let mut dir = Vec::with_capacity(mem_len(n, src.name(), Some(at.0), "grain directory entries")?);
    let mut i = 0u64;
    while i < n {
        let count = DIRECTORY_CHUNK.min(n - i);
        let chunk_at = at + i * size;
        for (j, e) in le_entries::<T>(&read_vec(src, chunk_at.0, count * size)?).enumerate() {
            let j = j as u64;
            dir.push(keep(i + j, e, chunk_at + j * size)?);
        }
        i += count;
    }
    Ok(dir)
}

/// An opened delta extent: its directory, kept as [`read_directory`] made it, and the walk.
pub(super) struct DeltaExtent<F: Delta> {
    src: SourceRef,
    format: F,
    /// Capacity in bytes.
    size: u64,
    /// Grain size in bytes.
    grain: u64,
    /// One kept entry per directory entry the capacity needs.
    dir: Vec<u32>,
    cache: RefCell<Lru<u64, Rc<[F::Entry]>>>,
}

impl<F: Delta> DeltaExtent<F> {
    /// An extent of `size` guest bytes in grains of `grain` bytes, whose directory the format
    /// checked (every table lies inside the file), caching at most `cache` tables.
    pub(super) fn new(src: SourceRef, format: F, size: u64, grain: u64, dir: Vec<u32>, cache: usize) -> Self {
        DeltaExtent { src, format, size, grain, dir, cache: RefCell::new(Lru::new(cache)) }
    }

    /// Where the table of directory entry `gdi` starts, if it has one.
    fn table_at(&self, gdi: u64) -> Option<HostOffset> {
        let kept = usize::try_from(gdi).ok().and_then(|i| self.dir.get(i))?;
        self.format.table_at(*kept)
    }

    /// The table of directory entry `gdi`, at `at`, from the cache or the file.
    fn table(&self, gdi: u64, at: HostOffset) -> Result<Rc<[F::Entry]>> {
        self.cache.borrow_mut().get(gdi, || {
            let raw = read_vec(self.src.as_ref(), at.0, F::GT_ENTRIES * F::Entry::SIZE as u64)?;
            Ok(le_entries(&raw).collect())
        })
    }

    /// The run kind of grain-table entry `gti` (grain `g`, entry at `entry_at`) holding `e`,
    /// `within` bytes into the grain.
    fn run(&self, e: F::Entry, g: u64, gti: usize, entry_at: HostOffset, within: u64) -> Result<RunKind> {
        let name = self.src.name();
        let len = self.src.len();
        let grain = self.format.grain(e).map_err(|what| {
            Error::corrupt(name, entry_at.0, format!("{} grain table entry {gti} (grain {g}) {what}", F::NAME))
        })?;
        Ok(match grain {
            Grain::Unallocated => RunKind::Unallocated,
            Grain::Zero => RunKind::Zero,
            Grain::At(data) => {
                // The part of this grain the guest can see (the last grain may be cut by the
                // capacity) must be in the file.
                let visible = self.grain.min(self.size - g * self.grain);
                let Some(data) = data.filter(|d| d.fits(visible, len)) else {
                    return Err(Error::corrupt(
                        name,
                        entry_at.0,
                        format!(
                            "{} grain table entry {gti} (grain {g}) points at {}, past the end of the file ({len} bytes)",
                            F::NAME,
                            F::target(e)
                        ),
                    ));
                };
                RunKind::Data { src: self.src.clone(), offset: data.0 + within }
            }
        })
    }
}

impl<F: Delta> Mapper for DeltaExtent<F> {
    fn size(&self) -> u64 {
        self.size
    }

    fn map(&self, offset: u64, len: u64, out: &mut Vec<Run>) -> Result<()> {
        let end = match offset.checked_add(len) {
            Some(e) if e <= self.size => e,
            _ => {
                return Err(Error::invalid(format!(
                    "{}: range {offset}+{len} is outside the {}-byte {} extent",
                    self.src.name(),
                    self.size,
                    F::NAME
                )))
            }
        };
        // Guest bytes one table covers.
        let span = self.grain * F::GT_ENTRIES;
        let mut pos = offset;
        while pos < end {
            let gdi = pos / span;
            let table_end = end.min((gdi + 1) * span);
            let Some(gt_at) = self.table_at(gdi) else {
                push_run(out, Run { len: table_end - pos, kind: RunKind::Unallocated });
                pos = table_end;
                continue;
            };
            let gt = self.table(gdi, gt_at)?;
            while pos < table_end {
                let (g, within) = GuestOffset(pos).grain(self.grain);
                let (_, gti) = g.table(F::GT_ENTRIES);
                let n = (self.grain - within).min(table_end - pos);
                let entry_at = gt_at + gti as u64 * F::Entry::SIZE as u64;
                let kind = self.run(gt[gti], g.0, gti, entry_at, within)?;
                push_run(out, Run { len: n, kind });
                pos += n;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::source::MemSource;

    /// A toy delta format: u32 entries, 0 unallocated, 1 zero, 2 invalid, else the sector of a
    /// 512-byte grain; the kept directory entry is the table's sector (0: none). Tables of 4.
    struct Toy;
    impl Delta for Toy {
        type Entry = u32;
        const NAME: &'static str = "toy";
        const GT_ENTRIES: u64 = 4;
        fn table_at(&self, kept: u32) -> Option<HostOffset> {
            (kept != 0).then(|| HostOffset(u64::from(kept) * 512))
        }
        fn grain(&self, e: u32) -> std::result::Result<Grain, String> {
            match e {
                0 => Ok(Grain::Unallocated),
                1 => Ok(Grain::Zero),
                2 => Err("is 2: not a grain".into()),
                s => Ok(Grain::At(Some(HostOffset(u64::from(s) * 512)))),
            }
        }
        fn target(e: u32) -> String {
            format!("sector {e}")
        }
    }

    /// Directory at sector 1 (two tables: sector 2 and none), table at sector 2, grains after.
    fn toy_file(entries: [u32; 4]) -> Vec<u8> {
        let mut f = vec![0u8; 512 * 8];
        f[512..520].copy_from_slice(&[2, 0, 0, 0, 0, 0, 0, 0]);
        for (i, e) in entries.iter().enumerate() {
            f[1024 + 4 * i..1028 + 4 * i].copy_from_slice(&e.to_le_bytes());
        }
        for s in 3..8 {
            f[s * 512..(s + 1) * 512].fill(s as u8);
        }
        f
    }

    fn toy_open(file: Vec<u8>, size: u64) -> Result<DeltaExtent<Toy>> {
        let src = MemSource::new("t.vmdk", file);
        let dir = read_directory::<u32>(src.as_ref(), HostOffset(512), 2, |_, e, _| Ok(e))?;
        Ok(DeltaExtent::new(src, Toy, size, 512, dir, 1))
    }

    #[test]
    fn walk_maps_each_kind_of_entry_and_tables_that_are_absent() {
        let m = toy_open(toy_file([3, 0, 1, 7]), 8 * 512 - 100).unwrap();
        let mut runs = Vec::new();
        m.map(100, m.size() - 100, &mut runs).unwrap();
        let got: Vec<String> = runs.iter().map(|r| format!("{} {:?}", r.len, r.kind)).collect();
        assert_eq!(
            got,
            [
                "412 Data(t.vmdk@1636)",
                "512 Unallocated",
                "512 Zero",
                "512 Data(t.vmdk@3584)",
                // The second table is absent: its whole (capacity-cut) span is unallocated.
                "1948 Unallocated",
            ]
        );
        assert_eq!(runs.iter().map(|r| r.len).sum::<u64>(), m.size() - 100);
        assert!(m.map(m.size() - 1, 2, &mut runs).is_err());
        assert!(m.map(u64::MAX, 2, &mut runs).is_err());
    }

    #[test]
    fn walk_names_the_entry_of_an_invalid_or_outside_grain() {
        let mut runs = Vec::new();
        let m = toy_open(toy_file([0, 2, 0, 0]), 8 * 512).unwrap();
        let e = m.map(512, 512, &mut runs).unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::Corrupt, Some(1024 + 4)));
        assert!(e.message.contains("toy grain table entry 1 (grain 1) is 2: not a grain"), "{e}");
        // Sector 8 starts at the end of the 4 KiB file.
        let m = toy_open(toy_file([0, 0, 8, 0]), 8 * 512).unwrap();
        let e = m.map(0, 4 * 512, &mut runs).unwrap_err();
        assert_eq!(e.offset, Some(1024 + 8));
        assert!(e.message.contains("points at sector 8, past the end of the file (4096 bytes)"), "{e}");
    }

    #[test]
    fn directory_entries_are_checked_one_by_one() {
        let src = MemSource::new("d.vmdk", toy_file([0; 4]));
        let seen = RefCell::new(Vec::new());
        let dir = read_directory::<u32>(src.as_ref(), HostOffset(512), 2, |i, e, at| {
            seen.borrow_mut().push((i, e, at.0));
            Ok(e + 100)
        })
        .unwrap();
        assert_eq!(dir, [102, 100]);
        assert_eq!(*seen.borrow(), [(0, 2, 512), (1, 0, 516)]);
        let e = read_directory::<u64>(src.as_ref(), HostOffset(512), 1, |_, _, at| Err(Error::corrupt("d", at.0, "x")))
            .unwrap_err();
        assert_eq!(e.offset, Some(512));
        let past = read_directory::<u32>(src.as_ref(), HostOffset(4000), 100, |_, e, _| Ok(e)).unwrap_err();
        assert_eq!(past.kind, ErrorKind::Truncated);
    }
}
