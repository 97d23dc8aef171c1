//! gzip-compressed disk files (`ovf:compression="gzip"`) and chunked files (`ovf:chunkSize`):
//! files compressed by the real `gzip` tool, read back through `gzip::GzipSource`.

mod ova_util;

use ova_util::*;
use stackferry::gzip::{self, GzipSource};
use stackferry::native::FileSource;
use stackferry::ErrorKind;
use std::path::Path;
use std::process::Command;

fn gzip_file(p: &Path) -> std::path::PathBuf {
    run(Command::new("gzip").args(["-k", "-6", "-f"]).arg(p));
    p.with_file_name(format!("{}.gz", p.file_name().unwrap().to_string_lossy()))
}

#[test]
fn gzip_member_matches_original_at_random_offsets() {
    let dir = tempfile::tempdir().unwrap();
    // A stream-optimized VMDK of a random disk, plus raw random data so the file is well
    // over the kept tail and the input buffer.
    let raw = make_raw(dir.path(), "d.raw", 24 << 20, 11);
    let vmdk = dir.path().join("d.vmdk");
    stream_vmdk(&raw, &vmdk);
    let mut orig = std::fs::read(&vmdk).unwrap();
    orig.extend(rand_bytes(5, 3 << 20));
    std::fs::write(&vmdk, &orig).unwrap();
    let gz = gzip_file(&vmdk);
    let inner = FileSource::open(&gz).unwrap();
    assert!(gzip::is_gzip(inner.as_ref()));
    let src = GzipSource::open(inner, "d.vmdk.gz (inflated)").unwrap();
    assert_eq!(src.len(), orig.len() as u64);
    let n = orig.len() as u64;
    // Forward, backward (restart), tail, overlapping, and 200 pseudo-random reads.
    let mut offs: Vec<(u64, usize)> =
        vec![(0, 512), (n - 1024, 1024), (1 << 20, 65536), (4096, 100), (n - (2 << 20), 3 << 20), (7, 1), (n - 1, 1)];
    let r = rand_bytes(99, 200 * 8);
    for c in r.chunks(8) {
        let v = u64::from_le_bytes(c.try_into().unwrap());
        let len = 1 + (v >> 40) as usize % 200_000;
        offs.push((v % (n - len as u64), len));
    }
    for (o, l) in offs {
        let l = l.min((n - o) as usize);
        let mut b = vec![0u8; l];
        src.read_exact_at(o, &mut b).unwrap();
        assert!(b == orig[o as usize..o as usize + l], "mismatch at {o}+{l}");
    }
    let mut b = [0u8; 2];
    assert_eq!(src.read_exact_at(n - 1, &mut b).unwrap_err().kind, ErrorKind::Truncated);
}

#[test]
fn gzip_bomb_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let z = dir.path().join("zeros");
    std::fs::write(&z, vec![0u8; 64 << 20]).unwrap();
    let gz = gzip_file(&z);
    assert!(std::fs::metadata(&gz).unwrap().len() < 1 << 20);
    let e = GzipSource::open_with_limit(FileSource::open(&gz).unwrap(), "zeros", 16 << 20).err().unwrap();
    assert_eq!(e.kind, ErrorKind::TooLarge);
    assert!(e.message.contains("deflate bomb") && e.message.contains(&(16u64 << 20).to_string()), "{e}");
    assert!(e.file.ends_with("zeros.gz"), "{e}");
    // Under the limit it reads.
    let s = GzipSource::open_with_limit(FileSource::open(&gz).unwrap(), "zeros", 64 << 20).unwrap();
    assert_eq!(s.len(), 64 << 20);
    // Corrupt deflate data is reported with its compressed offset.
    let mut bytes = std::fs::read(&gz).unwrap();
    for b in &mut bytes[20..40] {
        *b = 0xff;
    }
    let e = GzipSource::open(stackferry::source::MemSource::new("bad.gz", bytes), "bad").err().unwrap();
    assert_eq!(e.kind, ErrorKind::Corrupt, "{e}");
    assert_eq!(e.file, "bad.gz");
}

/// An OVA whose disk is gzip-compressed (and listed as such), with a manifest over the
/// compressed file.
#[test]
fn ova_with_gzip_disk_is_inspected_through_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let raw = make_raw(dir.path(), "d.raw", 4 << 20, 3);
    let vmdk = dir.path().join("disk.vmdk");
    stream_vmdk(&raw, &vmdk);
    let gz = std::fs::read(gzip_file(&vmdk)).unwrap();
    let ovf = ovf_text(&OvfSpec {
        name: "gz",
        href: "disk.vmdk.gz",
        file_size: Some(gz.len() as u64),
        capacity: 4 << 20,
        compression: Some("gzip"),
        chunk: None,
        os_type: "windows9_64Guest",
        firmware: "bios",
    });
    let mf = manifest(&[("vm.ovf", ovf.as_bytes()), ("disk.vmdk.gz", &gz)]);
    let out = dir.path().join("gz.ova");
    build_tar(dir.path(), &out, "ustar", &[("vm.ovf", ovf.as_bytes()), ("vm.mf", &mf), ("disk.vmdk.gz", &gz)], "");
    let ins = stackferry::input::inspect(FileSource::open(&out).unwrap(), &stackferry::source::NoFiles).unwrap();
    let vm = ins.vm.as_ref().unwrap();
    assert_eq!(vm.disks[0].compression.as_deref(), Some("gzip"));
    assert!(ins.missing.is_empty());
    // The VMDK inside was read through gzip.
    assert_eq!((ins.disks[0].subformat.as_str(), ins.disks[0].virtual_size), ("streamOptimized", 4 << 20));
    assert!(
        ins.disks[0].files.iter().any(|f| f.name == "disk.vmdk.gz" && f.size == Some(gz.len() as u64)),
        "{:?}",
        ins.disks[0].files
    );
    let s = ins.suggestion.as_ref().unwrap();
    assert_eq!(
        (s.get("hw_disk_bus"), s.get("hw_vif_model"), s.get("os_type")),
        (Some("sata"), Some("e1000e"), Some("windows"))
    );
    // A gzip flag on a file that is not gzip is reported, not misread.
    let plain = std::fs::read(&vmdk).unwrap();
    let ovf2 = ovf.replace(&format!("ovf:size=\"{}\"", gz.len()), &format!("ovf:size=\"{}\"", plain.len()));
    let out2 = dir.path().join("notgz.ova");
    build_tar(dir.path(), &out2, "ustar", &[("vm.ovf", ovf2.as_bytes()), ("disk.vmdk.gz", &plain)], "");
    let e = stackferry::ova::open(FileSource::open(&out2).unwrap()).err().unwrap();
    assert_eq!(e.kind, ErrorKind::Corrupt, "{e}");
    assert_eq!(e.file, "disk.vmdk.gz");
    assert!(e.message.contains("not a gzip member"), "{e}");
}

#[test]
fn chunked_disk_missing_chunk_is_listed() {
    let dir = tempfile::tempdir().unwrap();
    let data = rand_bytes(1, 250_000);
    let chunk = 100_000u64;
    let ovf = ovf_text(&OvfSpec {
        name: "ch",
        href: "disk.vmdk",
        file_size: Some(data.len() as u64),
        capacity: 1 << 20,
        compression: None,
        chunk: Some(chunk),
        os_type: "otherGuest",
        firmware: "bios",
    });
    let parts: Vec<&[u8]> = data.chunks(chunk as usize).collect();
    let out = dir.path().join("ch.ova");
    build_tar(
        dir.path(),
        &out,
        "ustar",
        &[
            ("vm.ovf", ovf.as_bytes()),
            ("disk.vmdk.000000000", parts[0]),
            ("disk.vmdk.000000001", parts[1]),
            ("disk.vmdk.000000002", parts[2]),
        ],
        "",
    );
    let ins = stackferry::ova::inspect(FileSource::open(&out).unwrap()).unwrap();
    assert!(ins.missing.is_empty(), "{:?}", ins.missing);
    assert!(
        ins.warnings.iter().any(|w| w.to_string().contains("disk.vmdk")),
        "the chunks are handed to the VMDK reader: {:?}",
        ins.warnings
    );

    let out = dir.path().join("ch2.ova");
    build_tar(
        dir.path(),
        &out,
        "ustar",
        &[("vm.ovf", ovf.as_bytes()), ("disk.vmdk.000000000", parts[0]), ("disk.vmdk.000000001", parts[1])],
        "",
    );
    let ins = stackferry::ova::inspect(FileSource::open(&out).unwrap()).unwrap();
    assert_eq!(ins.missing, vec!["disk.vmdk.000000002"]);
    let e = stackferry::ova::open(FileSource::open(&out).unwrap()).err().unwrap();
    assert_eq!(e.kind, ErrorKind::MissingFile);

    // A short chunk followed by another is corrupt.
    let out = dir.path().join("ch3.ova");
    build_tar(
        dir.path(),
        &out,
        "ustar",
        &[("vm.ovf", ovf.as_bytes()), ("disk.vmdk.000000000", &parts[0][..50]), ("disk.vmdk.000000001", parts[1])],
        "",
    );
    let e = stackferry::ova::open(FileSource::open(&out).unwrap()).err().unwrap();
    assert_eq!(e.kind, ErrorKind::Corrupt, "{e}");
    assert_eq!(e.file, "disk.vmdk.000000000");
}
