//! The upload check: do the first bytes of an image match its declared `disk_format`, and is a
//! QCOW2 safe to hand to Glance and Nova? The edge worker runs it before forwarding an upload,
//! so a mismatch is refused with a clear reason before any byte reaches Glance.
//!
//! It mirrors the QCOW2 safety checks of oslo.utils' `format_inspector` (`QcowInspector`),
//! which Glance runs on every upload and which answers 415 "Image failed safety checks":
//! - the magic `QFI\xfb` (else the data is not QCOW2: "does not match stream data");
//! - version 2 or 3 (version 1 and unknown versions are refused);
//! - no backing file (`backing_file_offset` is 0);
//! - version 3: no external data file (incompatible feature bit 2) and no incompatible
//!   feature bit oslo does not know (bits 4 and up; oslo allows bits 0 to 3).
//!
//! and adds sanity checks oslo leaves to qemu: cluster size within the spec's range, a
//! version 3 header length of at least 104 bytes, a multiple of 8 and inside the first
//! cluster, and the corrupt bit (1) clear. Differences from oslo: for version 2 the feature
//! fields do not exist and are not read (oslo reads the data-file bit at 0x48 whatever the
//! version; on a version 2 image those bytes belong to the header extensions). Should Glance
//! still refuse an upload, its 415 reaches the user unchanged.
//!
//! `raw` accepts any bytes, as Glance does. Other formats are refused: stackferry uploads
//! only what it produces. Pure and allocation-free apart from the error.

use crate::bytes::{be32, be64};
use crate::error::{Error, ErrorKind, Result};

/// Bytes of the upload the check needs: oslo's header region (`CaptureRegion(0, 512)`);
/// oslo does not recognise a QCOW2 shorter than this, and a valid one never is (header, L1
/// and refcount table take at least three 512-byte clusters).
pub const PROBE_LEN: usize = 512;
/// `QFI\xfb`, qcow2.rst "magic".
pub const MAGIC: [u8; 4] = *b"QFI\xfb";
/// Offset of `version` (u32, big-endian).
pub const OFF_VERSION: u64 = 4;
/// Offset of `backing_file_offset` (u64): "0 if the image doesn't have a backing file".
pub const OFF_BACKING_FILE_OFFSET: u64 = 8;
/// Offset of `cluster_bits` (u32).
pub const OFF_CLUSTER_BITS: u64 = 20;
/// Offset of `incompatible_features` (u64, version 3 only).
pub const OFF_INCOMPATIBLE_FEATURES: u64 = 72;
/// Offset of `header_length` (u32, version 3 only).
pub const OFF_HEADER_LENGTH: u64 = 100;
/// Incompatible feature bit 1: "Corrupt bit. If this bit is set then any data structure may be
/// corrupt and the image must not be written to".
pub const INCOMPAT_CORRUPT: u64 = 1 << 1;
/// Incompatible feature bit 2: "External data file bit": guest data lives in another file.
pub const INCOMPAT_DATA_FILE: u64 = 1 << 2;
/// Incompatible feature bits oslo's inspector accepts: 0 to 3 (dirty, corrupt, data file,
/// compression type; `I_FEATURES_MAX_BIT = 4`). Bit 4 (extended L2 entries) and anything
/// above count as unknown there, so they are refused here too.
pub const INCOMPAT_KNOWN_TO_OSLO: u64 = 0b1111;
/// Smallest version 3 header: "For version 3 images, the length is at least 104 bytes".
pub const MIN_V3_HEADER_LENGTH: u32 = 104;

/// What the first bytes look like, for refusal messages: `qcow2`, `vmdk`, `vhd`, `vhdx`,
/// `vdi`, `qed`, `luks`, `gzip`, `xz`, `zip`, `tar (OVA?)`, or `raw` for anything else.
pub fn looks_like(head: &[u8]) -> &'static str {
    let starts = |m: &[u8]| head.starts_with(m);
    if starts(&MAGIC) {
        "qcow2"
    } else if starts(b"KDMV") || starts(b"COWD") || starts(b"# Disk DescriptorFile") {
        "vmdk"
    } else if starts(b"conectix") {
        "vhd"
    } else if starts(b"vhdxfile") {
        "vhdx"
    } else if head.len() >= 0x44 && head[0x40..0x44] == [0x7f, 0x10, 0xda, 0xbe] {
        "vdi"
    } else if starts(b"QED\0") {
        "qed"
    } else if starts(b"LUKS\xba\xbe") {
        "luks"
    } else if starts(&[0x1f, 0x8b]) {
        "gzip"
    } else if starts(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        "xz"
    } else if starts(b"PK\x03\x04") {
        "zip"
    } else if head.len() >= 262 && &head[257..262] == b"ustar" {
        "tar (OVA?)"
    } else {
        "raw"
    }
}

/// Checks the first bytes `head` (at least `min(total_len, PROBE_LEN)` of them) of an upload
/// of `total_len` bytes declared as `disk_format`. `name` names the upload in the error.
/// `Ok` means the data may be forwarded; the error says why not.
pub fn check_upload(name: &str, disk_format: &str, head: &[u8], total_len: u64) -> Result<()> {
    let need = usize::try_from(total_len.min(PROBE_LEN as u64)).unwrap_or(PROBE_LEN);
    if head.len() < need {
        return Err(Error::invalid(format!("the upload check needs the first {need} bytes, got {}", head.len())));
    }
    match disk_format {
        "raw" => Ok(()),
        "qcow2" => check_qcow2(name, &head[..need.min(head.len())], total_len),
        other => Err(Error::unsupported(
            name,
            None,
            format!("disk_format {other:?} is not one stackferry uploads (qcow2 or raw)"),
        )),
    }
}

fn check_qcow2(name: &str, head: &[u8], total_len: u64) -> Result<()> {
    if !head.starts_with(&MAGIC) {
        return Err(Error::new(
            ErrorKind::Unsupported,
            name,
            Some(0),
            format!(
                "disk_format qcow2 does not match the data, which looks like {} (no QCOW2 magic QFI\\xfb)",
                looks_like(head)
            ),
        ));
    }
    if head.len() < PROBE_LEN {
        return Err(Error::truncated(
            name,
            total_len,
            PROBE_LEN as u64,
            total_len,
            format!("{total_len} bytes is too short for a QCOW2 image (its header alone takes {PROBE_LEN})"),
        ));
    }
    let version = be32(head, OFF_VERSION as usize);
    if version != 2 && version != 3 {
        return Err(Error::unsupported(
            name,
            Some(OFF_VERSION),
            format!("QCOW2 version {version} is refused (only versions 2 and 3 are safe to import)"),
        ));
    }
    let backing = be64(head, OFF_BACKING_FILE_OFFSET as usize);
    if backing != 0 {
        return Err(Error::unsupported(
            name,
            Some(OFF_BACKING_FILE_OFFSET),
            format!("the QCOW2 image has a backing file (name at offset {backing}); Glance refuses images that depend on other files: convert it to a standalone image first"),
        ));
    }
    let cluster_bits = be32(head, OFF_CLUSTER_BITS as usize);
    if !(super::MIN_CLUSTER_BITS..=super::MAX_CLUSTER_BITS).contains(&cluster_bits) {
        return Err(Error::corrupt(
            name,
            OFF_CLUSTER_BITS,
            format!(
                "QCOW2 cluster_bits {cluster_bits} is outside {}..={}",
                super::MIN_CLUSTER_BITS,
                super::MAX_CLUSTER_BITS
            ),
        ));
    }
    if version == 2 {
        return Ok(());
    }
    let incompat = be64(head, OFF_INCOMPATIBLE_FEATURES as usize);
    if incompat & INCOMPAT_DATA_FILE != 0 {
        return Err(Error::unsupported(
            name,
            Some(OFF_INCOMPATIBLE_FEATURES),
            "the QCOW2 image keeps its data in an external data file (incompatible feature bit 2); Glance refuses it",
        ));
    }
    if incompat & INCOMPAT_CORRUPT != 0 {
        return Err(Error::corrupt(
            name,
            OFF_INCOMPATIBLE_FEATURES,
            "the QCOW2 image is marked corrupt (incompatible feature bit 1): repair it with qemu-img check -r all",
        ));
    }
    let unknown = incompat & !INCOMPAT_KNOWN_TO_OSLO;
    if unknown != 0 {
        return Err(Error::unsupported(
            name,
            Some(OFF_INCOMPATIBLE_FEATURES),
            format!("the QCOW2 image uses incompatible features Glance does not accept (bits 0x{unknown:x}; bit 4 is extended L2 entries)"),
        ));
    }
    let header_length = be32(head, OFF_HEADER_LENGTH as usize);
    let cluster_size = 1u64 << cluster_bits;
    if header_length < MIN_V3_HEADER_LENGTH || header_length % 8 != 0 || u64::from(header_length) > cluster_size {
        return Err(Error::corrupt(
            name,
            OFF_HEADER_LENGTH,
            format!("QCOW2 header_length {header_length} is not a multiple of 8 between {MIN_V3_HEADER_LENGTH} and the cluster size {cluster_size}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// A version 3 header as qemu-img writes it (64 KiB clusters, 1 GiB, no features).
    fn v3() -> Vec<u8> {
        let mut h = vec![0u8; PROBE_LEN];
        h[0..4].copy_from_slice(&MAGIC);
        h[4..8].copy_from_slice(&3u32.to_be_bytes());
        h[20..24].copy_from_slice(&16u32.to_be_bytes());
        h[24..32].copy_from_slice(&(1u64 << 30).to_be_bytes());
        h[96..100].copy_from_slice(&4u32.to_be_bytes());
        h[100..104].copy_from_slice(&112u32.to_be_bytes());
        h
    }

    fn refused(head: &[u8]) -> Error {
        check_upload("disk.qcow2", "qcow2", head, 1 << 20).unwrap_err()
    }

    #[test]
    fn accepts_plain_v3_and_v2() {
        check_upload("a", "qcow2", &v3(), 1 << 20).unwrap();
        let mut h = v3();
        h[4..8].copy_from_slice(&2u32.to_be_bytes());
        h[72..80].copy_from_slice(&[0xff; 8]); // v2: header extensions live here, not features
        check_upload("a", "qcow2", &h, 1 << 20).unwrap();
        // dirty bit and compression type bit are accepted, as by oslo
        let mut h = v3();
        h[79] = 0b1001;
        check_upload("a", "qcow2", &h, 1 << 20).unwrap();
    }

    #[test]
    fn refuses_raw_and_other_formats_declared_qcow2() {
        let e = refused(&[0u8; PROBE_LEN]);
        assert_eq!((e.kind, e.offset), (ErrorKind::Unsupported, Some(0)));
        assert!(e.message.contains("does not match") && e.message.contains("looks like raw"), "{e}");
        let mut vmdk = vec![0u8; PROBE_LEN];
        vmdk[..4].copy_from_slice(b"KDMV");
        assert!(refused(&vmdk).message.contains("looks like vmdk"));
        let mut tar = vec![0u8; PROBE_LEN];
        tar[257..262].copy_from_slice(b"ustar");
        assert!(refused(&tar).message.contains("tar (OVA?)"));
    }

    #[test]
    fn refuses_backing_file_data_file_and_unknown_features() {
        let mut h = v3();
        h[8..16].copy_from_slice(&112u64.to_be_bytes());
        let e = refused(&h);
        assert_eq!(e.offset, Some(OFF_BACKING_FILE_OFFSET));
        assert!(e.message.contains("backing file"), "{e}");

        let mut h = v3();
        h[79] = 0b100;
        let e = refused(&h);
        assert_eq!(e.offset, Some(OFF_INCOMPATIBLE_FEATURES));
        assert!(e.message.contains("external data file"), "{e}");

        for (byte, bit) in [(79usize, 0x10u8), (79, 0x80), (72, 0x01)] {
            let mut h = v3();
            h[byte] |= bit;
            assert!(refused(&h).message.contains("incompatible features"), "byte {byte} bit {bit:#x}");
        }
        let mut h = v3();
        h[79] = 0b10;
        assert_eq!(refused(&h).kind, ErrorKind::Corrupt);
    }

    #[test]
    fn refuses_bad_versions_and_headers() {
        for v in [0u32, 1, 4, u32::MAX] {
            let mut h = v3();
            h[4..8].copy_from_slice(&v.to_be_bytes());
            assert_eq!(refused(&h).offset, Some(OFF_VERSION), "version {v}");
        }
        for bits in [0u32, 8, 22, 63] {
            let mut h = v3();
            h[20..24].copy_from_slice(&bits.to_be_bytes());
            assert_eq!(refused(&h).offset, Some(OFF_CLUSTER_BITS), "cluster_bits {bits}");
        }
        for len in [0u32, 72, 103, 105, 1 << 17] {
            let mut h = v3();
            h[100..104].copy_from_slice(&len.to_be_bytes());
            assert_eq!(refused(&h).offset, Some(OFF_HEADER_LENGTH), "header_length {len}");
        }
    }

    #[test]
    fn short_uploads() {
        // shorter than a QCOW2 can be
        let h = &v3()[..200];
        let e = check_upload("s", "qcow2", h, 200).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Truncated);
        // the caller must pass the whole probe window when the upload is longer
        assert_eq!(check_upload("s", "qcow2", h, 1 << 20).unwrap_err().kind, ErrorKind::InvalidArgument);
        // raw takes anything, even nothing
        check_upload("s", "raw", &[], 0).unwrap();
        check_upload("s", "raw", b"QFI\xfb", 4).unwrap();
        assert_eq!(check_upload("s", "vmdk", &[0; 512], 512).unwrap_err().kind, ErrorKind::Unsupported);
    }

    /// Real files from qemu-img: a plain image passes, one with a backing file, one with an
    /// external data file, extended L2 and raw data are refused, as Glance refuses them.
    #[test]
    fn qemu_img_images() {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
        let run = |args: &[&str]| {
            let st = Command::new("qemu-img").args(args).output().expect("qemu-img");
            assert!(st.status.success(), "qemu-img {args:?}: {}", String::from_utf8_lossy(&st.stderr));
        };
        run(&["create", "-q", "-f", "qcow2", &p("base.qcow2"), "16M"]);
        run(&["create", "-q", "-f", "qcow2", "-o", "compat=0.10", &p("v2.qcow2"), "16M"]);
        run(&["create", "-q", "-f", "qcow2", "-b", &p("base.qcow2"), "-F", "qcow2", &p("child.qcow2")]);
        run(&["create", "-q", "-f", "qcow2", "-o", &format!("data_file={}", p("data.raw")), &p("ext.qcow2"), "16M"]);
        run(&["create", "-q", "-f", "qcow2", "-o", "extended_l2=on", &p("l2.qcow2"), "16M"]);
        run(&["create", "-q", "-f", "qcow2", "-o", "compression_type=zstd", &p("zstd.qcow2"), "16M"]);
        run(&["create", "-q", "-f", "raw", &p("disk.raw"), "1M"]);
        let check = |n: &str, fmt: &str| {
            let data = std::fs::read(p(n)).unwrap();
            let head = &data[..data.len().min(PROBE_LEN)];
            check_upload(n, fmt, head, data.len() as u64)
        };
        check("base.qcow2", "qcow2").unwrap();
        check("v2.qcow2", "qcow2").unwrap();
        check("zstd.qcow2", "qcow2").unwrap();
        check("child.qcow2", "raw").unwrap();
        assert!(check("child.qcow2", "qcow2").unwrap_err().message.contains("backing file"));
        assert!(check("ext.qcow2", "qcow2").unwrap_err().message.contains("external data file"));
        assert!(check("l2.qcow2", "qcow2").unwrap_err().message.contains("0x10"));
        assert!(check("disk.raw", "qcow2").unwrap_err().message.contains("looks like raw"));
    }

    /// stackferry's own QCOW2 header passes.
    #[test]
    fn our_header_passes() {
        let mut cluster = vec![0u8; 65536];
        super::super::header::Header {
            cluster_bits: 16,
            size: 1 << 30,
            l1_size: 2,
            l1_table_offset: 65536,
            refcount_table_offset: 131072,
            refcount_table_clusters: 1,
        }
        .write(&mut cluster);
        check_upload("ours", "qcow2", &cluster[..PROBE_LEN], 1 << 20).unwrap();
    }
}
