//! COWD (vmfsSparse) and seSparse delta layers, checked against qemu-img.
//!
//! qemu-img cannot write either format but reads both, so the test writes them itself
//! (generators below, following the layouts exactly as qemu reads them), puts them in an ESX
//! style snapshot chain (a `vmfs` base descriptor over a flat extent of random data and a
//! `vmfsSparse`/`seSparse` delta descriptor naming it as parent), lets `qemu-img convert -O
//! raw` read the delta, and compares every byte with our layer over the same base through
//! `image::Overlay`. Run kinds are checked against the generator's model, and broken files
//! must fail with an error naming the file and offset, never panic.

use stackferry::decode::read_guest;
use stackferry::image::{push_run, Mapper, Overlay, Run, RunKind};
use stackferry::native::FileSource;
use stackferry::source::{MemSource, SourceRef};
use stackferry::vmdk::{cowd, sesparse};
use stackferry::{Error, ErrorKind};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::process::Command;

// ---------------------------------------------------------------------------------------------
// Small helpers

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(n + 8);
        while v.len() < n {
            v.extend_from_slice(&self.next().to_le_bytes());
        }
        v.truncate(n);
        v
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i as u64 + 1) as usize);
        }
    }
}

/// A file built from pieces at offsets, so multi-megabyte seSparse regions stay sparse on disk.
struct Image {
    len: u64,
    pieces: Vec<(u64, Vec<u8>)>,
}

impl Image {
    fn put(&mut self, at: u64, data: Vec<u8>) {
        self.len = self.len.max(at + data.len() as u64);
        self.pieces.push((at, data));
    }
    fn to_vec(&self) -> Vec<u8> {
        let mut v = vec![0u8; self.len as usize];
        for (at, d) in &self.pieces {
            v[*at as usize..*at as usize + d.len()].copy_from_slice(d);
        }
        v
    }
    fn write(&self, path: &Path) {
        let f = std::fs::File::create(path).unwrap();
        f.set_len(self.len).unwrap();
        for (at, d) in &self.pieces {
            f.write_all_at(d, *at).unwrap();
        }
    }
}

/// What the generator put at each grain of the guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    Unallocated,
    Zero,
    /// Grain data at this byte offset of the delta file.
    Data(u64),
}

/// A flat parent: the base's `-flat.vmdk` read as is.
struct Flat(SourceRef);

impl Mapper for Flat {
    fn size(&self) -> u64 {
        self.0.len()
    }
    fn map(&self, offset: u64, len: u64, out: &mut Vec<Run>) -> stackferry::Result<()> {
        push_run(out, Run { len, kind: RunKind::Data { src: self.0.clone(), offset } });
        Ok(())
    }
}

fn open_err(r: stackferry::Result<Box<dyn Mapper>>) -> Error {
    match r {
        Ok(_) => panic!("expected an error, the file opened"),
        Err(e) => e,
    }
}

fn map_all(m: &dyn Mapper) -> stackferry::Result<Vec<Run>> {
    let mut runs = Vec::new();
    m.map(0, m.size(), &mut runs)?;
    Ok(runs)
}

fn assert_err(e: &Error, kind: ErrorKind, file: &str, offset: u64, text: &str) {
    assert_eq!(e.kind, kind, "{e}");
    assert_eq!(e.file, file, "{e}");
    assert_eq!(e.offset, Some(offset), "{e}");
    assert!(e.message.contains(text), "'{e}' does not mention '{text}'");
}

fn put_u32(v: &mut [u8], at: u64, x: u32) {
    v[at as usize..at as usize + 4].copy_from_slice(&x.to_le_bytes());
}
fn put_u64(v: &mut [u8], at: u64, x: u64) {
    v[at as usize..at as usize + 8].copy_from_slice(&x.to_le_bytes());
}

// ---------------------------------------------------------------------------------------------
// COWD generator: VMware COWDisk_Header as qemu's vmdk_open_vmfs_sparse reads it.

struct Cowd {
    img: Image,
    want: Vec<Want>,
    /// Byte offset of the grain directory and of each grain table (0 = none).
    gd_at: u64,
    gts: Vec<u64>,
}

/// A COWD redo log over `sectors` sectors with `grain` sectors per grain: some grain tables
/// absent, some present but empty, the rest with about `pct` percent of grains allocated
/// (placed in guest order in some tables and shuffled in others).
fn build_cowd(rng: &mut Rng, sectors: u32, grain: u32, pct: u64) -> Cowd {
    const GT_ENTRIES: u64 = 4096;
    let grain_bytes = u64::from(grain) * 512;
    let n_grains = u64::from(sectors).div_ceil(u64::from(grain));
    let n_gd = n_grains.div_ceil(GT_ENTRIES);
    let mut hdr = vec![0u8; 2048];
    hdr[0..4].copy_from_slice(b"COWD");
    put_u32(&mut hdr, 4, 1);
    put_u32(&mut hdr, 8, 0); // a child: the union holds the parent name
    put_u32(&mut hdr, 12, sectors);
    put_u32(&mut hdr, 16, grain);
    put_u32(&mut hdr, 20, 4);
    put_u32(&mut hdr, 24, n_gd as u32);
    hdr[32..41].copy_from_slice(b"base.vmdk");
    put_u32(&mut hdr, 1060, 7);
    hdr[1064..1074].copy_from_slice(b"delta disk");

    let mut next = 4 + (n_gd * 4).div_ceil(512); // first free sector after the GD
    let mut want = vec![Want::Unallocated; n_grains as usize];
    let mut gd = vec![0u32; n_gd as usize];
    let mut gts = vec![0u64; n_gd as usize];
    let mut tables = Vec::new();
    let mut order: Vec<u64> = (0..n_gd).collect();
    rng.shuffle(&mut order);
    let mut img = Image { len: 0, pieces: Vec::new() };
    for &t in &order {
        // With three tables or more: table 1 is absent, table 0 empty, the others filled.
        if t == 1 && n_gd > 2 {
            continue;
        }
        let gt_sector = next;
        next += GT_ENTRIES * 4 / 512;
        gd[t as usize] = gt_sector as u32;
        gts[t as usize] = gt_sector * 512;
        let mut gt = vec![0u8; (GT_ENTRIES * 4) as usize];
        if !(t == 0 && n_gd > 2) {
            let first = t * GT_ENTRIES;
            // The last grain (maybe cut short by the capacity) is always allocated.
            let mut grains: Vec<u64> =
                (first..(first + GT_ENTRIES).min(n_grains)).filter(|&g| g == n_grains - 1 || rng.chance(pct)).collect();
            if t % 2 == 1 {
                rng.shuffle(&mut grains);
            }
            for g in grains {
                put_u32(&mut gt, (g - first) * 4, next as u32);
                want[g as usize] = Want::Data(next * 512);
                img.put(next * 512, rng.bytes(grain_bytes as usize));
                next += u64::from(grain);
            }
        }
        tables.push((gt_sector * 512, gt));
    }
    put_u32(&mut hdr, 28, next as u32);
    let gd_bytes: Vec<u8> = gd.iter().flat_map(|s| s.to_le_bytes()).collect();
    img.put(0, hdr);
    img.put(4 * 512, gd_bytes);
    for (at, gt) in tables {
        img.put(at, gt);
    }
    Cowd { img, want, gd_at: 2048, gts }
}

// ---------------------------------------------------------------------------------------------
// seSparse generator: the const/volatile headers qemu checks, GD of 0x10000000_<table>, GTs of
// typed 64-bit entries, grains addressed by index with the split-bit encoding.

/// Region layout in sectors: `(offset, size)` of volatile header, journal header, journal,
/// grain directory, grain tables, free bitmap, backmap, grains.
struct SeLayout {
    volatile: (u64, u64),
    journal_header: (u64, u64),
    journal: (u64, u64),
    gd: (u64, u64),
    gts: (u64, u64),
    free_bitmap: (u64, u64),
    backmap: (u64, u64),
    grains: u64,
}

/// The layout ESXi's hostd.log shows for a new 100 MiB snapshot (fixed 2048-sector regions).
fn esxi_layout() -> SeLayout {
    SeLayout {
        volatile: (1, 1),
        journal_header: (2, 2),
        journal: (2048, 2048),
        gd: (4096, 2048),
        gts: (6144, 2048),
        free_bitmap: (8192, 2048),
        backmap: (10240, 2048),
        grains: 12288,
    }
}

/// A compact layout for small in-memory files (room for `tables` grain tables).
fn compact_layout(tables: u64) -> SeLayout {
    let gts = 9 + tables * 64;
    SeLayout {
        volatile: (1, 1),
        journal_header: (2, 2),
        journal: (4, 4),
        gd: (8, 1),
        gts: (9, tables * 64),
        free_bitmap: (gts, 1),
        backmap: (gts + 1, 1),
        grains: gts + 2,
    }
}

struct SeSparse {
    img: Image,
    want: Vec<Want>,
    gd_at: u64,
    /// Byte offset of the grain table used for each directory entry (0 = none).
    gts: Vec<u64>,
    grains_at: u64,
}

/// A seSparse delta over `sectors` sectors: one directory entry without a table, one with an
/// empty table, the rest mixing unallocated (half), unmapped, zero and allocated grains (about
/// `pct` percent). Allocated grains get indexes shuffled over `index_space` slots, so indexes
/// above 4096 exercise the split encoding.
fn build_sesparse(
    rng: &mut Rng,
    sectors: u64,
    layout: &SeLayout,
    pct: u64,
    index_space: u64,
    full_length: bool,
) -> SeSparse {
    const GT_ENTRIES: u64 = 4096;
    let n_grains = sectors.div_ceil(8);
    let n_gd = n_grains.div_ceil(GT_ENTRIES);
    let region_tables = layout.gts.1 / 64;
    assert!(n_gd <= region_tables && n_gd <= layout.gd.1 * 64);
    let mut hdr = vec![0u8; 512];
    let fields = [
        0xcafe_babe,
        0x0000_0002_0000_0001,
        sectors,
        8,
        64,
        0,
        0,
        0,
        0,
        0,
        layout.volatile.0,
        layout.volatile.1,
        layout.journal_header.0,
        layout.journal_header.1,
        layout.journal.0,
        layout.journal.1,
        layout.gd.0,
        layout.gd.1,
        layout.gts.0,
        layout.gts.1,
        layout.free_bitmap.0,
        layout.free_bitmap.1,
        layout.backmap.0,
        layout.backmap.1,
        layout.grains,
        n_grains * 8,
    ];
    for (i, f) in fields.iter().enumerate() {
        put_u64(&mut hdr, i as u64 * 8, *f);
    }
    let mut vol = vec![0u8; 512];
    put_u64(&mut vol, 0, 0xcafe_cafe);
    put_u64(&mut vol, 8, n_gd);
    put_u64(&mut vol, 16, 42);

    let mut want = vec![Want::Unallocated; n_grains as usize];
    let mut gd = vec![0u64; n_gd as usize];
    let mut gts = vec![0u64; n_gd as usize];
    let mut table_ids: Vec<u64> = (0..region_tables).collect();
    rng.shuffle(&mut table_ids);
    let mut order: Vec<u64> = (0..n_gd).collect();
    rng.shuffle(&mut order);
    let tables_at = layout.gts.0 * 512;
    let grains_at = layout.grains * 512;
    let mut tables: Vec<(u64, Vec<u64>)> = Vec::new();
    let mut allocated = Vec::new();
    for (k, &t) in order.iter().enumerate() {
        // With three tables or more: table 1 is absent, table 0 empty, the others mixed.
        if t == 1 && n_gd > 2 {
            continue;
        }
        let id = table_ids[k];
        gd[t as usize] = 0x1000_0000_0000_0000 | id;
        gts[t as usize] = tables_at + id * 32768;
        let mut gt = vec![0u64; GT_ENTRIES as usize];
        if !(t == 0 && n_gd > 2) {
            let first = t * GT_ENTRIES;
            for g in first..(first + GT_ENTRIES).min(n_grains) {
                // The last grain (maybe cut short by the capacity) is always allocated.
                let r = if g == n_grains - 1 { 99 } else { rng.below(100) };
                let i = (g - first) as usize;
                if r < 50 {
                    continue;
                } else if r < 50 + (50 - pct) / 2 {
                    gt[i] = 0x1000_0000_0000_0000; // unmapped
                    want[g as usize] = Want::Zero;
                } else if r < 100 - pct {
                    gt[i] = 0x2000_0000_0000_0000; // zero
                    want[g as usize] = Want::Zero;
                } else {
                    allocated.push((tables.len(), i, g));
                }
            }
        }
        tables.push((tables_at + id * 32768, gt));
    }
    let mut slots: Vec<u64> = (0..index_space.max(allocated.len() as u64)).collect();
    rng.shuffle(&mut slots);
    let mut img = Image { len: 0, pieces: Vec::new() };
    for (n, &(table, i, g)) in allocated.iter().enumerate() {
        let index = slots[n];
        tables[table].1[i] = 0x3000_0000_0000_0000 | ((index & 0xfff) << 48) | (index >> 12);
        want[g as usize] = Want::Data(grains_at + index * 4096);
        img.put(grains_at + index * 4096, rng.bytes(4096));
    }
    img.put(0, hdr);
    img.put(layout.volatile.0 * 512, vol);
    img.put(layout.gd.0 * 512, gd.iter().flat_map(|e| e.to_le_bytes()).collect());
    for (at, gt) in tables {
        img.put(at, gt.iter().flat_map(|e| e.to_le_bytes()).collect());
    }
    if full_length {
        img.len = img.len.max(grains_at + n_grains * 4096);
    }
    SeSparse { img, want, gd_at: layout.gd.0 * 512, gts, grains_at }
}

// ---------------------------------------------------------------------------------------------
// The chain on disk and qemu-img's reading of it.

/// Descriptor text for an ESX base (`vmfs`) or delta (`vmfsSparse`/`seSparse`).
fn descriptor(cid: &str, parent_cid: &str, create_type: &str, extent: &str, parent: Option<&str>) -> String {
    let mut d = format!(
        "# Disk DescriptorFile\nversion=1\nencoding=\"UTF-8\"\nCID={cid}\nparentCID={parent_cid}\nisNativeSnapshot=\"no\"\ncreateType=\"{create_type}\"\n"
    );
    if let Some(p) = parent {
        d += &format!("parentFileNameHint=\"{p}\"\n");
    }
    d += &format!("# Extent description\n{extent}\n\n# The Disk Data Base\n#DDB\n\nddb.adapterType = \"lsilogic\"\nddb.virtualHWVersion = \"14\"\n");
    d
}

/// Write base.vmdk + base-flat.vmdk (random data) and delta.vmdk + the delta extent; return
/// the base data and qemu-img's raw reading of delta.vmdk.
fn chain(
    dir: &Path,
    rng: &mut Rng,
    sectors: u64,
    delta: &Image,
    extent_type: &str,
    create_type: &str,
    extent_name: &str,
) -> (Vec<u8>, Vec<u8>) {
    let base = rng.bytes((sectors * 512) as usize);
    std::fs::write(dir.join("base-flat.vmdk"), &base).unwrap();
    std::fs::write(
        dir.join("base.vmdk"),
        descriptor("fffffffe", "ffffffff", "vmfs", &format!("RW {sectors} VMFS \"base-flat.vmdk\""), None),
    )
    .unwrap();
    delta.write(&dir.join(extent_name));
    std::fs::write(
        dir.join("delta.vmdk"),
        descriptor(
            "3a5c07d1",
            "fffffffe",
            create_type,
            &format!("RW {sectors} {extent_type} \"{extent_name}\""),
            Some("base.vmdk"),
        ),
    )
    .unwrap();
    let out = dir.join("out.raw");
    let st = Command::new("qemu-img")
        .args(["convert", "-O", "raw"])
        .arg(dir.join("delta.vmdk"))
        .arg(&out)
        .output()
        .expect("qemu-img runs");
    assert!(st.status.success(), "qemu-img convert failed: {}", String::from_utf8_lossy(&st.stderr));
    let raw = std::fs::read(&out).unwrap();
    assert_eq!(raw.len() as u64, sectors * 512, "qemu-img's size");
    (base, raw)
}

/// Compare our overlay with qemu's bytes: the whole disk in odd-sized chunks, then random reads.
fn compare_with_qemu(layer: Box<dyn Mapper>, base: SourceRef, raw: &[u8], rng: &mut Rng) {
    let overlay = Overlay { top: layer, parent: Box::new(Flat(base)) };
    assert_eq!(overlay.size(), raw.len() as u64);
    let chunk = (1 << 20) + 4097;
    let mut buf = vec![0u8; chunk];
    let mut pos = 0usize;
    while pos < raw.len() {
        let n = chunk.min(raw.len() - pos);
        read_guest(&overlay, pos as u64, &mut buf[..n]).unwrap();
        if buf[..n] != raw[pos..pos + n] {
            let i = (0..n).find(|&i| buf[i] != raw[pos + i]).unwrap();
            panic!("guest byte {} differs from qemu-img: ours {:#x}, qemu {:#x}", pos + i, buf[i], raw[pos + i]);
        }
        pos += n;
    }
    for _ in 0..300 {
        let off = rng.below(raw.len() as u64) as usize;
        let n = (rng.below(70_000) as usize + 1).min(raw.len() - off);
        let mut b = vec![0u8; n];
        read_guest(&overlay, off as u64, &mut b).unwrap();
        assert!(b == raw[off..off + n], "random read {off}+{n} differs from qemu-img");
    }
}

/// Check each grain's run kind (and data offset) against the generator's model, mapping both
/// whole grains and a range starting inside each grain.
fn check_kinds(layer: &dyn Mapper, want: &[Want], grain: u64) {
    let size = layer.size();
    for (g, w) in want.iter().enumerate() {
        let start = g as u64 * grain;
        let len = grain.min(size - start);
        for skip in [0, len / 2] {
            let mut runs = Vec::new();
            layer.map(start + skip, len - skip, &mut runs).unwrap();
            assert_eq!(runs.len(), 1, "grain {g}: {runs:?}");
            assert_eq!(runs[0].len, len - skip);
            match (&runs[0].kind, w) {
                (RunKind::Unallocated, Want::Unallocated) | (RunKind::Zero, Want::Zero) => {}
                (RunKind::Data { offset, .. }, Want::Data(at)) => {
                    assert_eq!(*offset, at + skip, "grain {g} data offset")
                }
                (k, w) => panic!("grain {g}: mapped as {k:?}, generated as {w:?}"),
            }
        }
    }
    // The whole layer in one call: lengths add up and runs were merged.
    let runs = map_all(layer).unwrap();
    assert_eq!(runs.iter().map(|r| r.len).sum::<u64>(), size);
    assert!(runs.windows(2).all(|w| !matches!(
        (&w[0].kind, &w[1].kind),
        (RunKind::Unallocated, RunKind::Unallocated) | (RunKind::Zero, RunKind::Zero)
    )));
    assert!(runs.len() <= want.len());
}

fn count(want: &[Want], f: impl Fn(&Want) -> bool) -> usize {
    want.iter().filter(|w| f(w)).count()
}

// ---------------------------------------------------------------------------------------------
// COWD against qemu-img

fn cowd_against_qemu(seed: u64, sectors: u32, grain: u32, pct: u64) {
    let mut rng = Rng(seed);
    let c = build_cowd(&mut rng, sectors, grain, pct);
    assert!(count(&c.want, |w| matches!(w, Want::Data(_))) > 10);
    let dir = tempfile::tempdir().unwrap();
    let (_, raw) =
        chain(dir.path(), &mut rng, u64::from(sectors), &c.img, "VMFSSPARSE", "vmfsSparse", "delta-delta.vmdk");
    let src = FileSource::open(&dir.path().join("delta-delta.vmdk")).unwrap();
    let layer = cowd::open_extent(src.clone()).unwrap();
    assert_eq!(layer.size(), u64::from(sectors) * 512);
    check_kinds(layer.as_ref(), &c.want, u64::from(grain) * 512);
    let base = FileSource::open(&dir.path().join("base-flat.vmdk")).unwrap();
    compare_with_qemu(cowd::open_extent(src).unwrap(), base, &raw, &mut rng);
}

/// ESX's default: 512-byte grains, 2 MiB per grain table; capacity not a multiple of a table.
#[test]
fn cowd_one_sector_grains_match_qemu() {
    cowd_against_qemu(0x5eed_0001, 9 * 2048 + 5, 1, 40);
}

/// Bigger grains, and a capacity that cuts the last grain short.
#[test]
fn cowd_large_grains_and_partial_last_grain_match_qemu() {
    cowd_against_qemu(0x5eed_0002, 70 * 2048 + 3, 8, 10);
}

/// A grain size that is not a power of two (nothing in the format requires one).
#[test]
fn cowd_odd_grain_size_matches_qemu() {
    cowd_against_qemu(0x5eed_0005, 3 * 4096 * 3 + 2, 3, 30);
}

// ---------------------------------------------------------------------------------------------
// seSparse against qemu-img

fn sesparse_against_qemu(seed: u64, sectors: u64, layout: SeLayout, index_space: u64) {
    let mut rng = Rng(seed);
    let s = build_sesparse(&mut rng, sectors, &layout, 25, index_space, true);
    for kind in [Want::Unallocated, Want::Zero] {
        assert!(count(&s.want, |w| *w == kind) > 10);
    }
    let data: Vec<u64> = s
        .want
        .iter()
        .filter_map(|w| if let Want::Data(at) = w { Some((at - s.grains_at) / 4096) } else { None })
        .collect();
    assert!(data.len() > 10);
    if index_space > 4096 {
        assert!(data.iter().any(|&i| i >= 4096), "some grain index uses the high bits");
    }
    let dir = tempfile::tempdir().unwrap();
    let (_, raw) = chain(dir.path(), &mut rng, sectors, &s.img, "SESPARSE", "seSparse", "delta-sesparse.vmdk");
    let src = FileSource::open(&dir.path().join("delta-sesparse.vmdk")).unwrap();
    let layer = sesparse::open_extent(src.clone()).unwrap();
    assert_eq!(layer.size(), sectors * 512);
    check_kinds(layer.as_ref(), &s.want, 4096);
    let base = FileSource::open(&dir.path().join("base-flat.vmdk")).unwrap();
    compare_with_qemu(sesparse::open_extent(src).unwrap(), base, &raw, &mut rng);
}

/// ESXi's region layout, three-plus grain tables, grain indexes above 4096, partial last grain.
#[test]
fn sesparse_esxi_layout_matches_qemu() {
    let sectors = 40 * 2048 + 3;
    sesparse_against_qemu(0x5eed_0003, sectors, esxi_layout(), sectors.div_ceil(8));
}

/// A compact layout whose directory and table region are exactly as big as needed.
#[test]
fn sesparse_compact_layout_matches_qemu() {
    sesparse_against_qemu(0x5eed_0004, 48 * 2048, compact_layout(3), 3000);
}

// ---------------------------------------------------------------------------------------------
// Bad COWD inputs

fn small_cowd() -> (Cowd, Vec<u8>) {
    let c = build_cowd(&mut Rng(77), 3 * 4096 + 100, 1, 30);
    let v = c.img.to_vec();
    (c, v)
}

fn cowd_open(name: &str, v: Vec<u8>) -> stackferry::Result<Box<dyn Mapper>> {
    cowd::open_extent(MemSource::new(name, v))
}

#[test]
fn cowd_small_valid_file_opens_and_reads_parent_name() {
    let (c, v) = small_cowd();
    let m = cowd_open("d.vmdk", v.clone()).unwrap();
    check_kinds(m.as_ref(), &c.want, 512);
    let h = cowd::Header::read(MemSource::new("d.vmdk", v).as_ref()).unwrap();
    assert_eq!(h.parent(), Some("base.vmdk"));
    assert_eq!(h.name, "delta disk");
    assert_eq!((h.gd_offset, h.num_gd_entries, h.grain_size), (4, 4, 1));
}

#[test]
fn cowd_truncated_header() {
    let (_, v) = small_cowd();
    for n in [0, 3, 44, 2047] {
        let e = open_err(cowd_open("t.vmdk", v[..n].to_vec()));
        assert_err(&e, ErrorKind::Truncated, "t.vmdk", 0, "header");
    }
}

#[test]
fn cowd_bad_magic_version_grain() {
    let (_, v) = small_cowd();
    let mut b = v.clone();
    b[0..4].copy_from_slice(b"KDMV");
    assert_err(&open_err(cowd_open("m.vmdk", b)), ErrorKind::Corrupt, "m.vmdk", 0, "magic");
    let mut b = v.clone();
    put_u32(&mut b, 4, 2);
    assert_err(&open_err(cowd_open("v.vmdk", b)), ErrorKind::Unsupported, "v.vmdk", 4, "version 2");
    for g in [0, 0x20_0001, u32::MAX] {
        let mut b = v.clone();
        put_u32(&mut b, 16, g);
        assert_err(&open_err(cowd_open("g.vmdk", b)), ErrorKind::Corrupt, "g.vmdk", 16, "grain size");
    }
}

#[test]
fn cowd_grain_directory_checks() {
    let (c, v) = small_cowd();
    // GD beyond the end of the file.
    let mut b = v.clone();
    put_u32(&mut b, 20, (v.len() / 512) as u32);
    assert_err(&open_err(cowd_open("gd.vmdk", b)), ErrorKind::Corrupt, "gd.vmdk", 20, "past the end");
    let mut b = v.clone();
    put_u32(&mut b, 20, u32::MAX);
    assert_err(&open_err(cowd_open("gd.vmdk", b)), ErrorKind::Corrupt, "gd.vmdk", 20, "past the end");
    let mut b = v.clone();
    put_u32(&mut b, 20, 0);
    assert_err(&open_err(cowd_open("gd.vmdk", b)), ErrorKind::Corrupt, "gd.vmdk", 20, "offset is 0");
    // A directory too small for the capacity, and a hugely over-declared one.
    let mut b = v.clone();
    put_u32(&mut b, 24, 3);
    assert_err(&open_err(cowd_open("n.vmdk", b)), ErrorKind::Corrupt, "n.vmdk", 24, "4 are needed");
    let mut b = v.clone();
    put_u32(&mut b, 24, u32::MAX);
    assert_err(&open_err(cowd_open("n.vmdk", b)), ErrorKind::Corrupt, "n.vmdk", 24, "4294967295 entries");
    // A capacity needing more directory entries than declared.
    let mut b = v.clone();
    put_u32(&mut b, 12, u32::MAX);
    assert_err(&open_err(cowd_open("c.vmdk", b)), ErrorKind::Corrupt, "c.vmdk", 24, "needed");
    // A directory entry pointing a grain table past the end of the file.
    let t = c.gts.iter().position(|&g| g != 0).unwrap() as u64;
    let mut b = v.clone();
    put_u32(&mut b, c.gd_at + 4 * t, (v.len() as u32) / 512 - 31);
    assert_err(&open_err(cowd_open("gt.vmdk", b)), ErrorKind::Corrupt, "gt.vmdk", c.gd_at + 4 * t, "grain table");
}

#[test]
fn cowd_grain_past_eof_fails_when_mapped_and_names_the_entry() {
    let (c, v) = small_cowd();
    let g = c.want.iter().position(|w| matches!(w, Want::Data(_))).unwrap() as u64;
    let entry = c.gts[(g / 4096) as usize] + (g % 4096) * 4;
    let mut b = v.clone();
    put_u32(&mut b, entry, (v.len() / 512) as u32);
    // Opening does not read grain tables; mapping that grain reports it.
    let m = cowd_open("e.vmdk", b).unwrap();
    let mut runs = Vec::new();
    let e = m.map(g * 512, 512, &mut runs).unwrap_err();
    assert_err(&e, ErrorKind::Corrupt, "e.vmdk", entry, "past the end of the file");
    // The last grain of the file is still fine.
    let mut b = v.clone();
    put_u32(&mut b, entry, (v.len() / 512) as u32 - 1);
    map_all(cowd_open("e.vmdk", b).unwrap().as_ref()).unwrap();
}

#[test]
fn cowd_map_outside_the_extent_is_an_error() {
    let (_, v) = small_cowd();
    let m = cowd_open("o.vmdk", v).unwrap();
    let mut runs = Vec::new();
    assert!(m.map(m.size() - 1, 2, &mut runs).is_err());
    assert!(m.map(u64::MAX, 2, &mut runs).is_err());
}

// ---------------------------------------------------------------------------------------------
// Bad seSparse inputs

fn small_sesparse() -> (SeSparse, Vec<u8>) {
    let s = build_sesparse(&mut Rng(99), 3 * 32768 + 11, &compact_layout(5), 30, 900, false);
    let v = s.img.to_vec();
    (s, v)
}

fn se_open(name: &str, v: Vec<u8>) -> stackferry::Result<Box<dyn Mapper>> {
    sesparse::open_extent(MemSource::new(name, v))
}

#[test]
fn sesparse_small_valid_file_opens() {
    let (s, v) = small_sesparse();
    let m = se_open("s.vmdk", v.clone()).unwrap();
    check_kinds(m.as_ref(), &s.want, 4096);
    let src = MemSource::new("s.vmdk", v);
    let h = sesparse::ConstHeader::read(src.as_ref()).unwrap();
    assert_eq!((h.capacity, h.grain_dir_offset, h.grain_tables_offset), (3 * 32768 + 11, 8, 9));
    assert_eq!(sesparse::VolatileHeader::read(src.as_ref(), &h).unwrap().next_txn_seq_number, 42);
}

#[test]
fn sesparse_truncated_header() {
    let (_, v) = small_sesparse();
    for n in [0, 8, 511] {
        assert_err(&open_err(se_open("t.vmdk", v[..n].to_vec())), ErrorKind::Truncated, "t.vmdk", 0, "header");
    }
}

#[test]
fn sesparse_const_header_checks() {
    let (_, v) = small_sesparse();
    let cases: [(u64, u64, ErrorKind, &str); 9] = [
        (0, 0xcafe_babf, ErrorKind::Corrupt, "magic"),
        (8, 0x0000_0001_0000_0001, ErrorKind::Unsupported, "version"),
        (24, 16, ErrorKind::Unsupported, "grain size of 16"),
        (24, 1, ErrorKind::Unsupported, "grain size of 1"),
        (32, 128, ErrorKind::Unsupported, "grain table size"),
        (40, 1, ErrorKind::Unsupported, "flags"),
        (64, 5, ErrorKind::Unsupported, "reserved"),
        (300, 1, ErrorKind::Unsupported, "padding"),
        (16, u64::MAX / 256, ErrorKind::TooLarge, "capacity"),
    ];
    for (at, val, kind, text) in cases {
        let mut b = v.clone();
        put_u64(&mut b, at, val);
        assert_err(&open_err(se_open("h.vmdk", b)), kind, "h.vmdk", at, text);
    }
}

#[test]
fn sesparse_volatile_header_checks() {
    let (_, v) = small_sesparse();
    let mut b = v.clone();
    put_u64(&mut b, 80, (v.len() / 512) as u64);
    assert_err(&open_err(se_open("v.vmdk", b)), ErrorKind::Corrupt, "v.vmdk", 80, "volatile header");
    let mut b = v.clone();
    put_u64(&mut b, 80, u64::MAX / 2);
    assert_err(&open_err(se_open("v.vmdk", b)), ErrorKind::Corrupt, "v.vmdk", 80, "volatile header");
    let mut b = v.clone();
    put_u64(&mut b, 512, 0xcafe_babe);
    assert_err(&open_err(se_open("v.vmdk", b)), ErrorKind::Corrupt, "v.vmdk", 512, "volatile header magic");
    let mut b = v.clone();
    put_u64(&mut b, 512 + 24, 1);
    assert_err(&open_err(se_open("v.vmdk", b)), ErrorKind::Unsupported, "v.vmdk", 512 + 24, "journal");
}

#[test]
fn sesparse_grain_directory_checks() {
    let (s, v) = small_sesparse();
    // GD beyond EOF, or a GD region too small for the capacity.
    let mut b = v.clone();
    put_u64(&mut b, 128, (v.len() / 512) as u64);
    assert_err(&open_err(se_open("gd.vmdk", b)), ErrorKind::Corrupt, "gd.vmdk", 128, "past the end");
    let mut b = v.clone();
    put_u64(&mut b, 128, u64::MAX / 256);
    assert_err(&open_err(se_open("gd.vmdk", b)), ErrorKind::Corrupt, "gd.vmdk", 128, "past the end");
    let mut b = v.clone();
    put_u64(&mut b, 136, 0);
    assert_err(&open_err(se_open("gd.vmdk", b)), ErrorKind::Corrupt, "gd.vmdk", 136, "4 are needed");
    // Entries: wrong form, a table outside the region, a table past EOF.
    let t = s.gts.iter().position(|&g| g != 0).unwrap() as u64;
    let at = s.gd_at + 8 * t;
    for (val, text) in [
        (0x2000_0000_0000_0001u64, "not 0 and not"),
        (0x1000_0001_0000_0000, "not 0 and not"),
        (0x1000_0000_0000_0005, "outside the 5-table region"),
    ] {
        let mut b = v.clone();
        put_u64(&mut b, at, val);
        assert_err(&open_err(se_open("gde.vmdk", b)), ErrorKind::Corrupt, "gde.vmdk", at, text);
    }
    let mut b = v.clone();
    put_u64(&mut b, 152, 1 << 40); // a huge table region: then the file length limits it
    put_u64(&mut b, at, 0x1000_0000_0000_0000 | 1000);
    assert_err(&open_err(se_open("gde.vmdk", b)), ErrorKind::Corrupt, "gde.vmdk", at, "past the end of the file");
}

#[test]
fn sesparse_grain_table_entry_checks_at_map_time() {
    let (s, v) = small_sesparse();
    let g = s.want.iter().position(|w| matches!(w, Want::Data(_))).unwrap() as u64;
    let entry = s.gts[(g / 4096) as usize] + (g % 4096) * 8;
    let cases: [(u64, &str); 5] = [
        (0x3000_0000_0000_0000 | (1 << 40), "past the end of the file"),
        (0x3fff_ffff_ffff_ffff, "past the end of the file"),
        (0x0000_0000_0000_0001, "not a known grain type"),
        (0x4000_0000_0000_0000, "not a known grain type"),
        (0xf000_0000_0000_0000, "not a known grain type"),
    ];
    for (val, text) in cases {
        let mut b = v.clone();
        put_u64(&mut b, entry, val);
        let m = se_open("gte.vmdk", b).unwrap();
        let mut runs = Vec::new();
        let e = m.map(g * 4096, 4096, &mut runs).unwrap_err();
        assert_err(&e, ErrorKind::Corrupt, "gte.vmdk", entry, text);
    }
    // Unmapped and zero entries read as zeros whatever their low bits hold (as in qemu).
    for val in [0x1000_0000_dead_beefu64, 0x2123_4567_89ab_cdef] {
        let mut b = v.clone();
        put_u64(&mut b, entry, val);
        let m = se_open("gte.vmdk", b).unwrap();
        let mut runs = Vec::new();
        m.map(g * 4096, 4096, &mut runs).unwrap();
        assert!(matches!(runs[..], [Run { kind: RunKind::Zero, .. }]));
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile bytes: random corruption of headers and tables never panics.

fn mutate(rng: &mut Rng, v: &mut [u8], hot: &[(u64, u64)]) {
    for _ in 0..1 + rng.below(4) {
        let (start, len) = hot[rng.below(hot.len() as u64) as usize];
        let at = (start + rng.below(len)) as usize;
        match rng.below(3) {
            0 => v[at] = rng.next() as u8,
            1 if at + 4 <= v.len() => v[at..at + 4].copy_from_slice(&(rng.next() as u32).to_le_bytes()),
            _ if at + 8 <= v.len() => v[at..at + 8].copy_from_slice(&rng.next().to_le_bytes()),
            _ => v[at] ^= 0x80,
        }
    }
}

fn exercise(m: stackferry::Result<Box<dyn Mapper>>) {
    if let Ok(m) = m {
        let n = m.size().min(8 << 20);
        let mut runs = Vec::new();
        if m.map(0, n, &mut runs).is_ok() {
            assert_eq!(runs.iter().map(|r| r.len).sum::<u64>(), n);
            let mut buf = vec![0u8; n.min(1 << 20) as usize];
            let _ = read_guest(m.as_ref(), 0, &mut buf);
        }
    }
}

#[test]
fn cowd_random_corruption_never_panics() {
    let (c, v) = small_cowd();
    let gt = c.gts.iter().copied().find(|&g| g != 0).unwrap();
    let hot = [(0, 48), (c.gd_at, 16), (gt, 16384)];
    let mut rng = Rng(0xf022);
    for _ in 0..1500 {
        let mut b = v.clone();
        mutate(&mut rng, &mut b, &hot);
        exercise(cowd_open("f.vmdk", b));
    }
}

#[test]
fn sesparse_random_corruption_never_panics() {
    let (s, v) = small_sesparse();
    let gt = s.gts.iter().copied().find(|&g| g != 0).unwrap();
    let hot = [(0, 208), (512, 32), (s.gd_at, 32), (gt, 32768)];
    let mut rng = Rng(0xf023);
    for _ in 0..1500 {
        let mut b = v.clone();
        mutate(&mut rng, &mut b, &hot);
        exercise(se_open("f.vmdk", b));
    }
}

// ---------------------------------------------------------------------------------------------
// Laziness and the grain-table cache bound

/// A source that counts reads of exactly `watch` bytes (grain-table reads).
struct Counting {
    inner: SourceRef,
    watch: usize,
    reads: std::cell::Cell<usize>,
}

impl stackferry::Source for Counting {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn len(&self) -> u64 {
        self.inner.len()
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> stackferry::Result<()> {
        if buf.len() == self.watch {
            self.reads.set(self.reads.get() + 1);
        }
        self.inner.read_exact_at(offset, buf)
    }
}

/// Open reads no grain table; each table is read once per pass while it stays cached; with
/// more tables than the cache holds, going back to the first one reads it again (the cache
/// is bounded, not growing with the disk).
fn check_lazy_bounded(
    src: std::sync::Arc<Counting>,
    open: fn(SourceRef) -> stackferry::Result<Box<dyn Mapper>>,
    tables: usize,
    span: u64,
    cache: usize,
) {
    let m = open(src.clone()).unwrap();
    assert_eq!(src.reads.get(), 0, "open read grain tables");
    let mut runs = Vec::new();
    m.map(0, span, &mut runs).unwrap();
    m.map(0, span, &mut runs).unwrap();
    assert_eq!(src.reads.get(), 1, "first table read once and then cached");
    map_all(m.as_ref()).unwrap();
    assert_eq!(src.reads.get(), tables, "every table read exactly once in one pass");
    assert!(tables > cache);
    m.map(0, span, &mut runs).unwrap();
    assert_eq!(src.reads.get(), tables + 1, "first table was evicted: the cache is bounded");
}

#[test]
// `SourceRef` is an `Arc` by design, for single-threaded sources too.
#[allow(clippy::arc_with_non_send_sync)]
fn cowd_grain_tables_are_lazy_and_cache_is_bounded() {
    // 12 grain tables of 512-byte grains (2 MiB each), every one present.
    let mut rng = Rng(5);
    let c = build_cowd(&mut rng, 12 * 4096, 1, 2);
    let src = std::sync::Arc::new(Counting {
        inner: MemSource::new("l.vmdk", c.img.to_vec()),
        watch: 16384,
        reads: 0.into(),
    });
    // Table 1 is absent in generated files: 11 tables to read.
    check_lazy_bounded(src, cowd::open_extent, 11, 2 << 20, cowd::GT_CACHE_TABLES);
}

#[test]
// `SourceRef` is an `Arc` by design, for single-threaded sources too.
#[allow(clippy::arc_with_non_send_sync)]
fn sesparse_grain_tables_are_lazy_and_cache_is_bounded() {
    let s = build_sesparse(&mut Rng(6), 12 * 32768, &compact_layout(12), 1, 100, false);
    let src = std::sync::Arc::new(Counting {
        inner: MemSource::new("l.vmdk", s.img.to_vec()),
        watch: 32768,
        reads: 0.into(),
    });
    check_lazy_bounded(src, sesparse::open_extent, 11, 16 << 20, sesparse::GT_CACHE_TABLES);
}

// ---------------------------------------------------------------------------------------------
// End to end through vmdk::open: base <- snapshot 1 <- snapshot 2, descriptors as ESX writes them.

/// Bytes of guest the delta backs with data (the last grain may be cut by the capacity).
fn data_bytes(want: &[Want], grain: u64, size: u64) -> u64 {
    want.iter()
        .enumerate()
        .filter(|(_, w)| matches!(w, Want::Data(_)))
        .map(|(g, _)| grain.min(size - g as u64 * grain))
        .sum()
}

fn chain_through_vmdk_open(seed: u64, sectors: u64, sesparse: bool) {
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let size = sectors * 512;
    std::fs::write(d.join("base-flat.vmdk"), rng.bytes(size as usize)).unwrap();
    std::fs::write(
        d.join("base.vmdk"),
        descriptor("fffffffe", "ffffffff", "vmfs", &format!("RW {sectors} VMFS \"base-flat.vmdk\""), None),
    )
    .unwrap();
    let (create_type, extent_type, suffix) =
        if sesparse { ("seSparse", "SESPARSE", "sesparse") } else { ("vmfsSparse", "VMFSSPARSE", "delta") };
    let mut parent = ("base.vmdk".to_string(), "fffffffe".to_string());
    let mut delta_data = 0;
    for n in 1..=2 {
        let (img, bytes) = if sesparse {
            let s = build_sesparse(&mut rng, sectors, &compact_layout(sectors.div_ceil(32768)), 25, 6000, true);
            let b = data_bytes(&s.want, 4096, size);
            (s.img, b)
        } else {
            let c = build_cowd(&mut rng, sectors as u32, 1, 30);
            let b = data_bytes(&c.want, 512, size);
            (c.img, b)
        };
        delta_data += bytes;
        let extent = format!("vm-00000{n}-{suffix}.vmdk");
        img.write(&d.join(&extent));
        let cid = format!("{n}{n}{n}{n}abcd");
        let desc = descriptor(
            &cid,
            &parent.1,
            create_type,
            &format!("RW {sectors} {extent_type} \"{extent}\""),
            Some(&parent.0),
        );
        let name = format!("vm-00000{n}.vmdk");
        std::fs::write(d.join(&name), desc).unwrap();
        parent = (name, cid);
    }
    let top = d.join(&parent.0);
    let out = d.join("out.raw");
    let st = Command::new("qemu-img").args(["convert", "-O", "raw"]).arg(&top).arg(&out).output().unwrap();
    assert!(st.status.success(), "qemu-img: {}", String::from_utf8_lossy(&st.stderr));
    let raw = std::fs::read(&out).unwrap();

    let disk =
        stackferry::vmdk::open(FileSource::open(&top).unwrap(), &stackferry::native::DirFiles::default()).unwrap();
    assert_eq!(disk.info.subformat, create_type);
    assert_eq!(disk.info.virtual_size, size);
    assert_eq!(disk.info.parents, ["vm-000001.vmdk", "base.vmdk"]);
    assert_eq!(disk.info.extents[0].kind, extent_type);
    for f in [format!("vm-000002-{suffix}.vmdk"), format!("vm-000001-{suffix}.vmdk"), "base-flat.vmdk".into()] {
        assert!(disk.info.files.iter().any(|u| u.name == f && u.present), "{f} not listed: {:?}", disk.info.files);
    }
    assert_eq!(disk.info.allocated_bytes, size + delta_data);
    let mut got = vec![0u8; size as usize];
    read_guest(disk.map.as_ref(), 0, &mut got).unwrap();
    if got != raw {
        let i = (0..raw.len()).find(|&i| got[i] != raw[i]).unwrap();
        panic!("vmdk::open reads byte {i} as {:#x}, qemu-img as {:#x}", got[i], raw[i]);
    }
}

#[test]
fn cowd_snapshot_chain_through_vmdk_open_matches_qemu() {
    chain_through_vmdk_open(0x5eed_0010, 5 * 4096 + 9, false);
}

#[test]
fn sesparse_snapshot_chain_through_vmdk_open_matches_qemu() {
    chain_through_vmdk_open(0x5eed_0011, 40 * 2048 + 5, true);
}

/// A lone COWD or seSparse file handed to vmdk::open (no descriptor, so no parent): qemu-img
/// refuses these (it reads a CID from the descriptor it lacks), so the generator's model is
/// the oracle: allocated grains from the file, everything else zeros.
#[test]
fn lone_delta_files_through_vmdk_open_read_as_the_model_says() {
    let mut rng = Rng(0x5eed_0012);
    let c = build_cowd(&mut rng, 3 * 4096 + 17, 1, 30);
    let s = build_sesparse(&mut rng, 2 * 32768 + 40, &compact_layout(3), 25, 3000, true);
    for (img, want, grain, sectors, subformat) in
        [(c.img, c.want, 512u64, 3 * 4096 + 17u64, "vmfsSparse"), (s.img, s.want, 4096, 2 * 32768 + 40, "seSparse")]
    {
        let bytes = img.to_vec();
        let size = sectors * 512;
        let mut expect = vec![0u8; size as usize];
        for (g, w) in want.iter().enumerate() {
            if let Want::Data(at) = w {
                let start = g as u64 * grain;
                let n = grain.min(size - start) as usize;
                expect[start as usize..start as usize + n].copy_from_slice(&bytes[*at as usize..*at as usize + n]);
            }
        }
        let src = MemSource::new("lone.vmdk", bytes);
        let disk = stackferry::vmdk::open(src, &stackferry::source::NoFiles).unwrap();
        assert_eq!(disk.info.subformat, subformat);
        assert_eq!(disk.info.virtual_size, size);
        assert!(disk.info.parents.is_empty());
        assert_eq!(disk.info.allocated_bytes, data_bytes(&want, grain, size));
        let mut got = vec![0u8; size as usize];
        read_guest(disk.map.as_ref(), 0, &mut got).unwrap();
        assert!(got == expect, "{subformat}: lone file does not read as generated");
    }
}
