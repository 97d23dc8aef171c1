//! Units of the disk formats as types (imago's habit): a sector count, a byte offset in an
//! image file, a byte offset in the guest disk and a grain number are all plain integers on
//! disk, and passing one where another is meant is the classic VMDK bug. Format code converts
//! between them only through these methods; a conversion of a value that comes straight from
//! a file is checked and fails with an error naming the file and the field's offset, never a
//! panic or a wrapped number.

use crate::error::{Error, Result};
use std::ops::Add;

/// Bytes in a sector. VMDK (hosted sparse, COWD, seSparse, descriptors) counts every offset and
/// size in these; QCOW2 counts the length of a compressed cluster in them.
pub const SECTOR: u64 = 512;

/// A number of 512-byte sectors, or a position counted in them: a VMDK field as stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sectors(pub u64);

/// A byte offset in an image file: where a table, a grain or a header is stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostOffset(pub u64);

/// A byte offset in the guest disk, as the virtual machine sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GuestOffset(pub u64);

/// A grain number, counted from the start of an extent (the allocation unit of sparse VMDKs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GrainIndex(pub u64);

impl From<u32> for Sectors {
    /// 32-bit sector fields (COWD, grain directory and table entries) always fit in bytes.
    fn from(n: u32) -> Self {
        Sectors(u64::from(n))
    }
}

impl Sectors {
    /// The sectors `bytes` fill completely (rounded down).
    pub const fn floor(bytes: u64) -> Sectors {
        Sectors(bytes / SECTOR)
    }

    /// In bytes, or `None` when that overflows a u64.
    pub fn checked_bytes(self) -> Option<u64> {
        self.0.checked_mul(SECTOR)
    }

    /// In bytes, for a count already known to fit (a validated header, a 32-bit field). A
    /// count that does not saturates at `u64::MAX`, past the end of any file, so the caller's
    /// range check refuses it where a wrapped product could have passed.
    pub const fn bytes(self) -> u64 {
        self.0.saturating_mul(SECTOR)
    }

    /// In bytes, checked: `what` (a field name) was read at byte `at` of `file`, which the
    /// overflow error names.
    pub fn try_bytes(self, file: &str, at: u64, what: &str) -> Result<u64> {
        self.checked_bytes().ok_or_else(|| {
            Error::corrupt(file, at, format!("{what} of {} sectors overflows a 64-bit byte offset", self.0))
        })
    }

    /// The byte offset of this sector in the file, for a position known to fit (see
    /// [`bytes`](Self::bytes)).
    pub fn host(self) -> HostOffset {
        HostOffset(self.bytes())
    }

    /// The byte offset of this sector in the file, checked as [`try_bytes`](Self::try_bytes).
    pub fn try_host(self, file: &str, at: u64, what: &str) -> Result<HostOffset> {
        self.try_bytes(file, at, what).map(HostOffset)
    }
}

impl HostOffset {
    /// `n` bytes further, or `None` past a u64.
    pub fn checked_add(self, n: u64) -> Option<HostOffset> {
        self.0.checked_add(n).map(HostOffset)
    }

    /// Whether `len` bytes from here lie inside a file of `file_len` bytes.
    pub fn fits(self, len: u64, file_len: u64) -> bool {
        self.0.checked_add(len).is_some_and(|end| end <= file_len)
    }
}

impl Add<u64> for HostOffset {
    type Output = HostOffset;
    /// `n` bytes further, for a position inside a file (saturating, as [`Sectors::bytes`]).
    fn add(self, n: u64) -> HostOffset {
        HostOffset(self.0.saturating_add(n))
    }
}

impl GuestOffset {
    /// The grain of `grain_bytes` bytes holding this byte, and the byte's offset inside it.
    pub fn grain(self, grain_bytes: u64) -> (GrainIndex, u64) {
        (GrainIndex(self.0 / grain_bytes), self.0 % grain_bytes)
    }
}

impl GrainIndex {
    /// The first guest byte of the grain.
    pub fn start(self, grain_bytes: u64) -> GuestOffset {
        GuestOffset(self.0 * grain_bytes)
    }

    /// The guest byte just after the grain.
    pub fn end(self, grain_bytes: u64) -> GuestOffset {
        GuestOffset((self.0 + 1) * grain_bytes)
    }

    /// The grain table that maps this grain (its grain-directory index) and the grain's entry
    /// in it, for tables of `per_table` entries.
    pub fn table(self, per_table: u64) -> (u64, usize) {
        // The entry is below `per_table`, the length of a table held in memory.
        (self.0 / per_table, (self.0 % per_table) as usize)
    }
}

/// A length or count read from a file, as an in-memory length: an error when it does not fit
/// this target's `usize` (32 bits in wasm32, where `as usize` would silently truncate it).
pub fn mem_len(n: u64, file: &str, at: Option<u64>, what: &str) -> Result<usize> {
    usize::try_from(n)
        .map_err(|_| Error::too_large(file, at, format!("{what} of {n} does not fit in this platform's address space")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn sectors_to_bytes_checked_and_saturating() {
        assert_eq!(Sectors(3).checked_bytes(), Some(1536));
        assert_eq!(Sectors::from(u32::MAX).bytes(), u64::from(u32::MAX) * 512);
        assert_eq!(Sectors(1 << 54).checked_bytes(), Some(1 << 63));
        assert_eq!(Sectors(1 << 55).checked_bytes(), None);
        // Saturating lands past every file, never on a small wrapped offset.
        assert_eq!(Sectors(u64::MAX / 256).bytes(), u64::MAX);
        assert!(!Sectors(u64::MAX / 256).host().fits(0, u64::MAX - 1));
        assert_eq!(Sectors::floor(1535), Sectors(2));
        assert_eq!(Sectors(4).host(), HostOffset(2048));
    }

    #[test]
    fn overflow_names_the_file_and_field() {
        let e = Sectors(u64::MAX).try_bytes("d.vmdk", 56, "gdOffset").unwrap_err();
        assert_eq!((e.kind, e.file.as_str(), e.offset), (ErrorKind::Corrupt, "d.vmdk", Some(56)));
        assert!(e.message.contains("gdOffset") && e.message.contains(&u64::MAX.to_string()), "{e}");
        assert_eq!(Sectors(2).try_host("d.vmdk", 56, "gdOffset").unwrap(), HostOffset(1024));
    }

    #[test]
    fn host_offsets_in_files() {
        assert!(HostOffset(10).fits(6, 16));
        assert!(!HostOffset(10).fits(7, 16));
        assert!(!HostOffset(u64::MAX).fits(1, u64::MAX));
        assert_eq!(HostOffset(u64::MAX).checked_add(1), None);
        assert_eq!(HostOffset(8) + 4, HostOffset(12));
    }

    #[test]
    fn guest_offsets_grains_and_tables() {
        let (g, within) = GuestOffset(3 * 65536 + 7).grain(65536);
        assert_eq!((g, within), (GrainIndex(3), 7));
        assert_eq!(g.start(65536), GuestOffset(3 * 65536));
        assert_eq!(g.end(65536), GuestOffset(4 * 65536));
        assert_eq!(GrainIndex(4096 * 5 + 9).table(4096), (5, 9));
    }

    #[test]
    fn file_values_as_memory_lengths() {
        assert_eq!(mem_len(7, "f", None, "table").unwrap(), 7);
        let big = u64::from(u32::MAX) + 1;
        match usize::try_from(big) {
            // 64-bit targets hold it; wasm32 refuses it instead of truncating to 0.
            Ok(n) => assert_eq!(mem_len(big, "f", None, "table").unwrap(), n),
            Err(_) => assert_eq!(mem_len(big, "f", Some(9), "table").unwrap_err().kind, ErrorKind::TooLarge),
        }
    }
}
