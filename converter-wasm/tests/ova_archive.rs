//! OVA archives built by Python's tarfile (ustar, pax, GNU): members found in place at the
//! offsets tarfile reports, manifests, hostile names and limits.

mod ova_util;

use ova_util::*;
use stackferry::native::FileSource;
use stackferry::ova::{self, Archive};
use stackferry::source::SourceRef;
use stackferry::ErrorKind;
use std::path::Path;

fn open_src(p: &Path) -> SourceRef {
    FileSource::open(p).unwrap()
}

/// A small stream-optimized VMDK made by qemu-img from random data, with its raw original.
fn disk(dir: &Path) -> (Vec<u8>, Vec<u8>) {
    let raw = make_raw(dir, "disk.raw", 4 << 20, 7);
    let vmdk = dir.join("disk.vmdk");
    stream_vmdk(&raw, &vmdk);
    (std::fs::read(&vmdk).unwrap(), std::fs::read(&raw).unwrap())
}

fn spec<'a>(href: &'a str, size: u64) -> OvfSpec<'a> {
    OvfSpec {
        name: "testvm",
        href,
        file_size: Some(size),
        capacity: 4 << 20,
        compression: None,
        chunk: None,
        os_type: "ubuntu64Guest",
        firmware: "efi",
    }
}

#[test]
fn members_are_found_in_place_for_every_tar_flavour() {
    let dir = tempfile::tempdir().unwrap();
    let (vmdk, _) = disk(dir.path());
    let long = format!("{}/{}.vmdk", "d".repeat(60), "long-name-".repeat(8));
    let ovf = ovf_text(&spec("disk.vmdk", vmdk.len() as u64));
    for (fmt, disk_name) in
        [("ustar", "disk.vmdk"), ("pax", long.as_str()), ("gnu", long.as_str()), ("pax", "dïsk-ünicode.vmdk")]
    {
        let out = dir.path().join(format!("{fmt}.ova"));
        let members: Vec<(&str, &[u8])> = vec![("vm.ovf", ovf.as_bytes()), (disk_name, &vmdk), ("small.txt", b"hello")];
        let want = build_tar(dir.path(), &out, fmt, &members, "");
        let ar = Archive::read(open_src(&out)).unwrap_or_else(|e| panic!("{fmt}: {e}"));
        assert_eq!(ar.members.len(), 3, "{fmt}");
        for (m, w) in ar.members.iter().zip(&want) {
            assert_eq!(m.name, w.name, "{fmt}");
            assert_eq!(m.offset, w.offset_data, "{fmt} {}", m.name);
            assert_eq!(m.size, w.size, "{fmt} {}", m.name);
            // The last header block is right before the data; extended headers before it.
            assert_eq!(m.header_offset + 512, m.offset, "{fmt} {}", m.name);
            assert!(m.header_offset >= w.offset);
        }
        if fmt != "ustar" {
            // A pax or GNU long name takes extra header blocks before the member's own.
            assert!(want[1].offset_data - want[1].offset > 512, "{fmt}: long name did not need an extended header");
        }
        // Content read in place equals what went in.
        for (name, content) in &members {
            let s = ar.member(name).unwrap().unwrap();
            let mut b = vec![0u8; content.len()];
            s.read_exact_at(0, &mut b).unwrap();
            assert_eq!(&b, content, "{fmt} {name}");
            assert_eq!(s.name(), *name);
        }
    }
}

#[test]
fn inspect_reads_vm_and_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let (vmdk, _) = disk(dir.path());
    let ovf = ovf_text(&spec("disk.vmdk", vmdk.len() as u64));
    let mf = manifest(&[("vm.ovf", ovf.as_bytes()), ("disk.vmdk", &vmdk)]);
    let out = dir.path().join("vm.ova");
    build_tar(
        dir.path(),
        &out,
        "ustar",
        &[
            ("vm.ovf", ovf.as_bytes()),
            ("vm.mf", &mf),
            ("disk.vmdk", &vmdk),
            ("vm.cert", b"-----BEGIN CERTIFICATE-----\n"),
        ],
        "",
    );
    let ins = stackferry::input::inspect(open_src(&out), &stackferry::source::NoFiles).unwrap();
    assert_eq!(ins.kind, stackferry::input::InputKind::Ova);
    assert_eq!(ins.name, out.display().to_string());
    let vm = ins.vm.as_ref().unwrap();
    assert_eq!(
        (vm.name.as_str(), vm.vcpus, vm.memory_mib, vm.firmware.as_str()),
        ("testvm", Some(2), Some(4096), "efi")
    );
    assert_eq!(vm.disks[0].controller.as_ref().unwrap().model.as_deref(), Some("pvscsi"));
    assert_eq!(vm.nics[0].model.as_deref(), Some("vmxnet3"));
    let s = ins.suggestion.as_ref().unwrap();
    assert_eq!(
        (s.get("hw_disk_bus"), s.get("hw_firmware_type"), s.get("hw_machine_type")),
        (Some("virtio"), Some("uefi"), Some("q35"))
    );
    assert!(ins.missing.is_empty(), "{:?}", ins.missing);
    assert_eq!((ins.disks[0].subformat.as_str(), ins.disks[0].virtual_size), ("streamOptimized", 4 << 20));
    assert!(
        ins.warnings.iter().any(|w| w.to_string().contains("vm.cert") && w.to_string().contains("not verified")),
        "{:?}",
        ins.warnings
    );
    assert!(
        !ins.warnings.iter().any(|w| w.to_string().contains("no manifest") || w.to_string().contains("not listed")),
        "{:?}",
        ins.warnings
    );
    // The archive reader alone: the same input, the suggestion left to `input`.
    let ins = ova::inspect(open_src(&out)).unwrap();
    assert_eq!(ins.kind, stackferry::input::InputKind::Ova);
    assert!(ins.suggestion.is_none());
}

#[test]
fn missing_manifest_is_a_warning_and_missing_disk_is_listed() {
    let dir = tempfile::tempdir().unwrap();
    let (vmdk, _) = disk(dir.path());
    let ovf = ovf_text(&spec("disk.vmdk", vmdk.len() as u64));
    let out = dir.path().join("nomf.ova");
    build_tar(dir.path(), &out, "pax", &[("vm.ovf", ovf.as_bytes()), ("disk.vmdk", &vmdk)], "");
    let ins = ova::inspect(open_src(&out)).unwrap();
    assert!(ins.warnings.iter().any(|w| w.to_string().contains("no manifest (vm.mf)")), "{:?}", ins.warnings);

    let out = dir.path().join("nodisk.ova");
    build_tar(dir.path(), &out, "ustar", &[("vm.ovf", ovf.as_bytes())], "");
    let ins = ova::inspect(open_src(&out)).unwrap();
    assert_eq!(ins.missing, vec!["disk.vmdk"]);
    let e = ova::open(open_src(&out)).err().unwrap();
    assert_eq!(e.kind, ErrorKind::MissingFile);
    assert!(e.to_string().contains("disk.vmdk"), "{e}");
}

#[test]
fn wrong_descriptor_digest_is_a_checksum_error() {
    let dir = tempfile::tempdir().unwrap();
    let (vmdk, _) = disk(dir.path());
    let ovf = ovf_text(&spec("disk.vmdk", vmdk.len() as u64));
    let mf = manifest(&[("vm.ovf", b"something else"), ("disk.vmdk", &vmdk)]);
    let out = dir.path().join("bad.ova");
    build_tar(dir.path(), &out, "ustar", &[("vm.ovf", ovf.as_bytes()), ("vm.mf", &mf), ("disk.vmdk", &vmdk)], "");
    let e = ova::open(open_src(&out)).err().unwrap();
    assert_eq!(e.kind, ErrorKind::Checksum, "{e}");
    assert_eq!(e.file, "vm.ovf");
    assert!(e.message.contains("vm.mf"), "{e}");
    // inspect reports it without failing.
    let ins = ova::inspect(open_src(&out)).unwrap();
    assert!(ins.warnings.iter().any(|w| w.to_string().contains("does not match")), "{:?}", ins.warnings);
}

#[test]
fn wrong_disk_digest_is_caught_while_reading() {
    use stackferry::manifest::{Manifest, Verifier};
    let dir = tempfile::tempdir().unwrap();
    let (vmdk, _) = disk(dir.path());
    let mut bad = vmdk.clone();
    let n = bad.len();
    bad[n / 2] ^= 0x40;
    let out = dir.path().join("d.ova");
    build_tar(dir.path(), &out, "ustar", &[("disk.vmdk", &bad)], "");
    let ar = Archive::read(open_src(&out)).unwrap();
    let m = Manifest::parse("vm.mf", &manifest(&[("disk.vmdk", &vmdk)])).unwrap();
    let mut v = Verifier::new(&m);
    let s = v.wrap(ar.member("disk.vmdk").unwrap().unwrap(), m.find("disk.vmdk").unwrap());
    v.note_use(&s, 0);
    // Footer first, then front to back, like a stream-optimized reader.
    let mut b = vec![0u8; 1024];
    s.read_exact_at(n as u64 - 1024, &mut b).unwrap();
    let mut all = vec![0u8; n];
    s.read_exact_at(0, &mut all).unwrap();
    let e = v.disk_checks(1)[0].finish().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Checksum);
    assert_eq!(e.file, "disk.vmdk");
    assert!(e.message.contains("vm.mf"));
}

#[test]
fn hostile_member_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (i, bad) in ["../x.vmdk", "/etc/passwd", "a/../../b.vmdk"].iter().enumerate() {
        let out = dir.path().join(format!("evil{i}.ova"));
        let w = build_tar(dir.path(), &out, "pax", &[("vm.ovf", b"<Envelope/>"), (bad, b"x")], "");
        let e = Archive::read(open_src(&out)).err().unwrap();
        assert_eq!(e.kind, ErrorKind::UnsafeName, "{bad}: {e}");
        assert_eq!(e.file, out.display().to_string());
        assert_eq!(e.offset, Some(w[1].offset_data - 512), "{bad}");
        assert!(e.message.contains(bad), "{e}");
        // Through input::open too.
        let e = ova::open(open_src(&out)).err().unwrap();
        assert_eq!(e.kind, ErrorKind::UnsafeName);
    }
}

/// Names a command would take for options (`tar -xf vm.ova NAME`, `qemu-img convert NAME`) are
/// refused wherever they would become files, naming the file and the offset of the reference:
/// as an OVA member (its header) and as the OVF's disk reference (its File element), in the
/// library and through the CLI.
#[test]
fn option_like_names_are_refused_with_their_location() {
    let dir = tempfile::tempdir().unwrap();
    let (vmdk, _) = disk(dir.path());
    let cli = |ova: &Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_stackferry"))
            .arg("convert")
            .arg(ova)
            .arg("-o")
            .arg(dir.path().join("out.qcow2"))
            .output()
            .unwrap()
    };
    for (i, bad) in ["--to-command=sh${IFS}-c${IFS}x", "-rf", "sub/--checkpoint-action=exec=sh"].iter().enumerate() {
        // As a member of the archive: refused at its header.
        let ovf = ovf_text(&spec("disk.vmdk", vmdk.len() as u64));
        let out = dir.path().join(format!("member{i}.ova"));
        let w =
            build_tar(dir.path(), &out, "ustar", &[("vm.ovf", ovf.as_bytes()), ("disk.vmdk", &vmdk), (bad, b"x")], "");
        let e = stackferry::input::open(open_src(&out), &stackferry::source::NoFiles).err().unwrap();
        assert_eq!(e.kind, ErrorKind::UnsafeName, "{bad}: {e}");
        assert_eq!((e.file.as_str(), e.offset), (out.to_str().unwrap(), Some(w[2].offset_data - 512)), "{bad}: {e}");
        assert!(e.message.contains(bad) && e.message.contains("begins with '-'"), "{e}");
        let o = cli(&out);
        let said = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{said}");
        assert!(
            said.contains(&format!("{}: offset {}", out.display(), w[2].offset_data - 512)) && said.contains(bad),
            "{said}"
        );

        // As the OVF's reference to its disk: refused at the File element, before any lookup.
        let ovf = ovf_text(&spec(bad, vmdk.len() as u64));
        let at = ovf.find("<File ").unwrap() as u64;
        let out = dir.path().join(format!("href{i}.ova"));
        build_tar(dir.path(), &out, "ustar", &[("vm.ovf", ovf.as_bytes()), ("disk.vmdk", &vmdk)], "");
        let e = stackferry::input::open(open_src(&out), &stackferry::source::NoFiles).err().unwrap();
        assert_eq!((e.kind, e.file.as_str(), e.offset), (ErrorKind::UnsafeName, "vm.ovf", Some(at)), "{bad}: {e}");
        let o = cli(&out);
        let said = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{said}");
        assert!(said.contains(&format!("vm.ovf: offset {at}")) && said.contains(bad), "{said}");
        // Inspecting says so too, rather than listing the name as a missing file.
        let e = stackferry::input::inspect(open_src(&out), &stackferry::source::NoFiles).err().unwrap();
        assert_eq!((e.kind, e.offset), (ErrorKind::UnsafeName, Some(at)), "{e}");
    }
}

#[test]
fn duplicates_late_descriptor_and_limits() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dup.ova");
    build_tar(dir.path(), &out, "ustar", &[("vm.ovf", b"<Envelope/>"), ("vm.ovf", b"<Envelope/>")], "");
    let e = Archive::read(open_src(&out)).err().unwrap();
    assert_eq!(e.kind, ErrorKind::Corrupt);
    assert!(e.message.contains("twice"), "{e}");

    let out = dir.path().join("late.ova");
    build_tar(dir.path(), &out, "ustar", &[("readme.txt", b"hi"), ("vm.ovf", b"<Envelope/>")], "");
    let mut ar = Archive::read(open_src(&out)).unwrap();
    assert_eq!(ar.descriptor().unwrap().name(), "vm.ovf");
    assert!(ar.warnings.iter().any(|w| w.to_string().contains("not the first member")), "{:?}", ar.warnings);

    let out = dir.path().join("noovf.ova");
    build_tar(dir.path(), &out, "ustar", &[("readme.txt", b"hi")], "");
    let e = ova::open(open_src(&out)).err().unwrap();
    assert_eq!(e.kind, ErrorKind::MissingFile);

    // A pax header body beyond the header budget.
    let out = dir.path().join("bigpax.ova");
    build_tar(dir.path(), &out, "pax", &[("vm.ovf", b"<Envelope/>")], &format!("comment={}", 9 << 20));
    let e = Archive::read(open_src(&out)).err().unwrap();
    assert_eq!(e.kind, ErrorKind::TooLarge, "{e}");

    // More members than allowed.
    let out = dir.path().join("many.ova");
    build_tar(dir.path(), &out, "ustar", &[("vm.ovf", b"<Envelope/>")], &format!("many={}", ova::MAX_MEMBERS));
    let e = Archive::read(open_src(&out)).err().unwrap();
    assert_eq!(e.kind, ErrorKind::TooLarge, "{e}");
    assert!(e.message.contains("members"), "{e}");

    // Not a tar at all / truncated archive.
    let p = dir.path().join("junk.ova");
    let mut junk = vec![0u8; 1024];
    junk[..5].copy_from_slice(b"hello");
    std::fs::write(&p, &junk).unwrap();
    let e = Archive::read(open_src(&p)).err().unwrap();
    assert_eq!(e.kind, ErrorKind::Corrupt, "{e}");
}

#[test]
fn truncated_archive_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.ova");
    let big = rand_bytes(3, 100_000);
    build_tar(dir.path(), &out, "ustar", &[("vm.ovf", b"<Envelope/>"), ("disk.vmdk", &big)], "");
    let whole = std::fs::read(&out).unwrap();
    let cut = dir.path().join("cut.ova");
    std::fs::write(&cut, &whole[..50_000]).unwrap();
    let e = Archive::read(open_src(&cut)).err().unwrap();
    assert_eq!(e.kind, ErrorKind::Truncated, "{e}");
    assert!(e.message.contains("disk.vmdk"), "{e}");
}

#[test]
fn gnu_tar_archives_with_dot_slash_names() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("pkg");
    std::fs::create_dir(&pkg).unwrap();
    let (vmdk, _) = disk(dir.path());
    let ovf = ovf_text(&spec("disk.vmdk", vmdk.len() as u64));
    std::fs::write(pkg.join("vm.ovf"), &ovf).unwrap();
    std::fs::write(pkg.join("disk.vmdk"), &vmdk).unwrap();
    let long = format!("{}.txt", "n".repeat(150));
    std::fs::write(pkg.join(&long), b"long").unwrap();
    for fmt in ["gnu", "posix", "ustar"] {
        let out = dir.path().join(format!("{fmt}.ova"));
        let mut cmd = std::process::Command::new("tar");
        cmd.arg("-C").arg(&pkg).arg(format!("--format={fmt}")).arg("-cf").arg(&out).args(["./vm.ovf", "./disk.vmdk"]);
        if fmt != "ustar" {
            cmd.arg(&long);
        }
        run(&mut cmd);
        let ar = Archive::read(open_src(&out)).unwrap_or_else(|e| panic!("{fmt}: {e}"));
        let names: Vec<&str> = ar.members.iter().map(|m| m.name.as_str()).collect();
        let mut want = vec!["vm.ovf", "disk.vmdk"];
        if fmt != "ustar" {
            want.push(&long);
        }
        assert_eq!(names, want, "{fmt}");
        let ins = ova::inspect(open_src(&out)).unwrap();
        assert!(ins.missing.is_empty(), "{fmt}: {:?}", ins.missing);
        let m = ar.member("disk.vmdk").unwrap().unwrap();
        let mut b = vec![0u8; vmdk.len()];
        m.read_exact_at(0, &mut b).unwrap();
        assert!(b == vmdk, "{fmt}");
    }
}
