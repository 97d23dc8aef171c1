//! The fuzz targets' bodies (`fuzz/`, cargo-fuzz): each takes arbitrary bytes and must return
//! without a panic, a hang or unbounded memory; errors are fine. Kept in the library so the
//! committed corpus also runs on stable in every `cargo test`
//! (`converter-wasm/tests/fuzz_corpus.rs`), and so each crash found becomes a regression test
//! by adding its input to the corpus.

use crate::guest::{self, Files};
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
