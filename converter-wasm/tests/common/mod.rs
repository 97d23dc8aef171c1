//! Helpers shared by the integration tests: deterministic random disks, qemu-img, the CLI.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Deterministic pseudo-random numbers (xorshift64), so failures reproduce.
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Data patterns for generated disks.
#[derive(Clone, Copy, Debug)]
pub enum Pattern {
    /// Random runs (single sectors, whole grains, compressible text) in random places.
    Sparse,
    AllZero,
    /// Every byte random.
    Full,
}

/// Write a raw disk of `size` bytes with `pattern` to `path` (sparse on disk where zero).
pub fn write_raw(path: &Path, size: u64, pattern: Pattern, seed: u64) {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = std::fs::File::create(path).unwrap();
    f.set_len(size).unwrap();
    let mut r = Rng(seed | 1);
    match pattern {
        Pattern::AllZero => {}
        Pattern::Full => {
            let mut buf = vec![0u8; 1 << 20];
            let mut left = size;
            while left > 0 {
                let n = left.min(buf.len() as u64) as usize;
                for b in &mut buf[..n] {
                    *b = r.next() as u8;
                }
                f.write_all(&buf[..n]).unwrap();
                left -= n as u64;
            }
        }
        Pattern::Sparse => {
            for _ in 0..(size / 300_000).clamp(4, 400) {
                let at = r.next() % size;
                let len = match r.next() % 3 {
                    0 => 512,
                    1 => 65536,
                    _ => r.next() % 300_000,
                }
                .min(size - at);
                let text = r.next() % 2 == 0;
                let buf: Vec<u8> = (0..len)
                    .map(|_| if text { b"stackferry "[(r.next() % 11) as usize] } else { r.next() as u8 })
                    .collect();
                f.seek(SeekFrom::Start(at)).unwrap();
                f.write_all(&buf).unwrap();
            }
            // The last sector, so grain-unaligned ends are exercised.
            f.seek(SeekFrom::Start(size - 512)).unwrap();
            f.write_all(&[0x5a; 512]).unwrap();
        }
    }
}

pub fn run(cmd: &str, args: &[&str]) -> Output {
    Command::new(cmd).args(args).output().unwrap_or_else(|e| panic!("{cmd} runs: {e}"))
}

pub fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

pub fn qemu_img(args: &[&str]) -> Output {
    run("qemu-img", args)
}

/// `qemu-img convert -O vmdk -o subformat=...` of a raw file.
pub fn make_vmdk(raw: &Path, vmdk: &Path, subformat: &str) {
    let o = qemu_img(&["convert", "-f", "raw", "-O", "vmdk", "-o", &format!("subformat={subformat}"), p(raw), p(vmdk)]);
    assert!(o.status.success(), "qemu-img convert to {subformat}: {}", text(&o));
}

pub fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

pub fn stackferry(args: &[&str]) -> Output {
    run(env!("CARGO_BIN_EXE_stackferry"), args)
}

/// Assert `out` (format `fmt`) holds exactly what qemu-img reads from `src` (format `src_fmt`),
/// for QCOW2 that `qemu-img check` is clean, and that OpenStack accepts it.
pub fn assert_identical(src: &Path, src_fmt: &str, out: &Path, fmt: &str, what: &str) {
    assert_openstack_accepts(out, fmt, what);
    if fmt == "qcow2" {
        let o = qemu_img(&["check", "-f", "qcow2", p(out)]);
        assert!(
            o.status.success() && text(&o).contains("No errors were found"),
            "{what}: qemu-img check: {}",
            text(&o)
        );
    }
    let o = qemu_img(&["compare", "-f", src_fmt, "-F", fmt, p(src), p(out)]);
    assert!(o.status.success() && text(&o).contains("identical"), "{what}: qemu-img compare: {}", text(&o));
}

/// The content digest of whatever qemu-img reads from `src`, via a raw copy.
pub fn oracle_digest(src: &Path, src_fmt: &str, dir: &Path) -> String {
    let raw: PathBuf = dir.join("oracle.raw");
    let o = qemu_img(&["convert", "-f", src_fmt, "-O", "raw", p(src), p(&raw)]);
    assert!(o.status.success(), "{}", text(&o));
    let f = std::fs::File::open(&raw).unwrap();
    let d = stackferry::digest::digest_raw(std::io::BufReader::new(f)).unwrap();
    std::fs::remove_file(&raw).unwrap();
    d
}

/// OpenStack's own check of an image (oslo.utils' format_inspector, as Glance runs it on an
/// import: tests/format-inspector/check.py): it detects `fmt` (a raw disk with a GPT is "gpt",
/// which Glance takes as raw), reads the virtual size qemu-img reads, and its safety checks pass.
/// The Python comes from `scripts/ensure.sh format-inspector`.
pub fn assert_openstack_accepts(out: &Path, fmt: &str, what: &str) {
    let r = format_inspector(out, what);
    assert_eq!(r["safe"], true, "{what}: format_inspector refuses {}: {}", p(out), r["error"]);
    let detected = r["format"].as_str().unwrap_or_default();
    assert!(
        detected == fmt || (fmt == "raw" && detected == "gpt"),
        "{what}: format_inspector sees {detected}, not {fmt}"
    );
    let info = qemu_img(&["info", "--output=json", "-f", fmt, p(out)]);
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(r["virtual_size"], info["virtual-size"], "{what}: virtual size format_inspector reads");
}

/// One check.py process per test binary (its imports take a third of a second), fed one path
/// per line.
fn format_inspector(out: &Path, what: &str) -> serde_json::Value {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Child, ChildStdout, Stdio};
    static CHECKER: std::sync::Mutex<Option<(Child, BufReader<ChildStdout>)>> = std::sync::Mutex::new(None);
    let mut guard = CHECKER.lock().unwrap_or_else(|e| e.into_inner());
    let (child, reader) = guard.get_or_insert_with(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let python = root.join("target/format-inspector/bin/python");
        assert!(python.exists(), "no {} (run `bash scripts/ensure.sh format-inspector`)", python.display());
        let mut child = Command::new(python)
            .arg(root.join("tests/format-inspector/check.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("format_inspector starts");
        let stdout = BufReader::new(child.stdout.take().unwrap());
        (child, stdout)
    });
    writeln!(child.stdin.as_mut().unwrap(), "{}", p(out)).unwrap();
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("{what}: format_inspector answered {line:?}: {e}"))
}
