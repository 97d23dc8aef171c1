//! Stream-optimized VMDK markers (VMware "Virtual Disk Format 5.0", `Marker`): a grain marker
//! (`lba`, `size` > 0) precedes every compressed grain; metadata markers (`size` 0 and a
//! `type`) precede grain tables, the grain directory and the footer, and one ends the stream.
//!
//! A leaf: mapping (`vmdk::stream`) reads markers, and decoding (`decode`) checks the grain
//! marker in front of a grain that mapping left unread, without either depending on the other.

use crate::error::{Error, Result};

/// Marker `type` (at byte 12 of a metadata marker, whose `size` is 0): end of stream.
pub const MARKER_EOS: u32 = 0;
/// Marker type: a grain table follows.
pub const MARKER_GT: u32 = 1;
/// Marker type: the grain directory follows.
pub const MARKER_GD: u32 = 2;
/// Marker type: the footer (a copy of the header) follows.
pub const MARKER_FOOTER: u32 = 3;

/// Bytes of a grain marker before the compressed data: `lba` (u64) and `size` (u32).
pub const GRAIN_MARKER_LEN: u64 = 12;

/// A marker, field by field (VMware spec `Marker`): grain markers have `size` > 0 and data
/// follows at byte 12; metadata markers have `size` 0, a `type` at byte 12 and fill a sector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Marker {
    /// Grain marker: the grain's first sector in the extent. Metadata marker: the number of
    /// sectors of metadata that follow.
    pub val: u64,
    /// Compressed bytes that follow (grain marker), 0 for metadata markers.
    pub size: u32,
    /// Metadata marker type (`MARKER_*`); only meaningful when `size` is 0.
    pub marker_type: u32,
}

impl Marker {
    /// Decode a marker from its 16 bytes (metadata markers: `type` included).
    pub fn parse(b: &[u8; 16]) -> Self {
        let (head, ty) = b.split_at(12);
        let mut m = Self::parse_grain(head.try_into().expect("12 bytes"));
        m.marker_type = u32::from_le_bytes(ty.try_into().expect("4 bytes"));
        m
    }

    /// Decode the 12 bytes of a grain marker (compressed data follows them, no `type`).
    pub fn parse_grain(b: &[u8; 12]) -> Self {
        let (val, size) = b.split_at(8);
        Marker {
            val: u64::from_le_bytes(val.try_into().expect("8 bytes")),
            size: u32::from_le_bytes(size.try_into().expect("4 bytes")),
            marker_type: 0,
        }
    }

    /// Check that this is the grain marker of the grain starting at sector `lba`, as the grain
    /// table entry pointing at byte `at` of `file` says. Returns the compressed size.
    pub fn check_grain(&self, lba: u64, file: &str, at: u64) -> Result<u32> {
        if self.size == 0 {
            return Err(Error::corrupt(
                file,
                at,
                format!("the grain table entry for lba {lba} points at a metadata marker, not a grain marker"),
            ));
        }
        if self.val != lba {
            return Err(Error::corrupt(
                file,
                at,
                format!("grain marker says lba {} but the grain table entry points here for lba {lba}", self.val),
            ));
        }
        Ok(self.size)
    }
}

/// The zlib stream of a marked grain: `bytes` were read at byte `at` of `file` and start with
/// the grain marker, which must name `lba` and a non-zero `size` that fits in `bytes` (they
/// end where the next grain or grain table starts, or at the end of the file).
pub fn grain_stream<'a>(bytes: &'a [u8], lba: u64, file: &str, at: u64) -> Result<&'a [u8]> {
    let Some((head, rest)) = bytes.split_first_chunk::<12>() else {
        return Err(Error::truncated(
            file,
            at,
            at + 12,
            at + bytes.len() as u64,
            "grain marker cut off by the end of the file",
        ));
    };
    let size = Marker::parse_grain(head).check_grain(lba, file, at)? as usize;
    rest.get(..size).ok_or_else(|| Error::corrupt(file, at, format!(
        "grain marker for lba {lba} claims {size} compressed bytes, but only {} follow before the next grain, grain table or the end of the file",
        rest.len())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn marker_parse() {
        let mut b = [0u8; 16];
        b[0] = 4;
        b[12] = MARKER_GT as u8;
        let m = Marker::parse(&b);
        assert_eq!(m, Marker { val: 4, size: 0, marker_type: MARKER_GT });
    }

    #[test]
    fn grain_stream_checks_the_marker() {
        let mut g = 640u64.to_le_bytes().to_vec();
        g.extend_from_slice(&3u32.to_le_bytes());
        g.extend_from_slice(b"zlibmore");
        assert_eq!(grain_stream(&g, 640, "s.vmdk", 7).unwrap(), b"zli");
        let e = grain_stream(&g, 128, "s.vmdk", 7).unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::Corrupt, Some(7)));
        assert!(e.message.contains("says lba 640"), "{e}");
        g[8..12].copy_from_slice(&100u32.to_le_bytes());
        let e = grain_stream(&g, 640, "s.vmdk", 7).unwrap_err();
        assert!(e.message.contains("claims 100 compressed bytes, but only 8 follow"), "{e}");
        g[8..12].copy_from_slice(&0u32.to_le_bytes());
        assert!(grain_stream(&g, 640, "s.vmdk", 7).unwrap_err().message.contains("metadata marker"));
        assert_eq!(grain_stream(&g[..11], 640, "s.vmdk", 7).unwrap_err().kind, ErrorKind::Truncated);
    }
}
