//! Replays the fuzz corpus (`fuzz/corpus/<target>/`, grown by `bash fuzz/run.sh`, including
//! every input that once crashed) through the fuzz targets' bodies on stable: each must return
//! without a panic, in bounded time.
//!
//! Then a short mutation run (`short_mutation_run`, `FUZZ_SHORT_SECS`, default 60 s in all):
//! random bit flips, boundary values, cuts, repeats and splices of the corpus through every
//! target. Not coverage-guided — the long run is `bash fuzz/run.sh` (libFuzzer, nightly
//! features) — but it needs no tool beyond `cargo test`, so every `npm test` fuzzes a little
//! with a new seed. A panic prints the seed and writes the input to
//! `target/fuzz-short/<target>-<seed>` (add it to the corpus once fixed).

mod common;
use common::Rng;
use std::path::{Path, PathBuf};
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

/// A fuzz target's body.
type Body = fn(&[u8]);

const TARGETS: &[(&str, Body)] = &[
    ("input", stackferry::fuzzing::input),
    ("guest", stackferry::fuzzing::guest),
    ("initramfs", stackferry::fuzzing::initramfs),
    ("lvm2_text", stackferry::fuzzing::lvm2_text),
    ("convert", stackferry::fuzzing::convert),
    ("descriptor", stackferry::fuzzing::descriptor),
    ("ovf", stackferry::fuzzing::ovf),
    ("manifest", stackferry::fuzzing::manifest),
    ("ova", stackferry::fuzzing::ova),
    ("gzip", stackferry::fuzzing::gzip),
    ("qcow2", stackferry::fuzzing::qcow2),
];

/// A number below `n` (0 when `n` is 0), reproducible from the run's seed.
fn below(rng: &mut Rng, n: usize) -> usize {
    (rng.next() % n.max(1) as u64) as usize
}

/// One to four mutations of `data` (`other`: a second corpus input to splice in).
fn mutate(rng: &mut Rng, data: &[u8], other: &[u8]) -> Vec<u8> {
    const EDGES: &[u64] = &[0, 1, 0x7f, 0x80, 0xff, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, u64::MAX, 1 << 63, 512];
    let mut d = data.to_vec();
    for _ in 0..1 + below(rng, 4) {
        let at = below(rng, d.len());
        match below(rng, 6) {
            0 if !d.is_empty() => d[at] ^= 1 << below(rng, 8),
            1 if d.len() >= 8 => {
                let at = at.min(d.len() - 8);
                let v = EDGES[below(rng, EDGES.len())];
                let width = [1, 2, 4, 8][below(rng, 4)];
                d[at..at + width].copy_from_slice(&v.to_le_bytes()[..width]);
            }
            2 => d.truncate(at),
            3 if !d.is_empty() => {
                let len = below(rng, 512.min(d.len() - at)) + 1;
                let chunk = d[at..(at + len).min(d.len())].to_vec();
                let to = below(rng, d.len());
                d.splice(to..to, chunk);
            }
            4 if !other.is_empty() => {
                let from = below(rng, other.len());
                d.truncate(at);
                d.extend_from_slice(&other[from..]);
            }
            _ => {
                let n = below(rng, 16) + 1;
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                d.splice(at..at, bytes);
            }
        }
    }
    d
}

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

#[test]
fn short_mutation_run() {
    let secs: f64 = std::env::var("FUZZ_SHORT_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(60.0);
    let seed = std::env::var("FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
    });
    println!("short mutation run: seed {seed} (FUZZ_SEED={seed} repeats it), {secs} s");
    let per_target = Duration::from_secs_f64(secs / TARGETS.len() as f64);
    let mut rng = Rng(seed);
    for &(target, run) in TARGETS {
        let inputs = corpus(target);
        let (t0, mut n) = (Instant::now(), 0u64);
        while t0.elapsed() < per_target {
            let a = &inputs[below(&mut rng, inputs.len())];
            let b = &inputs[below(&mut rng, inputs.len())];
            let input = mutate(&mut rng, a, b);
            let t = Instant::now();
            if std::panic::catch_unwind(|| run(&input)).is_err() {
                let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/fuzz-short");
                std::fs::create_dir_all(&dir).unwrap();
                let file = dir.join(format!("{target}-{seed}"));
                std::fs::write(&file, &input).unwrap();
                panic!("{target} panicked (seed {seed}); the input is {}", file.display());
            }
            assert!(t.elapsed() < Duration::from_secs(20), "{target}: one input took {:?} (seed {seed})", t.elapsed());
            n += 1;
        }
        println!("{target}: {n} mutated inputs");
    }
}
