//! The fuzz targets' bodies (`fuzz/`, cargo-fuzz): each takes arbitrary bytes and must return
//! without a panic, a hang or unbounded memory; errors are fine. Kept in the library so the
//! committed corpus also runs on stable in every `cargo test`
//! (`converter-wasm/tests/fuzz_corpus.rs`), and so each crash found becomes a regression test
//! by adding its input to the corpus.

use crate::driver::convert_serial;
use crate::guest::{self, Files};
use crate::plan::{plan, Options};
use crate::source::{MemSource, NoFiles, SourceRef};

/// A top-level input (VMDK of any kind, OVF, OVA, QCOW2): inspect it, open it and read some
/// guest bytes at the start, middle and end of each disk.
pub fn input(data: &[u8]) {
    let src = MemSource::new("fuzz.input", data.to_vec());
    let _ = crate::input::inspect(src.clone(), &NoFiles);
    if let Ok(opened) = crate::input::open(src, &NoFiles) {
        for d in &opened.disks {
            let size = d.map.size();
            for at in [0, size / 2, size.saturating_sub(4096)] {
                let mut buf = vec![0u8; 4096.min(size.saturating_sub(at)) as usize];
                let _ = crate::decode::read_guest(d.map.as_ref(), at, &mut buf);
            }
        }
    }
}

/// A guest disk's bytes: partitions, LVM, file systems, the Linux and Windows readers, and a
/// walk of the root directory.
pub fn guest(data: &[u8]) {
    let disk: SourceRef = MemSource::new("fuzz.disk", data.to_vec());
    let _ = guest::inspect_sources(std::slice::from_ref(&disk));
    if let Some(tree) = guest::open_sources(&[disk]).tree {
        if let Ok(Some(entries)) = tree.list("/") {
            for e in entries.iter().take(16) {
                let _ = tree.read(&format!("/{}", e.name), 1 << 20);
            }
        }
    }
}

/// An initramfs image (cpio archives, compressed or not).
pub fn initramfs(data: &[u8]) {
    let _ = guest::initramfs::read("fuzz.initramfs", data);
}

/// LVM2 metadata text.
pub fn lvm2_text(data: &[u8]) {
    let _ = guest::lvm2::parse("fuzz.lvm", &String::from_utf8_lossy(data));
}

/// The whole conversion of a small input (virtual size at most 4 MiB) to QCOW2, checked: the
/// output is as long as planned, and read back through our QCOW2 reader it holds exactly what
/// the input reads as. (`qemu-img check` on what this writes is the suites' job; here the
/// check must run in-process, thousands of times a second.)
pub fn convert(data: &[u8]) {
    let Ok(opened) = crate::input::open(MemSource::new("fuzz.convert", data.to_vec()), &NoFiles) else {
        return;
    };
    for disk in opened.disks {
        let size = disk.map.size();
        if size > 4 << 20 {
            continue;
        }
        let mut want = vec![0u8; size as usize];
        let Ok(p) = plan(&disk, &Options::default(), &|| false) else { continue };
        if crate::decode::read_guest(disk.map.as_ref(), 0, &mut want).is_err() {
            continue;
        }
        let planned = p.output_len();
        let mut out = Vec::new();
        let sink = &mut |b: &[u8]| {
            out.extend_from_slice(b);
            Ok(())
        };
        if convert_serial(disk, p, sink).is_err() {
            continue;
        }
        assert_eq!(planned, Some(out.len() as u64), "the output is as long as planned");
        let back = crate::qcow2::reader::open(MemSource::new("fuzz.qcow2", out)).expect("our QCOW2 output opens");
        let mut got = vec![0u8; size as usize];
        crate::decode::read_guest(back.map.as_ref(), 0, &mut got).expect("our QCOW2 output reads");
        assert!(got == want, "the QCOW2 output holds what the input reads as");
    }
}

/// A VMDK text descriptor.
pub fn descriptor(data: &[u8]) {
    let _ = crate::vmdk::descriptor::parse(data, "fuzz.vmdk", 0);
}

/// An OVF descriptor (XML).
pub fn ovf(data: &[u8]) {
    let _ = crate::ovf::descriptor::parse("fuzz.ovf", data);
}

/// An OVF manifest.
pub fn manifest(data: &[u8]) {
    let _ = crate::manifest::Manifest::parse("fuzz.mf", data);
}

/// A tar archive as an OVA: the member walk, the OVF and manifest in it.
pub fn ova(data: &[u8]) {
    let _ = crate::ova::inspect(MemSource::new("fuzz.ova", data.to_vec()));
}

/// A gzip file as a source: measured, then read forward, backward and at its end (the
/// checkpoints), each read checked against the first pass's bytes.
pub fn gzip(data: &[u8]) {
    let Ok(src) = crate::gzip::GzipSource::open_with_limit(MemSource::new("fuzz.gz", data.to_vec()), "fuzz", 16 << 20)
    else {
        return;
    };
    let len = src.len() as usize;
    let mut all = vec![0u8; len];
    if src.read_exact_at(0, &mut all).is_err() {
        return;
    }
    for at in [len / 2, len / 3, len.saturating_sub(100), 0] {
        let mut b = vec![0u8; (len - at).min(4096)];
        src.read_exact_at(at as u64, &mut b).expect("a range read once reads again");
        assert!(b == all[at..at + b.len()], "gzip reads agree at {at}");
    }
}

/// A QCOW2 image as an input disk: the header checks and the L1/L2 map.
pub fn qcow2(data: &[u8]) {
    if let Ok(d) = crate::qcow2::reader::open(MemSource::new("fuzz.qcow2", data.to_vec())) {
        let size = d.map.size();
        for at in [0, size / 2, size.saturating_sub(4096)] {
            let mut buf = vec![0u8; 4096.min(size.saturating_sub(at)) as usize];
            let _ = crate::decode::read_guest(d.map.as_ref(), at, &mut buf);
        }
    }
}
