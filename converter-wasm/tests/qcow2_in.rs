//! QCOW2 as an input (read back what was made, or an image downloaded from Glance): what we
//! read must be what qemu-img reads, for images qemu-img and stackferry wrote, with zero
//! clusters and holes; compressed clusters and backing files are refused by name.

mod common;

use common::{assert_identical, p, qemu_img, stackferry, text, write_raw, Pattern};

#[test]
fn qcow2_reads_as_qemu_img_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("src.raw");
    write_raw(&raw, 48 << 20, Pattern::Sparse, 0x0c0c);
    for (name, cluster) in [("qemu-64k.qcow2", "65536"), ("qemu-4k.qcow2", "4096"), ("qemu-2m.qcow2", "2097152")] {
        let q = dir.path().join(name);
        let o = qemu_img(&[
            "convert",
            "-f",
            "raw",
            "-O",
            "qcow2",
            "-o",
            &format!("cluster_size={cluster}"),
            p(&raw),
            p(&q),
        ]);
        assert!(o.status.success(), "{}", text(&o));
        // Zero clusters (version 3's flag) where qemu-img writes them over data.
        let o = common::run("qemu-io", &["-f", "qcow2", "-c", "write -z 1M 3M", p(&q)]);
        assert!(o.status.success(), "{}", text(&o));
        let out = dir.path().join(format!("{name}.raw"));
        let o = stackferry(&["convert", p(&q), "-O", "raw", "-o", p(&out)]);
        assert!(o.status.success(), "{name}: {}", text(&o));
        assert_identical(&q, "qcow2", &out, "raw", name);
        // And our own QCOW2 output read back.
        let again = dir.path().join(format!("{name}.again.qcow2"));
        let o = stackferry(&["convert", p(&q), "-o", p(&again)]);
        assert!(o.status.success(), "{name}: {}", text(&o));
        assert_identical(&q, "qcow2", &again, "qcow2", name);
    }
}

#[test]
fn compressed_clusters_and_backing_files_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("src.raw");
    write_raw(&raw, 4 << 20, Pattern::Sparse, 7);
    let c = dir.path().join("c.qcow2");
    assert!(qemu_img(&["convert", "-c", "-f", "raw", "-O", "qcow2", p(&raw), p(&c)]).status.success());
    let o = stackferry(&["convert", p(&c), "-O", "raw", "-o", p(&dir.path().join("c.raw"))]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("c.qcow2") && text(&o).contains("compressed QCOW2 cluster"), "{}", text(&o));
    let b = dir.path().join("b.qcow2");
    assert!(qemu_img(&["create", "-f", "qcow2", "-b", p(&c), "-F", "qcow2", p(&b)]).status.success());
    let o = stackferry(&["inspect", p(&b)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("b.qcow2") && text(&o).contains("backing file"), "{}", text(&o));
}
