//! VMDK reading checked against qemu-img: disks qemu-img writes from random raw files, the
//! real-world fixtures in tests/data, hand-written descriptors, snapshot chains, and damaged
//! inputs that must fail with an error naming the file and the offset (never a panic).

use stackferry::decode::read_guest;
use stackferry::native::{DirFiles, FileSource};
use stackferry::source::{MemSource, NamedFiles};
use stackferry::{vmdk, Disk, Error, ErrorKind, Mapper, RunKind, SourceRef};
use std::fs;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;

const MIB: u64 = 1 << 20;
const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

// ---------------------------------------------------------------- helpers

fn qemu_img(args: &[&str]) -> String {
    let out = Command::new("qemu-img").args(args).output().expect("qemu-img runs");
    assert!(out.status.success(), "qemu-img {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn qemu_io(file: &Path, cmds: &[&str]) {
    let mut args: Vec<String> = Vec::new();
    for c in cmds {
        args.push("-c".into());
        args.push(c.to_string());
    }
    args.push(file.display().to_string());
    let out = Command::new("qemu-io").args(&args).output().expect("qemu-io runs");
    assert!(out.status.success(), "qemu-io {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn open_path(path: &Path) -> stackferry::Result<Disk> {
    let src = FileSource::open(path)?;
    vmdk::open(src, &DirFiles::default())
}

fn inspect_path(path: &Path) -> stackferry::Result<stackferry::DiskInfo> {
    let src = FileSource::open(path)?;
    vmdk::inspect(src, &DirFiles::default())
}

/// Deterministic pseudo-random bytes (xorshift64*), no extra crates.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn fill(&mut self, b: &mut [u8]) {
        for c in b.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            c.copy_from_slice(&v[..c.len()]);
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Pattern {
    /// Random chunks at random (often unaligned) offsets, a compressible run, the last sector.
    Sparse,
    /// Nothing written.
    Zero,
    /// Random data everywhere.
    Full,
}

/// A raw file of `size` bytes filled per `pattern`.
fn make_raw(path: &Path, size: u64, pattern: Pattern, seed: u64) {
    let f = fs::File::create(path).unwrap();
    f.set_len(size).unwrap();
    let mut rng = Rng(seed | 1);
    match pattern {
        Pattern::Zero => {}
        Pattern::Full => {
            let mut buf = vec![0u8; MIB as usize];
            let mut off = 0;
            while off < size {
                let n = (size - off).min(MIB) as usize;
                rng.fill(&mut buf[..n]);
                f.write_all_at(&buf[..n], off).unwrap();
                off += n as u64;
            }
        }
        Pattern::Sparse => {
            for i in 0..24 {
                let len = 1 + rng.below(200 * 1024);
                let off = rng.below(size - len);
                let mut buf = vec![0u8; len as usize];
                if i % 5 == 0 {
                    buf.fill(0x5a); // compresses well
                } else {
                    rng.fill(&mut buf);
                }
                f.write_all_at(&buf, off).unwrap();
            }
            f.write_all_at(&[0xee; 512], size - 512).unwrap();
        }
    }
}

/// Guest ranges our map says hold data (Data/Deflate runs), mapped in steps.
fn data_ranges(map: &dyn Mapper) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut runs = Vec::new();
    while pos < map.size() {
        let n = (64 * MIB).min(map.size() - pos);
        runs.clear();
        map.map(pos, n, &mut runs).unwrap();
        let mut at = pos;
        for r in &runs {
            if matches!(r.kind, RunKind::Data { .. } | RunKind::Deflate { .. }) {
                out.push((at, at + r.len));
            }
            at += r.len;
        }
        assert_eq!(at, pos + n, "runs cover the mapped range");
        pos += n;
    }
    out
}

/// Ranges of a raw file qemu reports as data (holes and zero ranges read as zeros).
fn qemu_data_ranges(raw: &Path) -> Vec<(u64, u64)> {
    let json = qemu_img(&["map", "--output=json", "-f", "raw", p(raw)]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .filter(|e| e["data"].as_bool() == Some(true) && e["zero"].as_bool() != Some(true))
        .map(|e| {
            let s = e["start"].as_u64().unwrap();
            (s, s + e["length"].as_u64().unwrap())
        })
        .collect()
}

/// Assert `disk` reads exactly like the raw file `raw`. Small disks are compared byte for
/// byte; large ones wherever either side has data (elsewhere both read zeros by construction).
fn assert_reads_like(disk: &Disk, raw: &Path, what: &str) {
    let rf = fs::File::open(raw).unwrap();
    let size = rf.metadata().unwrap().len();
    assert_eq!(disk.map.size(), size, "{what}: virtual size");
    assert_eq!(disk.info.virtual_size, size, "{what}: info.virtual_size");
    let mut ranges = if size <= 64 * MIB { vec![(0, size)] } else { data_ranges(disk.map.as_ref()) };
    if size > 64 * MIB {
        ranges.extend(qemu_data_ranges(raw));
    }
    ranges.sort();
    // Unaligned windows too (starting mid-grain, crossing grain, table and extent edges),
    // half of them near where data is.
    let mut rng = Rng(size ^ 0x9e37_79b9);
    let mut windows = Vec::new();
    for i in 0..96 {
        let at = match (i % 2, ranges.get(i / 2 % ranges.len().max(1))) {
            (0, Some(&(s, _))) => s.saturating_sub(rng.below(70_000)),
            _ => rng.below(size),
        }
        .min(size - 1);
        let len = 1 + rng.below((size - at).min(300_000));
        windows.push((at, len));
    }
    for (at, len) in windows {
        let mut ours = vec![0u8; len as usize];
        let mut theirs = vec![0u8; len as usize];
        read_guest(disk.map.as_ref(), at, &mut ours).unwrap_or_else(|err| panic!("{what}: read {len} at {at}: {err}"));
        rf.read_exact_at(&mut theirs, at).unwrap();
        assert!(ours == theirs, "{what}: window of {len} bytes at {at} differs");
    }
    let step = 4 * MIB;
    let mut ours = vec![0u8; step as usize];
    let mut theirs = vec![0u8; step as usize];
    for (s, e) in ranges {
        let mut off = s;
        while off < e {
            let n = (e - off).min(step) as usize;
            read_guest(disk.map.as_ref(), off, &mut ours[..n])
                .unwrap_or_else(|err| panic!("{what}: read at {off}: {err}"));
            rf.read_exact_at(&mut theirs[..n], off).unwrap();
            if ours[..n] != theirs[..n] {
                let i = ours[..n].iter().zip(&theirs[..n]).position(|(a, b)| a != b).unwrap();
                panic!("{what}: first difference at guest byte {}", off + i as u64);
            }
            off += n as u64;
        }
    }
}

/// Open `vmdk` with our reader and compare it with `qemu-img convert -O raw`.
fn assert_same_as_qemu(vmdk: &Path) -> Disk {
    let disk = open_path(vmdk).unwrap_or_else(|e| panic!("{}: {e}", vmdk.display()));
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("qemu.raw");
    qemu_img(&["convert", "-f", "vmdk", "-O", "raw", p(vmdk), p(&raw)]);
    assert_reads_like(&disk, &raw, &vmdk.display().to_string());
    disk
}

/// The error must name `file` (by its path or base name) and carry an offset.
fn assert_located(e: &Error, kind: ErrorKind, file: &Path, offset: Option<u64>) {
    assert_eq!(e.kind, kind, "wrong kind: {e}");
    let base = file.file_name().unwrap().to_str().unwrap();
    assert!(e.file.ends_with(base), "error should name {base}: {e}");
    assert!(e.to_string().contains(base), "message should name {base}: {e}");
    match offset {
        Some(o) => assert_eq!(e.offset, Some(o), "offset: {e}"),
        None => assert!(e.offset.is_some(), "error has no offset: {e}"),
    }
    assert!(e.to_string().contains("offset"), "{e}");
}

// ---------------------------------------------------------------- qemu-img written disks

const SUBFORMATS: [&str; 5] =
    ["monolithicSparse", "monolithicFlat", "twoGbMaxExtentSparse", "twoGbMaxExtentFlat", "streamOptimized"];

#[test]
fn qemu_written_subformats_read_like_qemu() {
    let cases: [(u64, Pattern); 4] = [
        (5 * MIB + 3 * 512, Pattern::Sparse),
        (MIB, Pattern::Zero),
        (3 * MIB + 512, Pattern::Full),
        (7 * MIB + 64 * 1024 + 1024, Pattern::Sparse),
    ];
    for (ci, (size, pattern)) in cases.into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let raw = dir.path().join("in.raw");
        make_raw(&raw, size, pattern, 1000 + ci as u64);
        for sub in SUBFORMATS {
            let out = dir.path().join(format!("{sub}.vmdk"));
            qemu_img(&["convert", "-f", "raw", "-O", "vmdk", "-o", &format!("subformat={sub}"), p(&raw), p(&out)]);
            let disk = assert_same_as_qemu(&out);
            // qemu's raw output and the original must agree too.
            assert_reads_like(&disk, &raw, &format!("{sub} vs original"));
            let info = &disk.info;
            assert_eq!(info.format, "vmdk");
            assert_eq!(info.subformat, sub, "case {ci}");
            assert_eq!(info.virtual_size, size);
            assert!(info.files.iter().all(|f| f.present), "{sub}: {:?}", info.files);
            assert!(info.warnings.is_empty(), "{sub}: {:?}", info.warnings);
            assert_eq!(info.extents.iter().map(|e| e.size).sum::<u64>(), size, "{sub} extents");
            if sub.contains("Flat") {
                assert_eq!(info.allocated_bytes, size, "{sub}");
                assert_eq!(info.files[0].role, "descriptor");
                assert!(info.extents.iter().all(|e| e.kind == "FLAT"));
            } else if matches!(pattern, Pattern::Zero) {
                assert_eq!(info.allocated_bytes, 0, "{sub} all-zero disk allocates nothing");
            } else {
                assert!(
                    info.allocated_bytes > 0 && info.allocated_bytes <= size.next_multiple_of(64 * 1024),
                    "{sub}: {}",
                    info.allocated_bytes
                );
            }
            if matches!(pattern, Pattern::Full) && !sub.contains("Flat") {
                assert_eq!(info.allocated_bytes, size.next_multiple_of(64 * 1024), "{sub}: every grain allocated");
            }
        }
    }
}

#[test]
fn split_extents_across_the_two_gib_boundary() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("big.raw");
    let size = 2 * 1024 * MIB + 5 * MIB + 3 * 512;
    let f = fs::File::create(&raw).unwrap();
    f.set_len(size).unwrap();
    let mut rng = Rng(77);
    for off in [0, 2 * 1024 * MIB - 70_000, 1024 * MIB + 12_345, size - 100_000] {
        let mut b = vec![0u8; 100_000];
        rng.fill(&mut b);
        f.write_all_at(&b, off).unwrap();
    }
    drop(f);
    for sub in ["twoGbMaxExtentSparse", "twoGbMaxExtentFlat"] {
        let out = dir.path().join(format!("{sub}.vmdk"));
        qemu_img(&["convert", "-f", "raw", "-O", "vmdk", "-o", &format!("subformat={sub}"), p(&raw), p(&out)]);
        let disk = assert_same_as_qemu(&out);
        assert_eq!(disk.info.extents.len(), 2, "{sub}: {:?}", disk.info.extents);
        assert_eq!(disk.info.files.len(), 3);
        // Bytes straddling the extent boundary.
        let mut b = vec![0u8; 140_000];
        read_guest(disk.map.as_ref(), 2 * 1024 * MIB - 70_000, &mut b).unwrap();
        let mut want = vec![0u8; 140_000];
        fs::File::open(&raw).unwrap().read_exact_at(&mut want, 2 * 1024 * MIB - 70_000).unwrap();
        assert!(b == want, "{sub}: straddling read");
        for f in fs::read_dir(dir.path()).unwrap() {
            let f = f.unwrap().path();
            if f.file_name().unwrap().to_str().unwrap().starts_with(sub) {
                fs::remove_file(f).unwrap();
            }
        }
    }
}

/// FLAT (with a non-zero offset), ZERO and SPARSE extents in one hand-written descriptor.
/// qemu 10 skips ZERO extent lines (its extent parser only knows FLAT/SPARSE/VMFS*/SESPARSE),
/// so qemu reads a twin descriptor whose ZERO line is a FLAT extent of a file of zeros.
#[test]
fn multi_extent_descriptor_matches_qemu() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut flat = vec![0u8; 3 * MIB as usize];
    Rng(5).fill(&mut flat);
    fs::write(d.join("data-flat.bin"), &flat).unwrap();
    fs::File::create(d.join("zeros.bin")).unwrap().set_len(MIB).unwrap();
    let sparse_raw = d.join("sp.raw");
    make_raw(&sparse_raw, 2 * MIB, Pattern::Sparse, 9);
    qemu_img(&["convert", "-f", "raw", "-O", "vmdk", p(&sparse_raw), p(&d.join("part-s001.vmdk"))]);
    // qemu skips non-RW extent lines too, so only our copy says RDONLY.
    let desc = |zero_line: &str, access: &str| {
        format!(
            "# Disk DescriptorFile\r\nversion=1\r\nCID=1234abcd\r\nparentCID=ffffffff\r\ncreateType=\"monolithicFlat\"\r\n\
# Extent description\r\nRW 2048 FLAT \"data-flat.bin\" 1536\r\n{zero_line}\r\nRW 4096 SPARSE \"part-s001.vmdk\"\r\n\
{access} 1000 FLAT \"data-flat.bin\" 7\r\n# The Disk Data Base\r\n#DDB\r\nddb.adapterType = \"lsilogic\"\r\n"
        )
    };
    fs::write(d.join("ours.vmdk"), desc("RW 2048 ZERO", "RDONLY")).unwrap();
    fs::write(d.join("twin.vmdk"), desc("RW 2048 FLAT \"zeros.bin\" 0", "RW")).unwrap();
    let ours = open_path(&d.join("ours.vmdk")).unwrap();
    let raw = d.join("twin.raw");
    qemu_img(&["convert", "-f", "vmdk", "-O", "raw", p(&d.join("twin.vmdk")), p(&raw)]);
    assert_reads_like(&ours, &raw, "multi-extent descriptor");
    let info = &ours.info;
    let kinds: Vec<&str> = info.extents.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["FLAT", "ZERO", "SPARSE", "FLAT"]);
    assert_eq!(info.extents[0].offset, 1536 * 512);
    assert_eq!(info.extents[3].access, "RDONLY");
    assert_eq!(info.virtual_size, (2048 + 2048 + 4096 + 1000) * 512);
    assert_eq!(info.subformat, "monolithicFlat");
    // The flat file is listed once though two extents use it.
    let names: Vec<&str> = info.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    // And the ZERO extent maps as Zero, not as data.
    let mut runs = Vec::new();
    ours.map.map(2048 * 512, 2048 * 512, &mut runs).unwrap();
    assert!(matches!(runs.as_slice(), [r] if matches!(r.kind, RunKind::Zero)), "{runs:?}");
}

#[test]
fn snapshot_chain_reads_like_qemu() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.vmdk");
    let child = dir.path().join("child.vmdk");
    qemu_img(&["create", "-q", "-f", "vmdk", p(&base), "4M"]);
    qemu_io(&base, &["write -P 0x22 0 1M", "write -P 0x33 2M 512k", "write -P 0x66 3M 4k"]);
    qemu_img(&["create", "-q", "-f", "vmdk", "-o", "zeroed_grain=on", "-b", "base.vmdk", "-F", "vmdk", p(&child)]);
    qemu_io(&child, &["write -P 0x44 512k 64k", "write -z 2M 128k", "write -P 0x55 3M 1k"]);
    let disk = assert_same_as_qemu(&child);
    let info = &disk.info;
    assert_eq!(info.parents, ["base.vmdk"]);
    assert!(info.warnings.is_empty(), "{:?}", info.warnings);
    assert!(info.files.iter().any(|f| f.name == "base.vmdk" && f.role == "parent" && f.present));
    // The zeroed grains hide the parent's 0x33 bytes.
    let mut b = vec![1u8; 128 * 1024];
    read_guest(disk.map.as_ref(), 2 * MIB, &mut b).unwrap();
    assert!(b.iter().all(|&x| x == 0));
    let mut runs = Vec::new();
    disk.map.map(2 * MIB, 128 * 1024, &mut runs).unwrap();
    assert!(runs.iter().all(|r| matches!(r.kind, RunKind::Zero)), "{runs:?}");

    // Changing the parent after the snapshot changes its CID: warn.
    qemu_io(&base, &["write -P 0x77 0 4k"]);
    let disk = open_path(&child).unwrap();
    assert!(disk.info.warnings.iter().any(|w| w.to_string().contains("parentCID")), "{:?}", disk.info.warnings);

    // Without the parent: open fails naming both files, inspect lists it.
    fs::rename(&base, dir.path().join("moved.vmdk")).unwrap();
    let e = open_path(&child).err().expect("missing parent must fail");
    assert_eq!(e.kind, ErrorKind::MissingFile);
    assert!(e.file.ends_with("child.vmdk") && e.message.contains("base.vmdk"), "{e}");
    let info = inspect_path(&child).unwrap();
    assert!(info.files.iter().any(|f| f.name == "base.vmdk" && !f.present), "{:?}", info.files);
    assert_eq!(info.parents, ["base.vmdk"]);
}

// ---------------------------------------------------------------- fixtures

fn fixture(rel: &str) -> PathBuf {
    Path::new(DATA).join(rel)
}

#[test]
fn fixtures_read_like_qemu() {
    let readable = [
        "strozfriedberg+vmdk-rs/data/monolithicSparse.vmdk",
        "strozfriedberg+vmdk-rs/data/streamOptimized.vmdk",
        "strozfriedberg+vmdk-rs/data/twoGbMaxExtentSparse.vmdk",
        "strozfriedberg+vmdk-rs/data/vmfs_thick.vmdk",
        "strozfriedberg+vmdk-rs/data/streamOptimizedWithMarkers.vmdk",
        "glennmatthews+cot/COT/tests/ubuntu.2.0-disk1.vmdk",
        "glennmatthews+cot/COT/tests/input.vmdk",
        "glennmatthews+cot/COT/tests/blank.vmdk",
        "tk4terui+mdx1/ovf/000001/1mb.vmdk",
        "tk4terui+mdx1/ovf/00_000_essential_none_00_00/64KiB.vmdk",
    ];
    for rel in readable {
        let disk = assert_same_as_qemu(&fixture(rel));
        assert!(disk.info.files.iter().all(|f| f.present), "{rel}");
        assert!(disk.info.warnings.is_empty(), "{rel}: {:?}", disk.info.warnings);
    }
    let d = assert_same_as_qemu(&fixture("strozfriedberg+vmdk-rs/data/monolithicSparse.vmdk")).info;
    assert_eq!((d.subformat.as_str(), d.virtual_size), ("monolithicSparse", 10 * MIB));
    assert!(d.allocated_bytes > 0 && d.allocated_bytes < 10 * MIB);
    let d = open_path(&fixture("strozfriedberg+vmdk-rs/data/streamOptimizedWithMarkers.vmdk")).unwrap().info;
    assert_eq!((d.subformat.as_str(), d.virtual_size, d.allocated_bytes), ("streamOptimized", MIB, MIB));
    let d = open_path(&fixture("glennmatthews+cot/COT/tests/ubuntu.2.0-disk1.vmdk")).unwrap().info;
    assert_eq!((d.subformat.as_str(), d.virtual_size, d.allocated_bytes), ("streamOptimized", 8 << 30, 0));
    let d = open_path(&fixture("strozfriedberg+vmdk-rs/data/vmfs_thick.vmdk")).unwrap().info;
    assert_eq!(d.subformat, "vmfs");
    assert_eq!(d.extents[0].kind, "VMFS");
    assert_eq!(d.files.len(), 2);
}

/// The flat fixtures ship one gzipped extent that both descriptors name differently.
#[test]
fn flat_fixtures_read_like_qemu() {
    let dir = tempfile::tempdir().unwrap();
    let gz = fs::read(fixture("strozfriedberg+vmdk-rs/data/monolithicFlat-flat.vmdk.reconstructed.gz")).unwrap();
    let mut flat = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut flat).unwrap();
    for (desc, extent) in [
        ("monolithicFlat.vmdk", "monolithicFlat-flat.vmdk"),
        ("twoGbMaxExtentFlat.vmdk", "twoGbMaxExtentFlat-f001.vmdk"),
    ] {
        fs::copy(fixture(&format!("strozfriedberg+vmdk-rs/data/{desc}")), dir.path().join(desc)).unwrap();
        fs::write(dir.path().join(extent), &flat).unwrap();
        let disk = assert_same_as_qemu(&dir.path().join(desc));
        assert_eq!(disk.info.virtual_size, 10 * MIB);
        assert_eq!(disk.info.files[1].name, extent);
    }
    // Both descriptors and the sparse fixture hold the same guest bytes.
    let a = open_path(&dir.path().join("monolithicFlat.vmdk")).unwrap();
    let b = open_path(&fixture("strozfriedberg+vmdk-rs/data/monolithicSparse.vmdk")).unwrap();
    let (mut x, mut y) = (vec![0u8; 10 * MIB as usize], vec![0u8; 10 * MIB as usize]);
    read_guest(a.map.as_ref(), 0, &mut x).unwrap();
    read_guest(b.map.as_ref(), 0, &mut y).unwrap();
    assert!(x == y);
}

#[test]
fn vmfs_snapshot_without_delta_is_missing_file() {
    let path = fixture("strozfriedberg+vmdk-rs/data/vmfs_thick-000001.vmdk");
    let e = open_path(&path).err().expect("must fail");
    assert_eq!(e.kind, ErrorKind::MissingFile, "{e}");
    assert!(e.file.ends_with("vmfs_thick-000001.vmdk"), "{e}");
    assert!(e.message.contains("vmfs_thick-000001-delta.vmdk"), "{e}");
    let info = inspect_path(&path).unwrap();
    assert_eq!(info.subformat, "vmfsSparse");
    assert_eq!(info.virtual_size, 2 * MIB);
    assert_eq!(info.parents, ["vmfs_thick.vmdk"]);
    let delta = info.files.iter().find(|f| f.name == "vmfs_thick-000001-delta.vmdk").unwrap();
    assert!(!delta.present);
    assert!(info.files.iter().any(|f| f.name == "vmfs_thick.vmdk" && f.present && f.role == "parent"));
    assert!(info.files.iter().any(|f| f.name == "vmfs_thick-flat.vmdk" && f.present));
}

#[test]
fn split_descriptor_without_extents_inspects_and_fails_to_open() {
    let path = fixture("SecurityRonin+vmdk-forensic/core/tests/data/ms3-win.vmdk");
    let info = inspect_path(&path).unwrap();
    assert_eq!(info.subformat, "twoGbMaxExtentSparse");
    assert_eq!(info.extents.len(), 16);
    assert_eq!(info.virtual_size, 60 << 30);
    let missing: Vec<&str> = info.files.iter().filter(|f| !f.present).map(|f| f.name.as_str()).collect();
    assert_eq!(missing.len(), 16, "{:?}", info.files);
    assert_eq!(missing[0], "disk-s001.vmdk");
    assert_eq!(info.files[0].role, "descriptor");
    let e = open_path(&path).err().expect("must fail");
    assert_eq!(e.kind, ErrorKind::MissingFile);
    assert!(e.file.ends_with("ms3-win.vmdk") && e.message.contains("disk-s001.vmdk"), "{e}");
}

// ---------------------------------------------------------------- damaged inputs

/// A qemu-written monolithicSparse disk with data, and where its tables are.
struct Sparse {
    _dir: tempfile::TempDir,
    path: PathBuf,
    gd_at: u64,
    /// Byte offset of the first GT and of its first non-zero entry.
    gt_at: u64,
    gte_at: u64,
}

fn le32(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}
fn le64(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}

fn qemu_sparse() -> Sparse {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("in.raw");
    make_raw(&raw, 5 * MIB, Pattern::Sparse, 3);
    let path = dir.path().join("bad.vmdk");
    qemu_img(&["convert", "-f", "raw", "-O", "vmdk", p(&raw), p(&path)]);
    let b = fs::read(&path).unwrap();
    let gd_at = le64(&b, 56) * 512;
    let gt_at = le32(&b, gd_at as usize) as u64 * 512;
    let j = (0..512).find(|&j| le32(&b, gt_at as usize + 4 * j) > 1).unwrap();
    Sparse { _dir: dir, path, gd_at, gt_at, gte_at: gt_at + 4 * j as u64 }
}

fn patch(path: &Path, at: u64, bytes: &[u8]) {
    fs::OpenOptions::new().write(true).open(path).unwrap().write_all_at(bytes, at).unwrap();
}

fn open_err(path: &Path) -> Error {
    match open_path(path) {
        Ok(_) => panic!("{} opened but should not", path.display()),
        Err(e) => e,
    }
}

#[test]
fn bad_header_fields_are_named() {
    // (field offset, new bytes, kind)
    let cases: [(u64, Vec<u8>, ErrorKind); 5] = [
        (20, 100u64.to_le_bytes().to_vec(), ErrorKind::Corrupt), // grainSize not a power of two
        (12, (1u64 << 62).to_le_bytes().to_vec(), ErrorKind::TooLarge), // capacity 2^62 sectors
        (44, 0x4000_0000u32.to_le_bytes().to_vec(), ErrorKind::Corrupt), // numGTEsPerGT huge
        (56, (1u64 << 40).to_le_bytes().to_vec(), ErrorKind::Truncated), // gdOffset past EOF
        (75, b"\n".to_vec(), ErrorKind::Corrupt),                // new-line test bytes
    ];
    for (field, bytes, kind) in cases {
        let s = qemu_sparse();
        patch(&s.path, field, &bytes);
        let e = open_err(&s.path);
        let want = if field == 75 { 73 } else { field };
        assert_located(&e, kind, &s.path, Some(want));
        if field == 75 {
            assert!(e.message.contains("text-mode"), "{e}");
        }
        // inspect fails the same way (these are not missing files).
        assert_eq!(inspect_path(&s.path).unwrap_err().kind, kind);
    }
}

#[test]
fn tables_pointing_past_the_end_are_named() {
    // A grain directory entry pointing past EOF (the GT is beyond the end).
    let s = qemu_sparse();
    patch(&s.path, s.gd_at, &0x0fff_ffffu32.to_le_bytes());
    assert_located(&open_err(&s.path), ErrorKind::Truncated, &s.path, Some(s.gd_at));

    // A grain table entry pointing past EOF.
    let s = qemu_sparse();
    patch(&s.path, s.gte_at, &0x0fff_ffffu32.to_le_bytes());
    assert_located(&open_err(&s.path), ErrorKind::Truncated, &s.path, Some(s.gte_at));

    // A file cut short after its metadata: grains past the end.
    let s = qemu_sparse();
    let f = fs::OpenOptions::new().write(true).open(&s.path).unwrap();
    f.set_len(128 * 512 + 64 * 1024).unwrap();
    drop(f);
    let e = open_err(&s.path);
    assert_located(&e, ErrorKind::Truncated, &s.path, None);
    assert!(e.offset.unwrap() >= s.gt_at, "{e}");

    // Cut inside the tables.
    let s = qemu_sparse();
    let f = fs::OpenOptions::new().write(true).open(&s.path).unwrap();
    f.set_len(s.gt_at + 100).unwrap();
    drop(f);
    assert_located(&open_err(&s.path), ErrorKind::Truncated, &s.path, None);
}

#[test]
fn unsafe_extent_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["../etc/x", "/abs", "sub/../../x", "C:\\x.vmdk"] {
        let d = dir.path().join("d.vmdk");
        let text = format!("# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\nRW 8 FLAT \"{name}\" 0\n");
        fs::write(&d, &text).unwrap();
        let at = text.find("RW 8").unwrap() as u64;
        assert_located(&open_err(&d), ErrorKind::UnsafeName, &d, Some(at));
        assert_eq!(inspect_path(&d).unwrap_err().kind, ErrorKind::UnsafeName);
    }
}

#[test]
fn flat_extent_longer_than_its_file() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("short-flat.vmdk"), vec![1u8; 4096]).unwrap();
    let d = dir.path().join("d.vmdk");
    fs::write(&d, "# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\nRW 16 FLAT \"short-flat.vmdk\" 0\n").unwrap();
    let e = open_err(&d);
    assert_located(&e, ErrorKind::Truncated, &dir.path().join("short-flat.vmdk"), Some(4096));
    assert!(e.message.contains("d.vmdk"), "names the descriptor too: {e}");
    // Within the file, with an offset, it is fine.
    fs::write(&d, "# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\nRW 4 FLAT \"short-flat.vmdk\" 4\n").unwrap();
    let disk = open_path(&d).unwrap();
    let mut b = [0u8; 2048];
    read_guest(disk.map.as_ref(), 0, &mut b).unwrap();
    assert!(b.iter().all(|&x| x == 1));
}

#[test]
fn sparse_extent_size_must_cover_the_descriptor() {
    let dir = tempfile::tempdir().unwrap();
    qemu_img(&["create", "-q", "-f", "vmdk", p(&dir.path().join("x-s001.vmdk")), "1M"]);
    qemu_io(&dir.path().join("x-s001.vmdk"), &["write -P 0x31 0 1M"]);
    let d = dir.path().join("x.vmdk");
    let desc = |sectors: u64| {
        format!("# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType=\"twoGbMaxExtentSparse\"\nRW {sectors} SPARSE \"x-s001.vmdk\"\n")
    };
    // Declared larger than the extent's capacity: corrupt, located at the extent line.
    let text = desc(4096);
    fs::write(&d, &text).unwrap();
    let e = open_err(&d);
    assert_located(&e, ErrorKind::Corrupt, &d, Some(text.find("RW ").unwrap() as u64));
    // Declared smaller: a warning, and only the declared part is the disk.
    fs::write(&d, desc(1024)).unwrap();
    let disk = open_path(&d).unwrap();
    assert_eq!(disk.info.virtual_size, 512 * 1024);
    assert!(disk.info.warnings.iter().any(|w| w.to_string().contains("2048 sectors")), "{:?}", disk.info.warnings);
    let mut b = vec![0u8; 512 * 1024];
    read_guest(disk.map.as_ref(), 0, &mut b).unwrap();
    assert!(b.iter().all(|&x| x == 0x31));
}

#[test]
fn parent_chain_loop_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mk = |me: &str, parent: &str| {
        let t = format!(
            "# Disk DescriptorFile\nversion=1\nCID=0000000{}\nparentCID=0000000{}\ncreateType=\"monolithicFlat\"\nparentFileNameHint=\"{parent}\"\nRW 8 ZERO\n",
            me.len() % 10,
            parent.len() % 10
        );
        fs::write(dir.path().join(me), t).unwrap();
    };
    mk("a.vmdk", "b.vmdk");
    mk("b.vmdk", "c.vmdk");
    mk("c.vmdk", "a.vmdk");
    let a = dir.path().join("a.vmdk");
    let e = open_err(&a);
    assert_eq!(e.kind, ErrorKind::Corrupt, "{e}");
    assert!(e.message.contains("loops"), "{e}");
    assert!(e.file.ends_with("c.vmdk") && e.offset.is_some(), "{e}");
    assert!(inspect_path(&a).is_err());
    // A self-reference is a loop too.
    mk("s.vmdk", "s.vmdk");
    assert!(open_err(&dir.path().join("s.vmdk")).message.contains("loops"));
}

#[test]
fn snapshot_chain_depth_is_bounded() {
    let mut files: Vec<SourceRef> = Vec::new();
    let n = vmdk::MAX_CHAIN_DEPTH + 5;
    for i in 0..n {
        let t = format!(
            "# Disk DescriptorFile\nversion=1\nCID={i:08x}\nparentCID={:08x}\ncreateType=\"monolithicFlat\"\nparentFileNameHint=\"d{}.vmdk\"\nRW 8 ZERO\n",
            i + 1,
            i + 1
        );
        files.push(MemSource::new(format!("d{i}.vmdk"), t.into_bytes()));
    }
    let set = NamedFiles::new(files.clone());
    let e = vmdk::open(files[0].clone(), &set).err().unwrap();
    assert_eq!(e.kind, ErrorKind::TooLarge, "{e}");
}

// ---------------------------------------------------------------- stream-optimized by hand

/// One grain of a hand-built stream: its index, compressed bytes, and the lba its marker
/// claims (normally `index * 128`).
struct Grain {
    index: u64,
    zdata: Vec<u8>,
    marker_lba: u64,
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A stream-optimized VMDK with the grain directory in the header: header, descriptor, GD
/// (sector 2), one GT (sectors 3-6), grains with markers from sector 7, end-of-stream marker.
fn build_stream(capacity_sectors: u64, grains: &[Grain], name: &str) -> Vec<u8> {
    build_compressed(capacity_sectors, grains, name, true)
}

/// As [`build_stream`]; without `markers` the grains are bare zlib streams (flags
/// 0x10001: compressed, no markers).
fn build_compressed(capacity_sectors: u64, grains: &[Grain], name: &str, markers: bool) -> Vec<u8> {
    assert!(capacity_sectors <= 128 * 512);
    let mut f = vec![0u8; 7 * 512];
    let mut gt = vec![0u32; 512];
    for g in grains {
        let sector = (f.len() / 512) as u32;
        gt[g.index as usize] = sector;
        if markers {
            f.extend_from_slice(&g.marker_lba.to_le_bytes());
            f.extend_from_slice(&(g.zdata.len() as u32).to_le_bytes());
        }
        f.extend_from_slice(&g.zdata);
        f.resize(f.len().next_multiple_of(512), 0);
    }
    f.extend_from_slice(&[0u8; 512]); // EOS
    let h = &mut f[..512];
    h[0..4].copy_from_slice(b"KDMV");
    h[4..8].copy_from_slice(&3u32.to_le_bytes());
    h[8..12].copy_from_slice(&(if markers { 0x30001u32 } else { 0x10001 }).to_le_bytes());
    h[12..20].copy_from_slice(&capacity_sectors.to_le_bytes());
    h[20..28].copy_from_slice(&128u64.to_le_bytes());
    h[28..36].copy_from_slice(&1u64.to_le_bytes());
    h[36..44].copy_from_slice(&1u64.to_le_bytes());
    h[44..48].copy_from_slice(&512u32.to_le_bytes());
    h[56..64].copy_from_slice(&2u64.to_le_bytes());
    h[64..72].copy_from_slice(&7u64.to_le_bytes());
    h[73..77].copy_from_slice(b"\n \r\n");
    h[77..79].copy_from_slice(&1u16.to_le_bytes());
    let desc = format!(
        "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"streamOptimized\"\nRW {capacity_sectors} SPARSE \"{name}\"\n"
    );
    f[512..512 + desc.len()].copy_from_slice(desc.as_bytes());
    f[1024..1028].copy_from_slice(&3u32.to_le_bytes());
    for (i, e) in gt.iter().enumerate() {
        f[1536 + 4 * i..1536 + 4 * i + 4].copy_from_slice(&e.to_le_bytes());
    }
    f
}

fn grain(index: u64, data: &[u8]) -> Grain {
    Grain { index, zdata: zlib(data), marker_lba: index * 128 }
}

#[test]
fn hand_built_stream_matches_qemu() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = vec![0u8; 65536];
    Rng(11).fill(&mut a);
    let grains = [grain(0, &a), grain(3, &[0x42; 65536]), grain(9, &[0u8; 65536]), grain(15, &a[..20 * 512])];
    let path = dir.path().join("s.vmdk");
    fs::write(&path, build_stream(15 * 128 + 20, &grains, "s.vmdk")).unwrap();
    let disk = assert_same_as_qemu(&path);
    assert_eq!(disk.info.allocated_bytes, 4 * 65536);
    let f = fs::read(&path).unwrap();
    // A grain followed by another of its table: the run points at its marker, bounded by the
    // next grain, and the marker is checked when decoding.
    let mut runs = Vec::new();
    disk.map.map(3 * 65536 + 100, 10, &mut runs).unwrap();
    match &runs[0].kind {
        RunKind::Deflate { offset, clen, grain_len, skip, marker: Some(lba), .. } => {
            let bytes = &f[*offset as usize..*offset as usize + *clen as usize];
            assert_eq!(*lba, 3 * 128);
            assert_eq!(
                stackferry::vmdk::marker::grain_stream(bytes, *lba, "s.vmdk", *offset).unwrap(),
                &zlib(&[0x42; 65536])[..]
            );
            let next = *offset as usize + *clen as usize;
            assert_eq!(&f[next..next + 8], &(9u64 * 128).to_le_bytes(), "bounded by the next grain's marker");
            assert_eq!((*grain_len, *skip), (65536, 100));
        }
        k => panic!("{k:?}"),
    }
    // The last grain of the table: its marker is read at mapping, the run points past it.
    runs.clear();
    disk.map.map(15 * 65536, 10, &mut runs).unwrap();
    match &runs[0].kind {
        RunKind::Deflate { offset, clen, marker: None, .. } => {
            assert_eq!(&f[*offset as usize..*offset as usize + *clen as usize], &zlib(&a[..20 * 512])[..]);
        }
        k => panic!("{k:?}"),
    }
}

/// Markers checked at decoding (grains followed by another grain) give the same located
/// errors as markers read at mapping.
#[test]
fn lazily_checked_markers_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = vec![0u8; 65536];
    Rng(21).fill(&mut a);
    let mut bad_lba = grain(1, &a);
    bad_lba.marker_lba = 999;
    // Incompressible grains: none is small enough for planning to probe (and so read) it.
    let grains = [grain(0, &a), bad_lba, grain(2, &a), grain(3, &a)];
    let path = dir.path().join("lazy.vmdk");
    let mut bytes = build_stream(4 * 128, &grains, "lazy.vmdk");
    // Grain 2's marker claims more bytes than lie before grain 3 (but less than two grains).
    let g2 = 7 * 512 + 2 * (zlib(&a).len() + 12).next_multiple_of(512);
    assert_eq!(&bytes[g2..g2 + 8], &256u64.to_le_bytes());
    bytes[g2 + 8..g2 + 12].copy_from_slice(&100_000u32.to_le_bytes());
    fs::write(&path, bytes).unwrap();
    let disk = open_path(&path).unwrap();
    let mut buf = vec![0u8; 65536];
    read_guest(disk.map.as_ref(), 0, &mut buf).unwrap();
    assert_eq!(buf, a);
    let e = read_guest(disk.map.as_ref(), 65536, &mut buf).unwrap_err();
    assert_located(&e, ErrorKind::Corrupt, &path, Some(7 * 512 + (zlib(&a).len() as u64 + 12).next_multiple_of(512)));
    assert!(e.message.contains("says lba 999"), "{e}");
    let e = read_guest(disk.map.as_ref(), 2 * 65536, &mut buf).unwrap_err();
    assert_located(&e, ErrorKind::Corrupt, &path, Some(g2 as u64));
    assert!(e.message.contains("claims 100000 compressed bytes"), "{e}");
    // The converter stops on the same error (after planning, which reads no grain marker).
    let out = dir.path().join("out.qcow2");
    let r = std::process::Command::new(env!("CARGO_BIN_EXE_stackferry"))
        .arg("convert")
        .arg(&path)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(1), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(String::from_utf8_lossy(&r.stderr).contains("says lba 999"), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(
        !out.exists()
            && fs::read_dir(dir.path()).unwrap().all(|e| !e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("out.qcow2")),
        "no output left behind"
    );
}

#[test]
fn compressed_grains_without_markers_match_qemu() {
    let dir = tempfile::tempdir().unwrap();
    // Half random: qemu inflates at most one grain's worth of unmarked compressed bytes.
    let mut a = vec![0u8; 65536];
    Rng(12).fill(&mut a[..32768]);
    let grains = [grain(1, &a), grain(2, &[3u8; 65536]), grain(4, &a[..512])];
    let path = dir.path().join("nm.vmdk");
    let mut bytes = build_compressed(4 * 128 + 1, &grains, "nm.vmdk", false);
    // qemu reads two grains' worth of bytes from each unmarked grain: keep that in the file.
    bytes.resize(bytes.len() + 2 * 65536, 0);
    fs::write(&path, bytes).unwrap();
    let disk = assert_same_as_qemu(&path);
    let mut b = vec![0u8; 65536];
    read_guest(disk.map.as_ref(), 65536, &mut b).unwrap();
    assert!(b == a);
}

#[test]
fn redundant_grain_directory_difference_is_a_warning() {
    let s = qemu_sparse();
    let b = fs::read(&s.path).unwrap();
    assert_eq!(le32(&b, 8) & 2, 2, "qemu writes a redundant GD");
    let rgd_at = le64(&b, 48) * 512;
    let rgt_at = le32(&b, rgd_at as usize) as u64 * 512;
    let before = open_path(&s.path).unwrap();
    assert!(before.info.warnings.is_empty(), "{:?}", before.info.warnings);
    // Damage the redundant copy of the first allocated entry: the primary still reads.
    let j = s.gte_at - s.gt_at;
    patch(&s.path, rgt_at + j, &0u32.to_le_bytes());
    let after = open_path(&s.path).unwrap();
    assert_eq!(after.info.warnings.len(), 1, "{:?}", after.info.warnings);
    assert!(after.info.warnings[0].to_string().contains("redundant grain directory"), "{:?}", after.info.warnings);
    let raw = s.path.with_extension("raw");
    qemu_img(&["convert", "-f", "vmdk", "-O", "raw", p(&s.path), p(&raw)]);
    assert_reads_like(&after, &raw, "damaged redundant GT");
    assert_eq!(after.info.allocated_bytes, before.info.allocated_bytes);
}

#[test]
fn embedded_descriptor_size_mismatch_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.vmdk");
    let mut bytes = build_stream(512, &[grain(0, &[1u8; 65536])], "w.vmdk");
    let t = b"RW 512 SPARSE";
    let i = bytes.windows(t.len()).position(|w| w == t).unwrap();
    bytes[i..i + t.len()].copy_from_slice(b"RW 999 SPARSE");
    fs::write(&path, bytes).unwrap();
    let disk = open_path(&path).unwrap();
    assert_eq!(disk.info.virtual_size, 512 * 512, "the header's capacity wins, as in qemu");
    assert!(disk.info.warnings.iter().any(|w| w.to_string().contains("999")), "{:?}", disk.info.warnings);
}

#[test]
fn stream_marker_lba_must_match_its_grain() {
    let dir = tempfile::tempdir().unwrap();
    let mut g = grain(2, &[7u8; 65536]);
    g.marker_lba = 5 * 128;
    let path = dir.path().join("lba.vmdk");
    let bytes = build_stream(512, &[grain(0, &[1u8; 65536]), g], "lba.vmdk");
    let marker_at = 7 * 512 + (12 + zlib(&[1u8; 65536]).len()).next_multiple_of(512) as u64;
    fs::write(&path, bytes).unwrap();
    // Opening reads only tables; mapping the bad grain checks its marker.
    let disk = open_path(&path).unwrap();
    let mut buf = vec![0u8; 4 * 65536];
    let e = read_guest(disk.map.as_ref(), 0, &mut buf).unwrap_err();
    assert_located(&e, ErrorKind::Corrupt, &path, Some(marker_at));
    assert!(e.message.contains("lba 640"), "{e}");
}

#[test]
fn deflate_bomb_grain_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = Grain { index: 1, zdata: zlib(&vec![0u8; 10 * MIB as usize]), marker_lba: 128 };
    let data_at = 7 * 512 + 12;
    let path = dir.path().join("bomb.vmdk");
    fs::write(&path, build_stream(512, &[bomb], "bomb.vmdk")).unwrap();
    let disk = open_path(&path).unwrap();
    let mut buf = vec![0u8; 65536];
    read_guest(disk.map.as_ref(), 0, &mut buf).unwrap(); // grain 0 is unallocated
    let e = read_guest(disk.map.as_ref(), 65536, &mut buf).unwrap_err();
    assert_located(&e, ErrorKind::Corrupt, &path, Some(data_at));
    assert!(e.message.contains("past its size"), "{e}");
}

#[test]
fn stream_marker_size_past_end_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.vmdk");
    let mut bytes = build_stream(512, &[grain(0, &[9u8; 65536])], "cut.vmdk");
    // Marker size claims more than the file holds (but less than two grains).
    bytes[7 * 512 + 8..7 * 512 + 12].copy_from_slice(&100_000u32.to_le_bytes());
    fs::write(&path, bytes).unwrap();
    let disk = open_path(&path).unwrap();
    let mut buf = vec![0u8; 512];
    let e = read_guest(disk.map.as_ref(), 0, &mut buf).unwrap_err();
    assert_located(&e, ErrorKind::Truncated, &path, Some(7 * 512));
}

// ---------------------------------------------------------------- robustness

/// Flip bytes in the metadata of real disks: every outcome is an error or a readable disk,
/// never a panic, hang or huge allocation.
#[test]
fn mutated_metadata_never_panics() {
    let sources = [
        fixture("strozfriedberg+vmdk-rs/data/monolithicSparse.vmdk"),
        fixture("strozfriedberg+vmdk-rs/data/streamOptimizedWithMarkers.vmdk"),
        fixture("tk4terui+mdx1/ovf/000001/1mb.vmdk"),
    ];
    let mut rng = Rng(2024);
    for src in sources {
        let orig = fs::read(&src).unwrap();
        let meta = orig.len().min(64 * 1024);
        for _ in 0..150 {
            let mut b = orig.clone();
            for _ in 0..1 + rng.below(4) {
                let at = if rng.below(2) == 0 { rng.below(80) } else { rng.below(meta as u64) } as usize;
                b[at] = rng.next() as u8;
            }
            let src: SourceRef = MemSource::new("m.vmdk", b);
            if let Ok(disk) = vmdk::open(src.clone(), &NamedFiles::default()) {
                let n = disk.map.size().min(4 * MIB);
                let mut buf = vec![0u8; n as usize];
                let _ = read_guest(disk.map.as_ref(), 0, &mut buf);
                let _ = read_guest(disk.map.as_ref(), disk.map.size() - n, &mut buf);
            }
            let _ = vmdk::inspect(src, &NamedFiles::default());
        }
    }
}

/// Mutated descriptors (with their extent provided): errors or readable disks, no panics.
#[test]
fn mutated_descriptors_never_panic() {
    let base = "strozfriedberg+vmdk-rs/data/";
    let extent: SourceRef = MemSource::new(
        "twoGbMaxExtentSparse-s001.vmdk",
        fs::read(fixture(&format!("{base}twoGbMaxExtentSparse-s001.vmdk"))).unwrap(),
    );
    let flat: SourceRef =
        MemSource::new("vmfs_thick-flat.vmdk", fs::read(fixture(&format!("{base}vmfs_thick-flat.vmdk"))).unwrap());
    let files = NamedFiles::new(vec![extent, flat]);
    let mut rng = Rng(99);
    for d in ["twoGbMaxExtentSparse.vmdk", "vmfs_thick.vmdk", "vmfs_thick-000001.vmdk"] {
        let orig = fs::read(fixture(&format!("{base}{d}"))).unwrap();
        for _ in 0..300 {
            let mut b = orig.clone();
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(b.len() as u64) as usize;
                let choices = [b'"', b'\n', b' ', b'0', b'9', b'/', b'.', 0xff, b'=', rng.next() as u8];
                b[at] = choices[rng.below(choices.len() as u64) as usize];
            }
            let src: SourceRef = MemSource::new(d, b);
            if let Ok(disk) = vmdk::open(src.clone(), &files) {
                let n = disk.map.size().min(MIB);
                let mut buf = vec![0u8; n as usize];
                let _ = read_guest(disk.map.as_ref(), disk.map.size() - n, &mut buf);
            }
            let _ = vmdk::inspect(src, &files);
        }
    }
}

#[test]
fn non_vmdk_input_is_unsupported() {
    let src = MemSource::new("x.bin", vec![0xfau8; 4096]);
    let e = vmdk::open(src, &NamedFiles::default()).err().unwrap();
    assert_eq!((e.kind, e.file.as_str(), e.offset), (ErrorKind::Unsupported, "x.bin", Some(0)));
    let e = vmdk::open(MemSource::new("t.vmdk", b"ab".to_vec()), &NamedFiles::default()).err().unwrap();
    assert_eq!(e.kind, ErrorKind::Corrupt);
}

/// Counts the bytes read through it.
struct Counting {
    inner: SourceRef,
    read: std::sync::atomic::AtomicU64,
}

impl stackferry::Source for Counting {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn len(&self) -> u64 {
        self.inner.len()
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> stackferry::Result<()> {
        self.read.fetch_add(buf.len() as u64, std::sync::atomic::Ordering::Relaxed);
        self.inner.read_exact_at(offset, buf)
    }
}

/// Opening reads metadata only: the header, descriptor, grain directory and tables, not
/// grains, and tables scattered between grains are not read a whole window at a time.
#[test]
#[allow(clippy::arc_with_non_send_sync)] // SourceRef is an Arc of a non-Send source by design
fn open_reads_only_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("in.raw");
    make_raw(&raw, 40 * MIB, Pattern::Full, 31);
    for sub in ["monolithicSparse", "streamOptimized"] {
        let out = dir.path().join(format!("{sub}.vmdk"));
        qemu_img(&["convert", "-f", "raw", "-O", "vmdk", "-o", &format!("subformat={sub}"), p(&raw), p(&out)]);
        let c = std::sync::Arc::new(Counting { inner: FileSource::open(&out).unwrap(), read: Default::default() });
        let disk = vmdk::open(c.clone(), &NamedFiles::default()).unwrap();
        let at_open = c.read.load(std::sync::atomic::Ordering::Relaxed);
        // 40 MiB = 640 grains = 2 tables of 2 KiB; header, descriptor, directory: a few KiB.
        assert!(at_open < 64 * 1024, "{sub}: open read {at_open} bytes");
        assert_eq!(disk.info.allocated_bytes, 40 * MIB);
    }
    let c = std::sync::Arc::new(Counting {
        inner: FileSource::open(&fixture("strozfriedberg+vmdk-rs/data/streamOptimizedWithMarkers.vmdk")).unwrap(),
        read: Default::default(),
    });
    vmdk::open(c.clone(), &NamedFiles::default()).unwrap();
    assert!(
        c.read.load(std::sync::atomic::Ordering::Relaxed) < 32 * 1024,
        "read {}",
        c.read.load(std::sync::atomic::Ordering::Relaxed)
    );
}

// ---------------------------------------------------------------- reads per grain table

/// A file source that records every read reaching it, `(offset, len)`.
struct Recording(stackferry::source::SharedRef, std::sync::Mutex<Vec<(u64, usize)>>);
impl stackferry::source::Source for Recording {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn len(&self) -> u64 {
        self.0.len()
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> stackferry::Result<()> {
        self.1.lock().unwrap().push((offset, buf.len()));
        self.0.read_exact_at(offset, buf)
    }
}

/// Opening a disk in one file reads every grain table (to check it), planning walks them all
/// and the conversion walks them again: both walks find them in the cache (in the page each
/// read of a table is a synchronous call on the converter thread). A stream-optimized disk
/// written by qemu-img across 40 tables (1.25 GiB, a little data in each 32 MiB), converted
/// to QCOW2: qemu-img reads the output as it reads the input, and after opening no table was
/// read again.
#[test]
fn grain_tables_read_at_opening_are_not_read_again_to_plan_and_convert() {
    use stackferry::plan::{plan, Options, OutputFormat};
    let dir = tempfile::tempdir().unwrap();
    let (raw, vmdk, out) = (dir.path().join("d.raw"), dir.path().join("d.vmdk"), dir.path().join("d.qcow2"));
    let size = 40 * 32 * MIB;
    let f = fs::File::create(&raw).unwrap();
    f.set_len(size).unwrap();
    let mut rng = Rng(7);
    for t in 0..40 {
        let mut b = vec![0u8; 100_000];
        rng.fill(&mut b);
        f.write_all_at(&b, t * 32 * MIB + rng.below(31 * MIB)).unwrap();
    }
    qemu_img(&["convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized", p(&raw), p(&vmdk)]);
    let file = FileSource::open(&vmdk).unwrap().shared().unwrap();
    let rec = std::sync::Arc::new(Recording(file, Default::default()));
    let disk = vmdk::open(rec.clone(), &DirFiles::default()).unwrap();
    let opening = rec.1.lock().unwrap().len();
    let options = Options { format: OutputFormat::Qcow2, ..Options::default() };
    let planned = plan(&disk, &options, &|| false).unwrap();
    let mut bytes = Vec::new();
    stackferry::driver::convert_serial(disk, planned, &mut |b: &[u8]| {
        bytes.extend_from_slice(b);
        Ok(())
    })
    .unwrap();
    fs::write(&out, &bytes).unwrap();
    qemu_img(&["compare", "-f", "raw", "-F", "qcow2", p(&raw), p(&out)]);
    // A grain table (512 entries of 4 bytes) is read whole when mapping needs it.
    let reads = rec.1.lock().unwrap();
    let tables: Vec<_> = reads[opening..].iter().filter(|r| r.1 == 2048).collect();
    assert!(tables.is_empty(), "{} tables read again: {tables:?}", tables.len());
    assert!(reads.len() > opening + 40, "the grains were read: {} reads", reads.len() - opening);
}
