//! End to end through the `stackferry` binary, with qemu-img as the oracle: every VMDK
//! subformat qemu-img writes, with sparse, all-zero and full data and grain-unaligned sizes,
//! converted to QCOW2, compressed QCOW2 and raw; `qemu-img check` clean, `qemu-img compare`
//! identical, and the reported content digest equal to the digest of qemu-img's own reading.

mod common;
use common::*;
use std::path::Path;

fn convert_and_check(vmdk: &Path, dir: &Path, what: &str) {
    let want = oracle_digest(vmdk, "vmdk", dir);
    // Raw output of the multi-GiB empty fixtures costs only time (hashing zeros): raw is
    // exercised on every disk up to 1 GiB.
    let small = stackferry::input::inspect(
        stackferry::native::FileSource::open(vmdk).unwrap(),
        &stackferry::native::DirFiles::default(),
    )
    .map(|i| i.disks[0].virtual_size <= 1 << 30)
    .unwrap_or(true);
    for (args, fmt, name) in [
        (&["-O", "qcow2"][..], "qcow2", "out.qcow2"),
        (&["-O", "qcow2", "-c"][..], "qcow2", "outc.qcow2"),
        (&["-O", "raw"][..], "raw", "out.raw"),
    ] {
        if fmt == "raw" && !small {
            continue;
        }
        let out = dir.join(name);
        let mut a = vec!["convert", p(vmdk), "-o", p(&out), "--json", "--sha512"];
        a.extend_from_slice(args);
        let o = stackferry(&a);
        assert!(o.status.success(), "{what} {args:?}: {}", text(&o));
        let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(report[0]["report"]["content_digest"].as_str().unwrap(), want, "{what} {args:?}: content digest");
        let bytes = std::fs::read(&out).unwrap();
        use sha2::Digest;
        assert_eq!(
            report[0]["report"]["sha512"].as_str().unwrap(),
            hex::encode(sha2::Sha512::digest(&bytes)),
            "{what}: sha512"
        );
        assert_identical(vmdk, "vmdk", &out, fmt, &format!("{what} {args:?}"));
        std::fs::remove_file(&out).unwrap();
    }
}

fn subformat_case(subformat: &str, size: u64, pattern: Pattern, seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("src.raw");
    write_raw(&raw, size, pattern, seed);
    let vmdk = dir.path().join("disk.vmdk");
    make_vmdk(&raw, &vmdk, subformat);
    std::fs::remove_file(&raw).unwrap();
    convert_and_check(&vmdk, dir.path(), &format!("{subformat} {pattern:?} {size}"));
}

// Sizes: grain-unaligned (5 MiB + 3 sectors), tiny, and for twoGbMaxExtent* past 2 GiB so
// there are several extents.
#[test]
fn monolithic_sparse() {
    subformat_case("monolithicSparse", 5 * 1048576 + 1536, Pattern::Sparse, 1);
    subformat_case("monolithicSparse", 3 * 1048576, Pattern::AllZero, 2);
    subformat_case("monolithicSparse", 2 * 1048576 + 512, Pattern::Full, 3);
}

#[test]
fn stream_optimized() {
    subformat_case("streamOptimized", 5 * 1048576 + 1536, Pattern::Sparse, 4);
    subformat_case("streamOptimized", 3 * 1048576, Pattern::AllZero, 5);
    subformat_case("streamOptimized", 2 * 1048576 + 512, Pattern::Full, 6);
    subformat_case("streamOptimized", 64 * 1048576 + 4096, Pattern::Sparse, 7);
}

#[test]
fn monolithic_flat() {
    subformat_case("monolithicFlat", 5 * 1048576 + 1536, Pattern::Sparse, 8);
    subformat_case("monolithicFlat", 1048576, Pattern::AllZero, 9);
    subformat_case("monolithicFlat", 1048576 + 512, Pattern::Full, 10);
}

#[test]
fn two_gb_max_extent_sparse() {
    subformat_case("twoGbMaxExtentSparse", (2u64 << 30) + 5 * 1048576 + 1536, Pattern::Sparse, 11);
    subformat_case("twoGbMaxExtentSparse", 1048576, Pattern::Full, 12);
}

#[test]
fn two_gb_max_extent_flat() {
    subformat_case("twoGbMaxExtentFlat", (2u64 << 30) + 3 * 1048576 + 512, Pattern::Sparse, 13);
}

/// Every real-world fixture that qemu-img reads converts identically.
#[test]
fn real_world_fixtures() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let dir = tempfile::tempdir().unwrap();
    // The flat fixtures' extent ships gzipped: rebuild it under both names.
    let s = data.join("strozfriedberg+vmdk-rs/data");
    for f in std::fs::read_dir(&s).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, dir.path().join(f.file_name().unwrap())).unwrap();
    }
    let gz = std::fs::File::open(s.join("monolithicFlat-flat.vmdk.reconstructed.gz")).unwrap();
    let mut flat = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz), &mut flat).unwrap();
    std::fs::write(dir.path().join("monolithicFlat-flat.vmdk"), &flat).unwrap();
    std::fs::write(dir.path().join("twoGbMaxExtentFlat-f001.vmdk"), &flat).unwrap();
    let mut cases: Vec<std::path::PathBuf> = [
        "monolithicSparse",
        "streamOptimized",
        "twoGbMaxExtentSparse",
        "monolithicFlat",
        "twoGbMaxExtentFlat",
        "vmfs_thick",
        "streamOptimizedWithMarkers",
    ]
    .iter()
    .map(|n| dir.path().join(format!("{n}.vmdk")))
    .collect();
    for f in [
        "glennmatthews+cot/COT/tests/blank.vmdk",
        "glennmatthews+cot/COT/tests/input.vmdk",
        "glennmatthews+cot/COT/tests/ubuntu.2.0-disk1.vmdk",
        "tk4terui+mdx1/ovf/000001/1mb.vmdk",
        "tk4terui+mdx1/ovf/00_000_essential_none_00_00/64KiB.vmdk",
    ] {
        cases.push(data.join(f));
    }
    for vmdk in cases {
        let work = tempfile::tempdir().unwrap();
        convert_and_check(&vmdk, work.path(), &vmdk.file_name().unwrap().to_string_lossy());
    }
}

/// Inputs that must fail, each with its exit code and what the message must name.
#[test]
fn bad_inputs_fail_clearly() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A stream-optimized disk cut in half.
    let raw = d.join("r.raw");
    write_raw(&raw, 4 * 1048576, Pattern::Full, 21);
    let so = d.join("so.vmdk");
    make_vmdk(&raw, &so, "streamOptimized");
    let bytes = std::fs::read(&so).unwrap();
    std::fs::write(d.join("cut.vmdk"), &bytes[..bytes.len() / 2]).unwrap();
    // A descriptor escaping its directory, and one naming an extent that is not there.
    std::fs::write(d.join("escape.vmdk"), "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\nRW 2048 FLAT \"../../etc/passwd\" 0\n").unwrap();
    std::fs::write(d.join("missing.vmdk"), "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\nRW 2048 FLAT \"nothere-flat.vmdk\" 0\n").unwrap();
    // Not a disk at all.
    std::fs::write(d.join("junk.vmdk"), vec![0x42u8; 5000]).unwrap();
    let snapshot = data.join("strozfriedberg+vmdk-rs/data/vmfs_thick-000001.vmdk");
    let many = data.join("SecurityRonin+vmdk-forensic/core/tests/data/ms3-win.vmdk");
    let cases: Vec<(std::path::PathBuf, i32, Vec<&str>)> = vec![
        (d.join("cut.vmdk"), 1, vec!["cut.vmdk", "offset"]),
        (d.join("escape.vmdk"), 1, vec!["escape.vmdk", "../../etc/passwd"]),
        (d.join("missing.vmdk"), 3, vec!["nothere-flat.vmdk"]),
        (d.join("junk.vmdk"), 1, vec!["junk.vmdk"]),
        (snapshot, 3, vec!["vmfs_thick-000001"]),
        (many, 3, vec!["ms3-win"]),
    ];
    for (input, code, needles) in cases {
        let out = d.join("out.qcow2");
        let o = stackferry(&["convert", p(&input), "-o", p(&out)]);
        let msg = text(&o);
        assert_eq!(o.status.code(), Some(code), "{}: {msg}", input.display());
        for n in needles {
            assert!(msg.contains(n), "{}: message should name {n}: {msg}", input.display());
        }
        assert!(!msg.contains("panicked"), "{msg}");
        assert!(!out.exists(), "no output left behind for {}", input.display());
        assert_eq!(
            std::fs::read_dir(d)
                .unwrap()
                .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".part"))
                .count(),
            0
        );
    }
}
