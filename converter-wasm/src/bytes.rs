//! Integers at fixed byte offsets of on-disk structures: little-endian for VMDK (every variant)
//! and gzip, big-endian for QCOW2. One reader per width, so a header parser reads like the
//! spec's table (`le32(b, 12)` is the field at byte 12) and no format writes its own.
//!
//! The offsets are the format's fixed field positions inside a buffer the caller sized for the
//! structure; an offset past the buffer is a bug in the caller and panics like any slice index.

/// The `N` bytes at `at`.
fn take<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(&b[at..at + N]);
    a
}

/// Little-endian u16 at byte `at`.
pub fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(take(b, at))
}

/// Little-endian u32 at byte `at`.
pub fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(take(b, at))
}

/// Little-endian u64 at byte `at`.
pub fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(take(b, at))
}

/// Big-endian u32 at byte `at`.
pub fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(take(b, at))
}

/// Big-endian u64 at byte `at`.
pub fn be64(b: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(take(b, at))
}

/// An entry type of an on-disk table of little-endian integers (grain directories and tables).
pub trait LeEntry: Copy + 'static {
    /// Bytes per entry.
    const SIZE: usize;
    /// The entry at the start of `b`.
    fn read(b: &[u8]) -> Self;
}

impl LeEntry for u32 {
    const SIZE: usize = 4;
    fn read(b: &[u8]) -> Self {
        le32(b, 0)
    }
}

impl LeEntry for u64 {
    const SIZE: usize = 8;
    fn read(b: &[u8]) -> Self {
        le64(b, 0)
    }
}

/// The entries of a table read as raw bytes, in order (a trailing partial entry is ignored).
pub fn le_entries<T: LeEntry>(b: &[u8]) -> impl Iterator<Item = T> + '_ {
    b.chunks_exact(T::SIZE).map(T::read)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_width_and_order_at_its_offset() {
        let b: Vec<u8> = (1..=12).collect();
        assert_eq!(le16(&b, 1), 0x0302);
        assert_eq!(le32(&b, 0), 0x0403_0201);
        assert_eq!(le64(&b, 4), 0x0c0b_0a09_0807_0605);
        assert_eq!(be32(&b, 0), 0x0102_0304);
        assert_eq!(be64(&b, 4), 0x0506_0708_090a_0b0c);
    }

    #[test]
    fn tables_of_entries() {
        let b = [1u8, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 7];
        assert_eq!(le_entries::<u32>(&b).collect::<Vec<_>>(), [1, u32::MAX]);
        assert_eq!(le_entries::<u64>(&b).collect::<Vec<_>>(), [0xffff_ffff_0000_0001]);
        assert_eq!(le_entries::<u64>(&b[..7]).count(), 0);
    }

    #[test]
    #[should_panic]
    fn a_field_past_the_buffer_is_a_caller_bug() {
        le32(&[0u8; 6], 3);
    }
}
