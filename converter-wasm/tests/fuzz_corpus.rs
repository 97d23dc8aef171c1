//! Replays the fuzz corpus (`fuzz/corpus/<target>/`, grown by `bash fuzz/run.sh`, including
//! every input that once crashed) through the fuzz targets' bodies on stable: each must return
//! without a panic, in bounded time.

use std::path::Path;
use std::time::{Duration, Instant};

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus").join(target);
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = e.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let t = Instant::now();
        run(&data);
        assert!(t.elapsed() < Duration::from_secs(20), "{}: {:?}", path.display(), t.elapsed());
        n += 1;
    }
    assert!(n > 0, "no corpus in {}", dir.display());
    println!("{target}: {n} inputs");
}

#[test]
fn input_corpus() {
    replay("input", stackferry::fuzzing::input);
}

#[test]
fn guest_corpus() {
    replay("guest", stackferry::fuzzing::guest);
}

#[test]
fn initramfs_corpus() {
    replay("initramfs", stackferry::fuzzing::initramfs);
}

#[test]
fn lvm2_text_corpus() {
    replay("lvm2_text", stackferry::fuzzing::lvm2_text);
}

#[test]
fn convert_corpus() {
    replay("convert", stackferry::fuzzing::convert);
}

#[test]
fn descriptor_corpus() {
    replay("descriptor", stackferry::fuzzing::descriptor);
}

#[test]
fn ovf_corpus() {
    replay("ovf", stackferry::fuzzing::ovf);
}

#[test]
fn manifest_corpus() {
    replay("manifest", stackferry::fuzzing::manifest);
}

#[test]
fn ova_corpus() {
    replay("ova", stackferry::fuzzing::ova);
}

#[test]
fn gzip_corpus() {
    replay("gzip", stackferry::fuzzing::gzip);
}

#[test]
fn qcow2_corpus() {
    replay("qcow2", stackferry::fuzzing::qcow2);
}
