//! End to end: OVAs and OVF directories opened through `ova`/`ovf`/`input`, disks read with
//! `decode::read_guest` and compared with qemu-img's raw reading of the original VMDK;
//! manifests verified while reading. Real-world OVF fixtures packed into OVAs as well.

mod ova_util;

use ova_util::*;
use stackferry::decode::read_guest;
use stackferry::input::{self, Opened};
use stackferry::native::{DirFiles, FileSource};
use stackferry::source::SourceRef;
use stackferry::ErrorKind;
use std::path::Path;
use std::process::Command;

fn src(p: &Path) -> SourceRef {
    FileSource::open(p).unwrap()
}

struct Case {
    _dir: tempfile::TempDir,
    vmdk: Vec<u8>,
    /// qemu-img's raw reading of the VMDK.
    raw: Vec<u8>,
}

fn case(size: usize, seed: u64) -> Case {
    let dir = tempfile::tempdir().unwrap();
    let raw = make_raw(dir.path(), "orig.raw", size, seed);
    let v = dir.path().join("disk.vmdk");
    stream_vmdk(&raw, &v);
    let back = qemu_raw(&v, &dir.path().join("back.raw"));
    assert_eq!(back, std::fs::read(&raw).unwrap());
    Case { vmdk: std::fs::read(&v).unwrap(), raw: back, _dir: dir }
}

fn read_all(o: &Opened) -> Vec<u8> {
    assert_eq!(o.disks.len(), 1);
    let d = &o.disks[0];
    let mut b = vec![0u8; d.map.size() as usize];
    read_guest(d.map.as_ref(), 0, &mut b).unwrap();
    b
}

fn spec(href: &str, size: u64, cap: u64) -> OvfSpec<'_> {
    OvfSpec {
        name: "vm",
        href,
        file_size: Some(size),
        capacity: cap,
        compression: None,
        chunk: None,
        os_type: "debian11_64Guest",
        firmware: "bios",
    }
}

#[test]
fn ova_disk_reads_like_qemu_in_every_tar_flavour() {
    let c = case(6 << 20, 21);
    let dir = tempfile::tempdir().unwrap();
    let ovf = ovf_text(&spec("disk.vmdk", c.vmdk.len() as u64, c.raw.len() as u64));
    let mf = manifest(&[("vm.ovf", ovf.as_bytes()), ("disk.vmdk", &c.vmdk)]);
    for fmt in ["ustar", "pax", "gnu"] {
        let out = dir.path().join(format!("{fmt}.ova"));
        build_tar(dir.path(), &out, fmt, &[("vm.ovf", ovf.as_bytes()), ("vm.mf", &mf), ("disk.vmdk", &c.vmdk)], "");
        let o = input::open(src(&out), &stackferry::source::NoFiles).unwrap_or_else(|e| panic!("{fmt}: {e}"));
        assert_eq!(o.kind, input::InputKind::Ova);
        assert_eq!(o.vm.as_ref().unwrap().name, "vm");
        assert!(read_all(&o) == c.raw, "{fmt}: guest bytes differ from qemu-img");
        let verified = o.disks[0].check.as_ref().unwrap().finish().unwrap();
        assert_eq!(verified, vec!["vm.ovf", "disk.vmdk"], "{fmt}");
        assert!(
            !o.warnings.iter().any(|w| w.to_string().contains("not listed") || w.to_string().contains("no manifest")),
            "{:?}",
            o.warnings
        );
    }
}

#[test]
fn wrong_disk_digest_fails_when_the_disk_has_been_read() {
    let c = case(3 << 20, 22);
    let dir = tempfile::tempdir().unwrap();
    let ovf = ovf_text(&spec("disk.vmdk", c.vmdk.len() as u64, c.raw.len() as u64));
    let mut other = c.vmdk.clone();
    other[100] ^= 1;
    let mf = manifest(&[("vm.ovf", ovf.as_bytes()), ("disk.vmdk", &other)]);
    let out = dir.path().join("bad.ova");
    build_tar(dir.path(), &out, "pax", &[("vm.ovf", ovf.as_bytes()), ("vm.mf", &mf), ("disk.vmdk", &c.vmdk)], "");
    let o = stackferry::ova::open(src(&out)).unwrap();
    assert!(read_all(&o) == c.raw);
    let e = o.disks[0].check.as_ref().unwrap().finish().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Checksum);
    assert_eq!(e.file, "disk.vmdk");
    assert!(e.message.contains("vm.mf"), "{e}");
}

#[test]
fn gzip_and_chunked_disks_read_like_qemu() {
    let c = case(5 << 20, 23);
    let dir = tempfile::tempdir().unwrap();
    // gzip: the manifest lists the compressed file.
    let vp = dir.path().join("disk.vmdk");
    std::fs::write(&vp, &c.vmdk).unwrap();
    run(Command::new("gzip").arg("-k").arg(&vp));
    let gz = std::fs::read(dir.path().join("disk.vmdk.gz")).unwrap();
    let mut s = spec("disk.vmdk.gz", gz.len() as u64, c.raw.len() as u64);
    s.compression = Some("gzip");
    let ovf = ovf_text(&s);
    let mf = manifest(&[("vm.ovf", ovf.as_bytes()), ("disk.vmdk.gz", &gz)]);
    let out = dir.path().join("gz.ova");
    build_tar(dir.path(), &out, "ustar", &[("vm.ovf", ovf.as_bytes()), ("vm.mf", &mf), ("disk.vmdk.gz", &gz)], "");
    let o = stackferry::ova::open(src(&out)).unwrap();
    assert!(read_all(&o) == c.raw, "gzip: guest bytes differ from qemu-img");
    assert_eq!(o.disks[0].check.as_ref().unwrap().finish().unwrap(), vec!["vm.ovf", "disk.vmdk.gz"]);

    // Chunked (after compression, as DSP0243 orders it): gzip file split in three.
    let chunk = gz.len().div_ceil(3) as u64;
    let mut s = spec("disk.vmdk.gz", gz.len() as u64, c.raw.len() as u64);
    s.compression = Some("gzip");
    s.chunk = Some(chunk);
    let ovf = ovf_text(&s);
    let parts: Vec<&[u8]> = gz.chunks(chunk as usize).collect();
    assert_eq!(parts.len(), 3);
    let names = ["disk.vmdk.gz.000000000", "disk.vmdk.gz.000000001", "disk.vmdk.gz.000000002"];
    let mut listed: Vec<(&str, &[u8])> = vec![("vm.ovf", ovf.as_bytes())];
    listed.extend(names.iter().copied().zip(parts.iter().copied()));
    let mf = manifest(&listed);
    let mut members = vec![("vm.ovf", ovf.as_bytes()), ("vm.mf", mf.as_slice())];
    members.extend(names.iter().copied().zip(parts.iter().copied()));
    let out = dir.path().join("chunked.ova");
    build_tar(dir.path(), &out, "ustar", &members, "");
    let o = stackferry::ova::open(src(&out)).unwrap();
    assert!(read_all(&o) == c.raw, "chunked: guest bytes differ from qemu-img");
    let mut v = o.disks[0].check.as_ref().unwrap().finish().unwrap();
    v.sort();
    assert_eq!(v, vec!["disk.vmdk.gz.000000000", "disk.vmdk.gz.000000001", "disk.vmdk.gz.000000002", "vm.ovf"]);
}

#[test]
fn ovf_directory_through_input_and_top_level() {
    let c = case(2 << 20, 24);
    let dir = tempfile::tempdir().unwrap();
    let ovf = ovf_text(&spec("disk.vmdk", c.vmdk.len() as u64, c.raw.len() as u64));
    let (po, pv, pm) = (dir.path().join("vm.ovf"), dir.path().join("disk.vmdk"), dir.path().join("vm.mf"));
    std::fs::write(&po, &ovf).unwrap();
    std::fs::write(&pv, &c.vmdk).unwrap();
    std::fs::write(&pm, manifest(&[("vm.ovf", ovf.as_bytes()), ("disk.vmdk", &c.vmdk)])).unwrap();
    let files = DirFiles::default();
    let inputs = vec![src(&pv), src(&pm), src(&po)];
    assert_eq!(input::top_level(&inputs, &files).unwrap(), vec![2]);
    let o = input::open(src(&po), &files).unwrap();
    assert_eq!(o.kind, input::InputKind::Ovf);
    assert!(read_all(&o) == c.raw);
    assert_eq!(o.disks[0].check.as_ref().unwrap().finish().unwrap().len(), 2);
    let ins = input::inspect(src(&po), &files).unwrap();
    assert_eq!(ins.disks[0].virtual_size, c.raw.len() as u64);
    assert!(ins.missing.is_empty());
}

#[test]
fn virtualbox_fixture_opens_and_its_manifest_verifies() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/glennmatthews+cot/COT/tests/ubuntu.2.0.ovf");
    let o = input::open(src(&p), &DirFiles::default()).unwrap();
    assert_eq!(o.disks.len(), 1);
    let d = &o.disks[0];
    assert_eq!(d.map.size(), 8 << 30);
    // An empty disk: the first and last MiB read as zeros.
    let mut b = vec![0xffu8; 1 << 20];
    read_guest(d.map.as_ref(), 0, &mut b).unwrap();
    assert!(b.iter().all(|&x| x == 0));
    read_guest(d.map.as_ref(), (8 << 30) - (1 << 20), &mut b).unwrap();
    assert!(b.iter().all(|&x| x == 0));
    // The shipped manifest's SHA256 of the VMDK verifies (finish reads what was not read).
    let v = o.disks[0].check.as_ref().unwrap().finish().unwrap();
    assert_eq!(v.len(), 2, "{v:?}");
    assert!(v[1].ends_with("ubuntu.2.0-disk1.vmdk"));
}

/// A descriptor disk (monolithicFlat) in an OVA: the VMDK reader opens its extent through
/// the package, and the manifest entry of the extent is checked too.
#[test]
fn descriptor_disk_extents_are_checked_against_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let raw = make_raw(dir.path(), "f.raw", 3 << 20, 25);
    let d = dir.path().join("flat.vmdk");
    run(Command::new("qemu-img")
        .args(["convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=monolithicFlat"])
        .arg(&raw)
        .arg(&d));
    let desc = std::fs::read(&d).unwrap();
    let flat = std::fs::read(dir.path().join("flat-flat.vmdk")).unwrap();
    let want = qemu_raw(&d, &dir.path().join("back.raw"));
    let ovf = ovf_text(&spec("flat.vmdk", desc.len() as u64, want.len() as u64));
    for corrupt in [false, true] {
        let mut listed_flat = flat.clone();
        if corrupt {
            listed_flat[0] ^= 1;
        }
        let mf = manifest(&[("vm.ovf", ovf.as_bytes()), ("flat.vmdk", &desc), ("flat-flat.vmdk", &listed_flat)]);
        let out = dir.path().join(format!("flat-{corrupt}.ova"));
        build_tar(
            dir.path(),
            &out,
            "ustar",
            &[("vm.ovf", ovf.as_bytes()), ("vm.mf", &mf), ("flat.vmdk", &desc), ("flat-flat.vmdk", &flat)],
            "",
        );
        let o = stackferry::ova::open(src(&out)).unwrap();
        assert!(read_all(&o) == want);
        assert!(!o.warnings.iter().any(|w| w.to_string().contains("not needed")), "{:?}", o.warnings);
        let r = o.disks[0].check.as_ref().unwrap().finish();
        if corrupt {
            let e = r.unwrap_err();
            assert_eq!((e.kind, e.file.as_str()), (ErrorKind::Checksum, "flat-flat.vmdk"), "{e}");
        } else {
            assert_eq!(r.unwrap(), vec!["vm.ovf", "flat.vmdk", "flat-flat.vmdk"]);
        }
    }
}

/// The real-world OVF fixtures whose disks ship with them, packed into an OVA with a
/// manifest: every guest byte equals qemu-img's reading of the VMDK.
#[test]
fn fixture_packages_as_ovas_read_like_qemu() {
    let dir = tempfile::tempdir().unwrap();
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    for (ovf, vmdk, size) in [
        ("tk4terui+mdx1/ovf/000001/000001.ovf", "1mb.vmdk", 1u64 << 20),
        ("tk4terui+mdx1/ovf/00_000_essential_none_00_00/vm.ovf", "64KiB.vmdk", 64 << 10),
        ("glennmatthews+cot/COT/tests/vmware.ovf", "input.vmdk", 1 << 30),
    ] {
        let op = base.join(ovf);
        let vp = op.parent().unwrap().join(vmdk);
        let (ob, vb) = (std::fs::read(&op).unwrap(), std::fs::read(&vp).unwrap());
        let oname = op.file_name().unwrap().to_str().unwrap().to_string();
        let mname = oname.replace(".ovf", ".mf");
        let mf = manifest(&[(&oname, &ob), (vmdk, &vb)]);
        let out = dir.path().join(format!("{vmdk}.ova"));
        build_tar(dir.path(), &out, "pax", &[(&oname, &ob), (&mname, &mf), (vmdk, &vb)], "");
        let o = input::open(src(&out), &stackferry::source::NoFiles).unwrap_or_else(|e| panic!("{ovf}: {e}"));
        let d = &o.disks[0];
        assert_eq!(d.map.size(), size, "{ovf}");
        let raw = dir.path().join(format!("{vmdk}.raw"));
        run(Command::new("qemu-img").args(["convert", "-O", "raw"]).arg(&vp).arg(&raw));
        let want = FileSource::open(&raw).unwrap();
        assert_eq!(want.len(), size);
        let step = 16usize << 20;
        let (mut a, mut b) = (vec![0u8; step], vec![0u8; step]);
        let mut off = 0u64;
        while off < size {
            let n = step.min((size - off) as usize);
            read_guest(d.map.as_ref(), off, &mut a[..n]).unwrap();
            want.read_exact_at(off, &mut b[..n]).unwrap();
            assert!(a[..n] == b[..n], "{ovf}: differs in [{off}, +{n})");
            off += n as u64;
        }
        assert_eq!(o.disks[0].check.as_ref().unwrap().finish().unwrap(), vec![oname.as_str(), vmdk], "{ovf}");
    }
}
