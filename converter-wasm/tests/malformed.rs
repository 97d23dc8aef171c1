//! A reproducible corpus of malformed inputs (issue 17), generated here from real files (the
//! fixtures of tests/data, embedded so the same cases run in wasm32) and from a QCOW2 the
//! converter itself writes: truncation at every structure boundary, every sparse-header field
//! set to 0, 1 and all ones, grain table entries past the end or into metadata, a deflate
//! bomb in a grain, a marker whose size lies, descriptors naming `../`, absolute, URL and
//! `-`-leading extents or 100,000 of them, tar members with traversal names or sizes past the
//! end, a 10 MB XML attribute, lying QCOW2 headers, manifests that do not match.
//!
//! Each case goes through inspect, open, plan and (when the output is small) convert, as the
//! page and the CLI do. It must end in an error naming one of its files (and the offset, when a
//! binary structure is at fault), or — for the few mutations that leave a valid file, listed
//! by [`Case::may_pass`], or disks qemu-img converts to the same content — convert; never a panic, never more than [`TIME_CAP_S`], never
//! more than [`HEAP_CAP`] of heap (counted by this binary's allocator). Natively
//! (`cargo test --test malformed`) and in wasm32 (web/test.sh, `wasm-bindgen-test-runner`),
//! where integer widths and allocation failures differ. `MALFORMED_OUT=DIR` writes the corpus
//! out (natively).

use stackferry::bytes::le64;
use stackferry::driver::convert_serial;
use stackferry::error::{Error, ErrorKind};
use stackferry::plan::{plan, Options};
use stackferry::source::{MemSource, NamedFiles, SourceRef};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_dedicated_worker);

/// Heap one case may use at its peak: several times what the largest case needs legitimately
/// (a 1 MiB descriptor parsed, an 8 MiB OVF refused) and far below what a size field taken on
/// trust would ask for.
const HEAP_CAP: usize = 256 << 20;

/// Time one case may take (a debug build; wasm32 in Chromium is slower).
const TIME_CAP_S: f64 = if cfg!(target_arch = "wasm32") { 30.0 } else { 10.0 };

/// Counts live heap bytes and their peak, so each case's peak can be checked.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            let now = LIVE.fetch_add(l.size(), Ordering::Relaxed) + l.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

macro_rules! data {
    ($p:literal) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/", $p)).as_slice()
    };
}
const SPARSE: &[u8] = data!("strozfriedberg+vmdk-rs/data/monolithicSparse.vmdk");
const STREAM: &[u8] = data!("strozfriedberg+vmdk-rs/data/streamOptimized.vmdk");
const MARKERS: &[u8] = data!("strozfriedberg+vmdk-rs/data/streamOptimizedWithMarkers.vmdk");
const SPLIT: &[u8] = data!("strozfriedberg+vmdk-rs/data/twoGbMaxExtentSparse.vmdk");
const SPLIT_S001: &[u8] = data!("strozfriedberg+vmdk-rs/data/twoGbMaxExtentSparse-s001.vmdk");
const OVF: &[u8] = data!("tk4terui+mdx1/ovf/000001/000001.ovf");
const OVF_DISK: &[u8] = data!("tk4terui+mdx1/ovf/000001/1mb.vmdk");

/// One malformed input: its files (the first is the one opened) and whether it may still be
/// valid.
struct Case {
    name: String,
    files: Vec<(String, Vec<u8>)>,
    /// An OVA or OVF that stays valid (qemu-img, the oracle for disks, does not read these).
    /// Disks that convert are checked against qemu-img instead (natively).
    may_pass: bool,
    /// It converts, with a warning that says what is wrong.
    warns: bool,
}

fn case(name: impl Into<String>, files: Vec<(&str, Vec<u8>)>) -> Case {
    let files = files.into_iter().map(|(n, b)| (n.to_string(), b)).collect();
    Case { name: name.into(), files, may_pass: false, warns: false }
}

impl Case {
    /// A disk image (VMDK or QCOW2) rather than an OVF package: qemu-img reads it too.
    fn is_disk(&self) -> bool {
        !(self.files[0].0.ends_with(".ova") || self.files[0].0.ends_with(".ovf"))
    }
}

/// A little-endian u32 field, widened (the helpers below compare it with u64 values).
fn le32(b: &[u8], at: usize) -> u64 {
    stackferry::bytes::le32(b, at).into()
}
fn put(b: &mut [u8], at: usize, width: usize, v: u64) {
    b[at..at + width].copy_from_slice(&v.to_le_bytes()[..width]);
}
fn put_be(b: &mut [u8], at: usize, width: usize, v: u64) {
    b[at..at + width].copy_from_slice(&v.to_be_bytes()[8 - width..]);
}

/// The hosted sparse header fields (VMware "Virtual Disk Format 5.0", SparseExtentHeader):
/// name, offset, width.
const SPARSE_FIELDS: &[(&str, usize, usize)] = &[
    ("magic", 0, 4),
    ("version", 4, 4),
    ("flags", 8, 4),
    ("capacity", 12, 8),
    ("grainSize", 20, 8),
    ("descriptorOffset", 28, 8),
    ("descriptorSize", 36, 8),
    ("numGTEsPerGT", 44, 4),
    ("rgdOffset", 48, 8),
    ("gdOffset", 56, 8),
    ("overHead", 64, 8),
    ("compressAlgorithm", 77, 2),
];

/// Where a stream-optimized VMDK keeps its real header: the footer, 1024 bytes before the end
/// (footer marker, then the header), when the header says "GD at end".
fn header_at(b: &[u8]) -> usize {
    if le64(b, 56) == u64::MAX && b.len() >= 1536 {
        b.len() - 1024
    } else {
        0
    }
}

/// The byte offsets where the structures of a hosted sparse VMDK begin and end.
fn sparse_boundaries(b: &[u8]) -> Vec<usize> {
    let h = header_at(b);
    let s = |at: usize| (le64(b, h + at) as usize).saturating_mul(512);
    let gd = s(56);
    let gte = if gd + 4 <= b.len() { le32(b, gd) as usize * 512 } else { 0 };
    let first_grain = if gte + 4 <= b.len() && gte > 0 { le32(b, gte) as usize * 512 } else { 0 };
    let mut at = vec![1, 4, 511, 512, 513, s(28), s(28) + s(36), gd, gd + 4, s(48), s(64), s(64) + 1, gte, gte + 4];
    at.extend([
        first_grain,
        first_grain + 12,
        first_grain + 100,
        b.len() - 1536,
        b.len() - 1024,
        b.len() - 512,
        b.len() - 1,
    ]);
    at.retain(|&a| a > 0 && a < b.len());
    at.sort_unstable();
    at.dedup();
    at
}

fn truncations(cases: &mut Vec<Case>, label: &str, files: &[(&str, &[u8])], which: usize) {
    let (name, bytes) = files[which];
    for at in sparse_boundaries(bytes) {
        let mut fs: Vec<(&str, Vec<u8>)> = files.iter().map(|(n, b)| (*n, b.to_vec())).collect();
        fs[which].1.truncate(at);
        cases.push(case(format!("{label}: {name} cut at {at}"), fs));
    }
}

fn field_flips(cases: &mut Vec<Case>, label: &str, files: &[(&str, &[u8])], which: usize) {
    let (name, bytes) = files[which];
    let h = header_at(bytes);
    for &(field, at, width) in SPARSE_FIELDS {
        let all_ones = if width == 8 { u64::MAX } else { (1u64 << (8 * width)) - 1 };
        let mut values = vec![0, 1, all_ones];
        if field == "capacity" {
            values.push(1 << 54); // 2^63 bytes
        }
        if field == "grainSize" {
            values.push(0x20_0001); // one sector past qemu's largest grain
        }
        let original = if width == 8 { le64(bytes, h + at) } else { le32(bytes, h + at) & all_ones };
        for v in values.into_iter().filter(|&v| v != original) {
            let mut fs: Vec<(&str, Vec<u8>)> = files.iter().map(|(n, b)| (*n, b.to_vec())).collect();
            put(&mut fs[which].1, h + at, width, v);
            cases.push(case(format!("{label}: {name} {field} = {v:#x}"), fs));
        }
    }
}

/// Grain table entry 0 of a hosted sparse extent pointing elsewhere.
fn grain_entries(cases: &mut Vec<Case>, label: &str, files: &[(&str, &[u8])], which: usize) {
    let (name, bytes) = files[which];
    let h = header_at(bytes);
    let gd = le64(bytes, h + 56) as usize * 512;
    let gt = le32(bytes, gd) as usize * 512;
    let end = (bytes.len() / 512) as u64;
    for (what, v) in [
        ("past the end", end + 100),
        ("at the last sector (grain runs past the end)", end - 1),
        ("into the header", 0x1),
        ("into the grain directory", gd as u64 / 512),
        ("into its own grain table", gt as u64 / 512),
        ("all ones", 0xffff_ffff),
        ("onto the next grain (overlap)", le32(bytes, gt + 4)),
    ] {
        let mut fs: Vec<(&str, Vec<u8>)> = files.iter().map(|(n, b)| (*n, b.to_vec())).collect();
        put(&mut fs[which].1, gt, 4, v);
        cases.push(case(format!("{label}: {name} grain 0 {what}"), fs));
    }
    // The grain directory's first entry past the end and into the header.
    for (what, v) in [("past the end", end + 7), ("into the header", 0)] {
        let mut fs: Vec<(&str, Vec<u8>)> = files.iter().map(|(n, b)| (*n, b.to_vec())).collect();
        put(&mut fs[which].1, gd, 4, v);
        cases.push(case(format!("{label}: {name} grain table 0 {what}"), fs));
    }
}

/// Stream-optimized grains and markers (Virtual Disk Format 5.0 §"Stream-Optimized Compressed
/// Sparse Extents"): grain marker = lba u64, size u32, then the zlib data.
fn stream_cases(cases: &mut Vec<Case>, label: &str, bytes: &[u8]) {
    let h = header_at(bytes);
    let gd = le64(bytes, h + 56) as usize * 512;
    let gt = le32(bytes, gd) as usize * 512;
    let g0 = (0..512).map(|i| le32(bytes, gt + 4 * i) as usize * 512).find(|&g| g > 0).expect("an allocated grain");
    let size = le32(bytes, g0 + 8) as usize;
    let mut push = |what: &str, f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = bytes.to_vec();
        f(&mut b);
        cases.push(case(format!("{label}: {what}"), vec![("disk.vmdk", b)]));
    };
    push("grain marker size 0", &|b| put(b, g0 + 8, 4, 0));
    push("grain marker size past the end", &|b| put(b, g0 + 8, 4, 0xffff_fff0));
    push("grain marker size 1 GiB", &|b| put(b, g0 + 8, 4, 1 << 30));
    push("grain marker LBA past the capacity", &|b| put(b, g0, 8, u64::MAX / 2));
    push("grain data not zlib", &|b| b[g0 + 12..g0 + 12 + size.min(64)].fill(0xa5));
    push("grain data cut mid-stream (marker says half)", &|b| put(b, g0 + 8, 4, (size / 2) as u64));
    // A deflate bomb: 1 MiB of zeros (sixteen grains) deflated into this grain's place.
    let bomb = {
        use std::io::Write;
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(&vec![0u8; 1 << 20]).unwrap();
        e.finish().unwrap()
    };
    if bomb.len() <= size {
        push("grain inflating to 1 MiB (deflate bomb)", &|b| {
            b[g0 + 12..g0 + 12 + bomb.len()].copy_from_slice(&bomb);
            put(b, g0 + 8, 4, bomb.len() as u64);
        });
    }
    // The footer's grain directory pointing at the footer itself (a marker loop).
    push("footer GD pointing at the footer", &|b| {
        let at = b.len() - 1024;
        put(b, at + 56, 8, (at / 512) as u64);
    });
    push("footer GD pointing at a grain", &|b| {
        let at = b.len() - 1024;
        put(b, at + 56, 8, (g0 / 512) as u64);
    });
    push("end-of-stream marker missing", &|b| {
        let n = b.len();
        b.truncate(n - 512);
    });
}

fn descriptor(extents: &str) -> Vec<u8> {
    format!(
        "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"twoGbMaxExtentSparse\"\n\n\
         # Extent description\n{extents}\n# The Disk Data Base\nddb.adapterType = \"lsilogic\"\n"
    )
    .into_bytes()
}

fn descriptor_cases(cases: &mut Vec<Case>) {
    let extent = |name: &str| descriptor(&format!("RW 20480 SPARSE \"{name}\"\n"));
    for name in [
        "../twoGbMaxExtentSparse-s001.vmdk",
        "/etc/passwd",
        "C:\\Windows\\x.vmdk",
        "\\\\server\\share\\x.vmdk",
        "http://example.com/x.vmdk",
        "file:///etc/passwd",
        "-rf.vmdk",
        "--to-command=sh${IFS}-c${IFS}id",
        "dir/../../x.vmdk",
        "a\u{1}b.vmdk",
        "",
        "missing.vmdk",
    ] {
        cases.push(case(
            format!("descriptor naming extent {name:?}"),
            vec![("disk.vmdk", extent(name)), ("twoGbMaxExtentSparse-s001.vmdk", SPLIT_S001.to_vec())],
        ));
    }
    cases
        .push(case("descriptor with 100,000 extents", vec![("disk.vmdk", descriptor(&"RW 1 ZERO\n".repeat(100_000)))]));
    cases.push(case("descriptor with 65,537 extents", vec![("disk.vmdk", descriptor(&"RW 1 ZERO\n".repeat(65_537)))]));
    cases.push(case(
        "descriptor of 2 MiB",
        vec![("disk.vmdk", descriptor(&format!("# {}\nRW 1 ZERO\n", "x".repeat(2 << 20))))],
    ));
    for (what, line) in [
        ("extent of 2^63 bytes", "RW 18014398509481984 ZERO"),
        ("two extents summing past 2^64", "RW 18446744073709551000 ZERO\nRW 18446744073709551000 ZERO"),
        ("extent of -1 sectors", "RW -1 ZERO"),
        ("extent with an offset past its file", "RW 20480 SPARSE \"twoGbMaxExtentSparse-s001.vmdk\" 99999999999"),
        ("extent of unknown type", "RW 20480 FLOPPY \"twoGbMaxExtentSparse-s001.vmdk\""),
        ("extent line cut", "RW 20480 SPARSE \"twoGbMaxExtentSparse-s001"),
        ("no extent", ""),
    ] {
        cases.push(case(
            format!("descriptor: {what}"),
            vec![("disk.vmdk", descriptor(line)), ("twoGbMaxExtentSparse-s001.vmdk", SPLIT_S001.to_vec())],
        ));
    }
    cases.push(case(
        "descriptor: parent chain pointing at itself",
        vec![(
            "disk.vmdk",
            b"# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=2\ncreateType=\"vmfsSparse\"\nparentFileNameHint=\"disk.vmdk\"\n\nRW 1 ZERO\n".to_vec(),
        )],
    ));
}

/// A ustar header block for `name` of `size` bytes (POSIX.1-1988), checksum filled in.
fn tar_header(name: &str, size: u64, typeflag: u8) -> [u8; 512] {
    let mut h = [0u8; 512];
    let n = name.as_bytes();
    h[..n.len().min(100)].copy_from_slice(&n[..n.len().min(100)]);
    h[100..107].copy_from_slice(b"0000644");
    h[108..115].copy_from_slice(b"0000000");
    h[116..123].copy_from_slice(b"0000000");
    if size < 1 << 33 {
        h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
    } else {
        // GNU base-256: the high bit of the first byte, then the size big-endian.
        h[124] = 0x80;
        put_be(&mut h, 128, 8, size);
    }
    h[136..147].copy_from_slice(b"00000000000");
    h[156] = typeflag;
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    h
}

fn tar(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in members {
        out.extend_from_slice(&tar_header(name, data.len() as u64, b'0'));
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

fn ova_cases(cases: &mut Vec<Case>) {
    let ovf = String::from_utf8(OVF.to_vec()).unwrap();
    let good = tar(&[("vm.ovf", OVF), ("1mb.vmdk", OVF_DISK)]);
    // The base converts: a check that the cases below fail for their fault, not the base's.
    let mut base = case("OVA: unchanged (control)", vec![("vm.ova", good.clone())]);
    base.may_pass = true;
    cases.push(base);
    for at in [100, 124, 148, 257, 512, 512 + OVF.len() / 2, good.len() / 2, good.len() - 1100, good.len() - 1024] {
        let mut b = good.clone();
        b.truncate(at);
        let mut c = case(format!("OVA cut at {at}"), vec![("vm.ova", b)]);
        // Cut inside the two zero blocks that end an archive: every member is whole (tar too
        // reads it, with a warning).
        c.may_pass = at >= good.len() - 1024 - 511;
        cases.push(c);
    }
    for name in ["../1mb.vmdk", "/1mb.vmdk", "-1mb.vmdk", "--to-command=id"] {
        let renamed = ovf.replace("ovf:href=\"1mb.vmdk\"", &format!("ovf:href=\"{name}\""));
        cases.push(case(
            format!("OVA: member and href {name:?}"),
            vec![("vm.ova", tar(&[("vm.ovf", renamed.as_bytes()), (name, OVF_DISK)]))],
        ));
    }
    let mut b = good.clone();
    b[124..135].copy_from_slice(b"77777777777"); // the OVF member's size: 8 GiB, past the end
    cases.push(case("OVA: member size past the end", vec![("vm.ova", b)]));
    let mut b = good.clone();
    b[124..135].copy_from_slice(b"zzzzzzzzzzz");
    cases.push(case("OVA: member size not octal", vec![("vm.ova", b)]));
    let mut b = good.clone();
    b[148] ^= 1;
    cases.push(case("OVA: header checksum wrong", vec![("vm.ova", b)]));
    let mut pax = tar_header("././@PaxHeader", 1 << 40, b'x').to_vec();
    pax.extend_from_slice(&good);
    cases.push(case("OVA: pax header of 1 TiB", vec![("vm.ova", pax)]));
    let many: Vec<(String, Vec<u8>)> = (0..10_001).map(|i| (format!("f{i}"), Vec::new())).collect();
    let refs: Vec<(&str, &[u8])> =
        [("vm.ovf", OVF)].into_iter().chain(many.iter().map(|(n, b)| (n.as_str(), b.as_slice()))).collect();
    cases.push(case("OVA: 10,002 members", vec![("vm.ova", tar(&refs))]));
    cases.push(case("OVA: no OVF", vec![("vm.ova", tar(&[("1mb.vmdk", OVF_DISK)]))]));
    let mf = b"SHA256(1mb.vmdk)= 0000000000000000000000000000000000000000000000000000000000000000\n";
    cases.push(case(
        "OVA: manifest digest wrong",
        vec![("vm.ova", tar(&[("vm.ovf", OVF), ("vm.mf", mf), ("1mb.vmdk", OVF_DISK)]))],
    ));
    cases.push(case(
        "OVA: manifest of 2 MiB",
        vec![("vm.ova", tar(&[("vm.ovf", OVF), ("vm.mf", &vec![b'#'; 2 << 20]), ("1mb.vmdk", OVF_DISK)]))],
    ));
}

fn ovf_cases(cases: &mut Vec<Case>) {
    let ovf = String::from_utf8(OVF.to_vec()).unwrap();
    let with = |what: &str, text: String| {
        case(format!("OVF: {what}"), vec![("vm.ovf", text.into_bytes()), ("1mb.vmdk", OVF_DISK.to_vec())])
    };
    cases.push(with(
        "10 MB attribute value",
        ovf.replace("ovf:id=\"vm\"", &format!("ovf:id=\"{}\"", "v".repeat(10 << 20))),
    ));
    // Under the 8 MiB and 1,000,000-node bounds: valid, if odd, descriptors.
    let mut c =
        with("6 MB attribute value", ovf.replace("ovf:id=\"vm\"", &format!("ovf:id=\"{}\"", "v".repeat(6 << 20))));
    c.may_pass = true;
    cases.push(c);
    let deep = format!("{}{}", "<a>".repeat(200_000), "</a>".repeat(200_000));
    let mut c = with("200,000 nested elements", ovf.replace("<DiskSection>", &format!("{deep}<DiskSection>")));
    c.may_pass = true;
    cases.push(c);
    let laughs = "<!DOCTYPE Envelope [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\
                  <!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">\
                  <!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\"><!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">]>";
    cases.push(with(
        "entity expansion (billion laughs)",
        ovf.replacen("<Envelope", &format!("{laughs}<Envelope"), 1)
            .replace("<Name>000_bios</Name>", "<Name>&f;&f;&f;</Name>"),
    ));
    cases.push(with("cut in the middle", ovf[..ovf.len() / 2].to_string()));
    cases.push(with("not UTF-8", ovf.replace("000_bios", "\u{fffd}").replace('\u{fffd}', "\u{0}")));
    // The VMDK's own capacity decides; the OVF's is reported as not understood or different.
    for (what, text) in [
        ("disk capacity 2^70", ovf.replace("ovf:capacity=\"1\"", "ovf:capacity=\"1180591620717411303424\"")),
        ("disk capacity -1", ovf.replace("ovf:capacity=\"1\"", "ovf:capacity=\"-1\"")),
        ("capacity unit byte * 2^99", ovf.replace("byte * 2^20", "byte * 2^99")),
        ("disk capacity 2 MiB (the VMDK holds 1)", ovf.replace("ovf:capacity=\"1\"", "ovf:capacity=\"2\"")),
    ] {
        let mut c = with(what, text);
        (c.may_pass, c.warns) = (true, true);
        cases.push(c);
    }
    cases
        .push(with("file reference to a missing file", ovf.replace("ovf:href=\"1mb.vmdk\"", "ovf:href=\"gone.vmdk\"")));
    cases.push(with("disk naming a missing file id", ovf.replace("ovf:fileRef=\"file1\"", "ovf:fileRef=\"nofile\"")));
    cases.push(with("href with ../", ovf.replace("ovf:href=\"1mb.vmdk\"", "ovf:href=\"../1mb.vmdk\"")));
    cases.push(with(
        "href absolute URL",
        ovf.replace("ovf:href=\"1mb.vmdk\"", "ovf:href=\"https://example.com/1mb.vmdk\""),
    ));
    cases.push(with(
        "gzip compression on a file that is not gzip",
        ovf.replace("ovf:href=\"1mb.vmdk\"", "ovf:href=\"1mb.vmdk\" ovf:compression=\"gzip\""),
    ));
    cases.push(with(
        "chunkSize 1 (a million chunks)",
        ovf.replace("ovf:href=\"1mb.vmdk\"", "ovf:href=\"1mb.vmdk\" ovf:chunkSize=\"1\""),
    ));
    let items: String = (0..10_001).map(|i| format!("<File ovf:href=\"f{i}\" ovf:id=\"x{i}\"/>")).collect();
    cases.push(with("10,001 File elements", ovf.replace("<References>", &format!("<References>{items}"))));
    let mut c =
        with("file size attribute lying", ovf.replace("ovf:href=\"1mb.vmdk\"", "ovf:href=\"1mb.vmdk\" ovf:size=\"5\""));
    c.may_pass = true; // the size is informative; the file is read as it is
    cases.push(c);
}

/// A small QCOW2 the converter writes from the stream-optimized fixture.
fn qcow2_base() -> Vec<u8> {
    let disk = stackferry::vmdk::open(MemSource::new("s.vmdk", STREAM.to_vec()), &stackferry::source::NoFiles).unwrap();
    let p = plan(&disk, &Options::default(), &|| false).unwrap();
    let mut out = Vec::new();
    convert_serial(disk, p, &mut |b: &[u8]| {
        out.extend_from_slice(b);
        Ok(())
    })
    .unwrap();
    out
}

fn qcow2_cases(cases: &mut Vec<Case>) {
    let base = qcow2_base();
    let l1 = stackferry::bytes::be64(&base, 40) as usize;
    let l2 = (stackferry::bytes::be64(&base, l1) & 0x00ff_ffff_ffff_fe00) as usize;
    let l2e = (0..8192).map(|i| l2 + 8 * i).find(|&a| base[a..a + 8] != [0; 8]).expect("an allocated cluster");
    // (field, offset, width, value); QCOW2 is big-endian (docs/interop/qcow2.rst).
    for (what, at, width, v) in [
        ("version 1", 4, 4, 1),
        ("version 4", 4, 4, 4),
        ("backing file", 8, 8, 0x200),
        ("cluster_bits 8", 20, 4, 8),
        ("cluster_bits 31", 20, 4, 31),
        ("size 2^62", 24, 8, 1 << 62),
        ("size all ones", 24, 8, u64::MAX),
        ("encrypted (AES)", 32, 4, 1),
        ("l1_size 2^31", 36, 4, 1 << 31),
        ("l1_size 0", 36, 4, 0),
        ("l1_table_offset past the end", 40, 8, 1 << 40),
        ("l1_table_offset unaligned", 40, 8, 0x201),
        ("refcount_table_offset past the end", 48, 8, 1 << 40),
        ("refcount_table_clusters 2^31", 56, 4, 1 << 31),
        ("incompatible feature bit 40", 72, 8, 1 << 40),
        ("external data file", 72, 8, 1 << 2),
        ("refcount_order 7", 96, 4, 7),
        ("header_length 2^31", 100, 4, 1 << 31),
    ] {
        let mut b = base.clone();
        put_be(&mut b, at, width, v);
        cases.push(case(format!("QCOW2: {what}"), vec![("disk.qcow2", b)]));
    }
    for (what, v) in [
        ("L2 entry past the end", 0x8000_0000_0000_0000 | (1u64 << 40)),
        ("L2 entry compressed", 0x4000_0000_0000_0000 | 0x10000),
        ("L2 entry into the header", 0x8000_0000_0000_0000),
        ("L2 entry unaligned", 0x8000_0000_0000_0000 | 0x10200),
    ] {
        let mut b = base.clone();
        put_be(&mut b, l2e, 8, v);
        cases.push(case(format!("QCOW2: {what}"), vec![("disk.qcow2", b)]));
    }
    for at in [4, 72, 104, l1, l1 + 8, l2, l2e + 8, base.len() - 1] {
        let mut b = base.clone();
        b.truncate(at);
        cases.push(case(format!("QCOW2 cut at {at}"), vec![("disk.qcow2", b)]));
    }
}

fn corpus() -> Vec<Case> {
    let mut cases = Vec::new();
    let sparse = [("disk.vmdk", SPARSE)];
    let stream = [("disk.vmdk", STREAM)];
    let markers = [("disk.vmdk", MARKERS)];
    let split = [("disk.vmdk", SPLIT), ("twoGbMaxExtentSparse-s001.vmdk", SPLIT_S001)];
    truncations(&mut cases, "monolithicSparse", &sparse, 0);
    truncations(&mut cases, "streamOptimized", &stream, 0);
    truncations(&mut cases, "streamOptimizedWithMarkers", &markers, 0);
    truncations(&mut cases, "twoGbMaxExtentSparse", &split, 1);
    field_flips(&mut cases, "monolithicSparse", &sparse, 0);
    field_flips(&mut cases, "streamOptimized", &stream, 0);
    field_flips(&mut cases, "twoGbMaxExtentSparse", &split, 1);
    grain_entries(&mut cases, "monolithicSparse", &sparse, 0);
    grain_entries(&mut cases, "twoGbMaxExtentSparse", &split, 1);
    stream_cases(&mut cases, "streamOptimized", STREAM);
    stream_cases(&mut cases, "streamOptimizedWithMarkers", MARKERS);
    descriptor_cases(&mut cases);
    ova_cases(&mut cases);
    ovf_cases(&mut cases);
    qcow2_cases(&mut cases);
    cases
}

/// What a case that converted gave: each disk's content digest (None: its output was over
/// 64 MiB, so it was planned only) and the number of warnings.
struct Converted {
    // Compared with qemu-img's natively; wasm32 has no qemu-img.
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    digests: Vec<Option<String>>,
    warnings: usize,
}

/// Inspect, open, plan and convert (outputs up to 64 MiB) as the page and the CLI do.
fn run(files: &[SourceRef]) -> Result<Converted, Error> {
    let set = NamedFiles::new(files.to_vec());
    let inspection = stackferry::input::inspect(files[0].clone(), &set)?;
    let opened = stackferry::input::open(files[0].clone(), &set)?;
    let mut digests = Vec::new();
    for disk in opened.disks {
        let p = plan(&disk, &Options::default(), &|| false)?;
        digests.push(match p.output_len() {
            Some(n) if n <= 64 << 20 => Some(convert_serial(disk, p, &mut |_: &[u8]| Ok(()))?.content_digest),
            _ => None,
        });
    }
    Ok(Converted { digests, warnings: inspection.warnings.len() + opened.warnings.len() })
}

/// qemu-img, the oracle: a disk we convert must be one it converts to the same content.
#[cfg(not(target_arch = "wasm32"))]
fn qemu_agrees(c: &Case, ours: &Converted) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    for (n, b) in &c.files {
        std::fs::write(dir.path().join(n), b).unwrap();
    }
    let raw = dir.path().join("qemu.raw");
    let o = std::process::Command::new("qemu-img")
        .args(["convert", "-O", "raw"])
        .arg(dir.path().join(&c.files[0].0))
        .arg(&raw)
        .output()
        .expect("qemu-img runs");
    if !o.status.success() {
        return Err(format!("we convert it, qemu-img refuses it: {}", String::from_utf8_lossy(&o.stderr).trim()));
    }
    let theirs = stackferry::digest::digest_raw(std::io::BufReader::new(std::fs::File::open(&raw).unwrap())).unwrap();
    match &ours.digests[..] {
        [Some(d)] if *d == theirs => Ok(()),
        [None] => Ok(()), // planned only (a large output): nothing to compare
        _ => Err(format!("converts, but not to what qemu-img reads ({theirs})")),
    }
}

fn now_s() -> f64 {
    #[cfg(target_arch = "wasm32")]
    return js_sys::Date::now() / 1000.0;
    #[cfg(not(target_arch = "wasm32"))]
    return std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn every_malformed_input_fails_clearly_within_time_and_memory() {
    let cases = corpus();
    assert!(cases.len() >= 200, "the corpus holds {} cases", cases.len());
    #[cfg(not(target_arch = "wasm32"))]
    if let Ok(dir) = std::env::var("MALFORMED_OUT") {
        for (i, c) in cases.iter().enumerate() {
            let d = std::path::Path::new(&dir).join(format!("{i:03}"));
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("CASE"), &c.name).unwrap();
            for (n, b) in &c.files {
                std::fs::write(d.join(n.replace(['/', '\\'], "_")), b).unwrap();
            }
        }
    }
    let mut problems = Vec::new();
    let (mut failed, mut passed) = (0, 0);
    for c in &cases {
        let files: Vec<SourceRef> = c.files.iter().map(|(n, b)| MemSource::new(n.clone(), b.clone())).collect();
        let base = LIVE.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let t = now_s();
        let r = run(&files);
        let (secs, heap) = (now_s() - t, PEAK.load(Ordering::Relaxed) - base);
        if secs > TIME_CAP_S {
            problems.push(format!("{}: took {secs:.1} s", c.name));
        }
        if heap > HEAP_CAP {
            problems.push(format!("{}: peak heap {} MiB", c.name, heap >> 20));
        }
        match r {
            Ok(conv) => {
                passed += 1;
                if c.warns && conv.warnings == 0 {
                    problems.push(format!("{}: converted without a warning", c.name));
                }
                #[cfg(not(target_arch = "wasm32"))]
                if c.is_disk() {
                    if let Err(why) = qemu_agrees(c, &conv) {
                        problems.push(format!("{}: {why}", c.name));
                    }
                }
                if !c.may_pass && !c.is_disk() {
                    problems.push(format!("{}: converted, but it is malformed", c.name));
                }
            }
            Err(e) => {
                failed += 1;
                // An OVA's errors name the member at fault.
                let ova = c.files[0].0.ends_with(".ova");
                let named = ova || c.files.iter().any(|(n, _)| e.file == *n);
                if e.file.is_empty() || !e.to_string().starts_with(&e.file) || e.message.is_empty() {
                    problems.push(format!("{}: error names no file: {e}", c.name));
                } else if !named && e.kind != ErrorKind::MissingFile && e.kind != ErrorKind::UnsafeName {
                    problems.push(format!("{}: error names {:?}, not one of its files: {e}", c.name, e.file));
                }
                if matches!(e.kind, ErrorKind::Truncated | ErrorKind::Corrupt) && e.offset.is_none() {
                    problems.push(format!("{}: {:?} without an offset: {e}", c.name, e.kind));
                }
            }
        }
    }
    println!("{} malformed inputs: {failed} refused with an error, {passed} converted", cases.len());
    assert!(problems.is_empty(), "{} of {} cases:\n{}", problems.len(), cases.len(), problems.join("\n"));
}
