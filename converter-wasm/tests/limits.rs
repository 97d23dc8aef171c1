//! Disks larger than the output can hold (issue 17, finding 2): a descriptor of a few bytes
//! declaring a 2^63-byte ZERO extent made `convert` size a 16 TiB allocation map before the
//! QCOW2 layout refused the size (native: an abort; wasm32, where `as usize` truncates: a
//! planning loop of hours). The size is now checked against the output's limit before
//! anything is sized from it, and refused quickly with an error naming the file and the limit.
//!
//! The library tests run natively and in wasm32 (`wasm-bindgen-test-runner`, as
//! tests/wasm_bindings.rs); the CLI test natively.

use stackferry::error::ErrorKind;
use stackferry::image::Disk;
use stackferry::plan::{plan, Options, OutputFormat};
use stackferry::qcow2::layout::{check_output_size, max_virtual_size, MAX_MAP_CLUSTERS};
use stackferry::source::{MemSource, NoFiles};

/// A descriptor whose only extent is 2^54 sectors (2^63 bytes) of zeros.
const HUGE: &[u8] = b"# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n\
createType=\"monolithicFlat\"\n\n# Extent description\nRW 18014398509481984 ZERO\n";

fn descriptor_disk(name: &str, text: &[u8]) -> Disk {
    stackferry::vmdk::open(MemSource::new(name, text.to_vec()), &NoFiles).unwrap()
}

fn options(format: OutputFormat) -> Options {
    Options { format, ..Options::default() }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn library_refuses_a_disk_beyond_every_outputs_limit() {
    let disk = descriptor_disk("huge.vmdk", HUGE);
    assert_eq!(disk.info.virtual_size, 1 << 63);
    let qcow2_limit = max_virtual_size(16).to_string();
    for (format, limit) in [
        (OutputFormat::Raw, MAX_MAP_CLUSTERS.to_string()),
        (OutputFormat::Qcow2, qcow2_limit.clone()),
        (OutputFormat::Qcow2Compressed, qcow2_limit),
    ] {
        let e = plan(&disk, &options(format), &|| false).unwrap_err();
        assert_eq!((e.kind, e.file.as_str()), (ErrorKind::TooLarge, "huge.vmdk"), "{format:?}: {e}");
        assert!(e.message.contains(&limit), "{format:?}: '{e}' does not name the limit {limit}");
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_large_disk_within_the_limits_still_plans() {
    // 1 TiB of zeros: a 2 MiB allocation map, nothing allocated.
    let text = String::from_utf8(HUGE.to_vec()).unwrap().replace("18014398509481984", "2147483648");
    let disk = descriptor_disk("big.vmdk", text.as_bytes());
    for format in [OutputFormat::Raw, OutputFormat::Qcow2] {
        let p = plan(&disk, &options(format), &|| false).unwrap();
        assert_eq!((p.virtual_size, p.alloc.count()), (1 << 40, 0));
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_size_check_at_its_edges() {
    let raw_max = MAX_MAP_CLUSTERS << 16;
    check_output_size("d.vmdk", raw_max, OutputFormat::Raw, 16).unwrap();
    let e = check_output_size("d.vmdk", raw_max + 1, OutputFormat::Raw, 16).unwrap_err();
    assert_eq!((e.kind, e.file.as_str(), e.offset), (ErrorKind::TooLarge, "d.vmdk", None));
    // The largest map the check lets through is addressable on this target (wasm32 included).
    assert!(usize::try_from(MAX_MAP_CLUSTERS.div_ceil(64)).is_ok());
    // QCOW2 with 512-byte clusters: its own L1 limit (2^37 bytes) comes first.
    assert_eq!(max_virtual_size(9), 1 << 37);
    check_output_size("d.vmdk", 1 << 37, OutputFormat::Qcow2, 9).unwrap();
    let e = check_output_size("d.vmdk", (1 << 37) + 1, OutputFormat::Qcow2, 9).unwrap_err();
    assert!(e.message.contains("137438953472"), "{e}");
    // With 2 MiB clusters QCOW2 would address 2^61 bytes; the map bound stops at 2^51.
    assert_eq!(max_virtual_size(21), 1 << 61);
    check_output_size("d.vmdk", MAX_MAP_CLUSTERS << 21, OutputFormat::Qcow2Compressed, 21).unwrap();
    let e = check_output_size("d.vmdk", (MAX_MAP_CLUSTERS << 21) + 1, OutputFormat::Qcow2, 21).unwrap_err();
    assert!(e.message.contains("larger QCOW2 clusters"), "{e}");
    // QCOW2 never passes qemu's i64::MAX, whatever the clusters.
    assert!(check_output_size("d.vmdk", u64::MAX, OutputFormat::Qcow2, 21).is_err());
    assert_eq!(check_output_size("d.vmdk", 0, OutputFormat::Qcow2, 8).unwrap_err().kind, ErrorKind::InvalidArgument);
}

/// The CLI exits 1 at once, names the file and the limit, creates no output and stays small.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn cli_refuses_a_huge_descriptor_quickly() {
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("huge.vmdk");
    std::fs::write(&input, HUGE).unwrap();
    for (format, limit) in [("raw", MAX_MAP_CLUSTERS.to_string()), ("qcow2", max_virtual_size(16).to_string())] {
        let out = dir.path().join(format!("out.{format}"));
        let started = Instant::now();
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_stackferry"))
            .args(["convert", "-O", format, "-o"])
            .arg(&out)
            .arg(&input)
            .output()
            .unwrap();
        let took = started.elapsed();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{format}: {err}");
        assert!(err.contains("huge.vmdk") && err.contains(&limit), "{format}: {err}");
        assert!(took < Duration::from_secs(10), "{format}: took {took:?}");
        assert!(!out.exists() && std::fs::read_dir(dir.path()).unwrap().count() == 1, "{format}: left files");
    }
    // Peak memory of the largest child so far (only these two run in this test binary).
    // SAFETY: getrusage fills the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) }, 0);
    assert!(ru.ru_maxrss < 64 * 1024, "peak RSS {} KiB", ru.ru_maxrss);
}
