//! Guest inspection on the guests `tests/guests/build.sh` builds (RHEL-like on LVM + XFS, Debian,
//! Ubuntu UEFI, logical partitions, Windows NTFS with real registry hives, LUKS and thin LVs),
//! each turned into a VMDK by qemu-img: what inspection reports must be what the builder says
//! it put in (`<guest>.json`, written by the builder and checked independently of us by
//! `tests/guests/check.sh`), never hard-coded here. Needs root (loop devices, for LVM) and
//! the builder's Debian tools, which it installs itself.

mod common;

use common::{make_vmdk, p, stackferry, text};
use serde_json::Value;
use stackferry::guest::{self, Found, Guest};
use stackferry::input;
use stackferry::native::{DirFiles, FileSource};
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The built guests: `STACKFERRY_GUESTS` or target/guests, built (or found cached) by the
/// builder, once per test binary.
fn guests() -> Vec<(Value, PathBuf)> {
    static BUILT: std::sync::OnceLock<Vec<(Value, PathBuf)>> = std::sync::OnceLock::new();
    BUILT.get_or_init(build).clone()
}

fn build() -> Vec<(Value, PathBuf)> {
    let dir = std::env::var_os("STACKFERRY_GUESTS").map(PathBuf::from).unwrap_or_else(|| repo().join("target/guests"));
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new("bash").arg(repo().join("tests/guests/build.sh")).arg(&dir).output().unwrap();
    assert!(out.status.success(), "tests/guests/build.sh failed:\n{}", text(&out));
    let mut all = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "json") {
            let j: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            // Half the guests as streamOptimized (compressed grains), half as monolithicSparse.
            let name = j["name"].as_str().unwrap().to_string();
            let sub = if name.len() % 2 == 0 { "streamOptimized" } else { "monolithicSparse" };
            let vmdk = dir.join(format!("{name}.vmdk"));
            let raw = PathBuf::from(j["raw"].as_str().unwrap());
            let fresh = |a: &Path, b: &Path| {
                let m = |x: &Path| std::fs::metadata(x).and_then(|m| m.modified()).ok();
                matches!((m(a), m(b)), (Some(x), Some(y)) if x >= y)
            };
            if !fresh(&vmdk, &raw) {
                make_vmdk(&raw, &vmdk, sub);
            }
            all.push((j, vmdk));
        }
    }
    all.sort_by(|a, b| a.0["name"].as_str().cmp(&b.0["name"].as_str()));
    assert!(all.len() >= 9, "the builder made {} guests", all.len());
    all
}

fn inspect(vmdk: &Path) -> Guest {
    let src = FileSource::open(vmdk).unwrap();
    let files = DirFiles { given: vec![src.clone()] };
    guest::inspect(input::open(src, &files).unwrap().disks)
}

fn s(v: &Value) -> Option<&str> {
    v.as_str()
}

/// What `guest` says against what the builder put in; one line per difference.
fn compare(j: &Value, g: &Guest, vmdk: &Path) -> Vec<String> {
    let mut bad = Vec::new();
    let mut check = |what: &str, got: Option<&str>, want: Option<&str>| {
        if want.is_some() && got != want {
            bad.push(format!("{what}: got {got:?}, built {want:?}"));
        }
    };
    let e = &j["expect"];
    let os = g.os.as_ref();
    check("os family", os.map(|o| o.family.as_str()), s(&e["os_family"]));
    check("os id", os.and_then(|o| o.id.as_deref()), s(&e["os_id"]));
    check("os version_id", os.and_then(|o| o.version_id.as_deref()), s(&e["os_version_id"]));
    check("os version", os.and_then(|o| o.version.as_deref()), s(&e["os_version"]));
    check("product name", os.and_then(|o| o.pretty_name.as_deref()), s(&e["product_name"]));
    let default = g.kernels.iter().find(|k| k.default).map(|k| k.version.as_str());
    check("default kernel", default, s(&e["default_kernel"]));
    let boot = g.boot.as_ref();
    if e["disk_bus"].is_string() {
        check("disk bus", boot.map(|b| b.disk_bus.as_str()), s(&e["disk_bus"]));
        check("vif model", boot.map(|b| b.vif_model.as_str()), s(&e["vif_model"]));
        check("boot reason", boot.map(|b| b.reason.code.as_str()), s(&e["reason"]));
        let scsi = boot.and_then(|b| b.scsi_model.as_deref());
        if scsi != s(&e["scsi_model"]) {
            bad.push(format!("scsi model: got {scsi:?}, built {:?}", e["scsi_model"]));
        }
        if boot.map(|b| b.boots) != e["boots"].as_bool() {
            bad.push(format!("boots: got {:?}, built {}", boot.map(|b| b.boots), e["boots"]));
        }
    }
    let mut risks: Vec<&str> = g.risks.iter().map(|r| r.code.as_str()).collect();
    risks.sort();
    risks.dedup();
    let want: Vec<&str> = e["risks"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    if risks != want {
        bad.push(format!("risks: got {risks:?}, built {want:?}"));
    }
    for r in e["risk_evidence"].as_array().into_iter().flatten() {
        let hit = g.risks.iter().any(|x| {
            x.code.as_str() == r["code"].as_str().unwrap()
                && Some(x.file.as_str()) == r["file"].as_str()
                && (r["line"].is_null() || x.line.map(u64::from) == r["line"].as_u64())
        });
        if !hit {
            bad.push(format!("no risk {} at {}:{}", r["code"], r["file"], r["line"]));
        }
    }
    // Volumes: every partition and linear LV the builder made, at its offset, with its content,
    // UUID and mount point.
    for part in j["partitions"].as_array().into_iter().flatten() {
        if part["fs"] == "extended" {
            continue;
        }
        let name = format!("partition {}", part["index"]);
        let Some(v) = g.volumes.iter().find(|v| v.name == name) else {
            bad.push(format!("no {name}"));
            continue;
        };
        if Some(v.offset) != part["offset"].as_u64() || Some(v.size) != part["size"].as_u64() {
            bad.push(format!("{name}: at {}+{}, built at {}+{}", v.offset, v.size, part["offset"], part["size"]));
        }
        let mut vcheck = |what: &str, got: Option<&str>, want: &Value| {
            if !want.is_null() && got != want.as_str() {
                bad.push(format!("{name} {what}: got {got:?}, built {want}"));
            }
        };
        vcheck("content", Some(&v.content), &part["fs"]);
        vcheck(
            "uuid",
            v.uuid.as_deref().map(str::to_ascii_lowercase).as_deref(),
            &Value::from(part["uuid"].as_str().map(str::to_ascii_lowercase)),
        );
        if part["fs"] != "swap" {
            vcheck("mount", v.mount.as_deref(), &part["mount"]);
        }
    }
    if let Some(lvm) = j.get("lvm") {
        for lv in lvm["lvs"].as_array().unwrap() {
            let name = format!("{}/{}", lvm["vg"].as_str().unwrap(), lv["name"].as_str().unwrap());
            let v = g.volumes.iter().find(|v| v.name == name);
            match (lv["segtype"].as_str(), v) {
                (Some("linear"), None) => bad.push(format!("no LV {name}")),
                (Some("linear"), Some(v)) => {
                    if !lv["fs"].is_null() && Some(v.content.as_str()) != lv["fs"].as_str() {
                        bad.push(format!("LV {name}: content {} built {}", v.content, lv["fs"]));
                    }
                    if lv["fs"] != "swap" && !lv["mount"].is_null() && v.mount.as_deref() != lv["mount"].as_str() {
                        bad.push(format!("LV {name}: mount {:?} built {}", v.mount, lv["mount"]));
                    }
                }
                (_, Some(_)) => bad.push(format!("LV {name} ({}) reported as readable", lv["segtype"])),
                (_, None) => {
                    if !g.problems.iter().any(|p| p.contains(&name)) {
                        bad.push(format!("LV {name} ({}) not named in problems {:?}", lv["segtype"], g.problems));
                    }
                }
            }
        }
    }
    // Kernels: each driver the builder put in the initramfs or built in is found as such.
    for k in j["kernels"].as_array().into_iter().flatten() {
        let v = k["version"].as_str().unwrap();
        let Some(got) = g.kernels.iter().find(|x| x.version == v) else {
            bad.push(format!("no kernel {v}"));
            continue;
        };
        if got.initramfs.as_deref() != k["initramfs"].as_str() {
            bad.push(format!("kernel {v}: initramfs {:?} built {}", got.initramfs, k["initramfs"]));
        }
        let layers: Vec<&str> = got.initramfs_layers.iter().map(String::as_str).collect();
        let want: Vec<&str> = k["layers"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        if !want.is_empty() && layers != want {
            bad.push(format!("kernel {v}: layers {layers:?} built {want:?}"));
        }
        for d in &got.drivers {
            let norm = |m: &Value| m.as_str().map(|m| m.replace('-', "_"));
            let in_initramfs =
                k["modules"].as_array().into_iter().flatten().any(|m| norm(m).as_deref() == Some(d.name.as_str()));
            let builtin =
                k["builtin"].as_array().into_iter().flatten().any(|m| norm(m).as_deref() == Some(d.name.as_str()));
            let on_root = k["rootfs_modules"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|m| norm(m).as_deref() == Some(d.name.as_str()));
            let want = if in_initramfs {
                Found::Initramfs
            } else if builtin {
                Found::Builtin
            } else if on_root {
                Found::Installed
            } else {
                Found::Missing
            };
            // Built in wins over a module of the same name only if the builder lists both.
            if d.found != want && !(in_initramfs && builtin) {
                bad.push(format!("kernel {v}: {} is {:?}, built {:?}", d.name, d.found, want));
            }
        }
    }
    // Files: read back through the mounted tree, as `stackferry cat` does.
    let tree = input::guest_tree(FileSource::open(vmdk).unwrap(), &DirFiles { given: vec![] });
    for (path, want) in j["files"].as_object().into_iter().flatten() {
        use stackferry::guest::Files;
        let got = tree.as_ref().ok().and_then(|t| t.read(path, 1 << 20).ok().flatten());
        if got.as_deref() != want.as_str().map(str::as_bytes) {
            bad.push(format!("file {path}: got {:?}", got.map(|g| String::from_utf8_lossy(&g).into_owned())));
        }
    }
    bad
}

#[test]
fn every_built_guest_inspects_as_built() {
    let mut failures = Vec::new();
    for (j, vmdk) in guests() {
        let t = std::time::Instant::now();
        let g = inspect(&vmdk);
        let name = j["name"].as_str().unwrap();
        println!("{name}: inspected in {:?}", t.elapsed());
        for b in compare(&j, &g, &vmdk) {
            failures.push(format!("{name}: {b}"));
        }
    }
    assert!(failures.is_empty(), "{} differences:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn cli_ls_and_cat_read_the_guest() {
    let all = guests();
    let (j, vmdk) = all.iter().find(|(j, _)| j["name"] == "rhel9-novirtio").unwrap();
    let (path, want) = j["files"].as_object().unwrap().iter().find(|(p, _)| p.ends_with("message.txt")).unwrap();
    let o = stackferry(&["cat", p(vmdk), path]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), want.as_str().unwrap());
    // /boot is its own XFS: ls lists the kernels the builder put there.
    let o = stackferry(&["ls", "--json", p(vmdk), "/boot"]);
    assert!(o.status.success(), "{}", text(&o));
    let listed: Value = serde_json::from_slice(&o.stdout).unwrap();
    for k in j["kernels"].as_array().unwrap() {
        let file = k["image"].as_str().unwrap().trim_start_matches("/boot/");
        assert!(listed.as_array().unwrap().iter().any(|e| e["name"] == file), "{file} not in {listed}");
    }
    // A path that is not there: exit code 3 (missing file) and the path named.
    let o = stackferry(&["cat", p(vmdk), "/etc/no-such-file"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("/etc/no-such-file"));
}

/// A guest disk with some bytes flipped, without copying the image.
struct Flipped {
    inner: stackferry::SourceRef,
    flips: Vec<(u64, u8)>,
}

impl stackferry::Source for Flipped {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn len(&self) -> u64 {
        self.inner.len()
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> stackferry::Result<()> {
        self.inner.read_exact_at(offset, buf)?;
        for &(at, x) in &self.flips {
            if at >= offset && at < offset + buf.len() as u64 {
                buf[(at - offset) as usize] ^= x;
            }
        }
        Ok(())
    }
}

/// Damaged metadata never panics, hangs or reads without bound: flip bytes where the
/// partition tables, LVM labels and file system metadata live (the first MiBs of each volume)
/// and inspect again (the whole inspection: kernels, initramfs, hives), many times per guest.
#[test]
fn damaged_guests_are_reported_never_a_crash() {
    let mut rng = common::Rng(0x5eed_9e57);
    let mut runs = 0;
    for (j, _) in guests() {
        let raw = PathBuf::from(j["raw"].as_str().unwrap());
        let base = FileSource::open(&raw).unwrap();
        let mut starts: Vec<u64> = vec![0];
        starts.extend(j["partitions"].as_array().into_iter().flatten().filter_map(|p| p["offset"].as_u64()));
        if let Some(lvm) = j.get("lvm") {
            starts.extend(lvm["lvs"].as_array().unwrap().iter().filter_map(|l| l["offset"].as_u64()));
        }
        for _ in 0..60 {
            let flips = (0..1 + rng.next() % 24)
                .map(|_| {
                    let start = starts[(rng.next() % starts.len() as u64) as usize];
                    (start + rng.next() % (2 << 20), (rng.next() % 255 + 1) as u8)
                })
                .collect();
            #[allow(clippy::arc_with_non_send_sync)] // sources are single-threaded by design
            let src: stackferry::SourceRef = std::sync::Arc::new(Flipped { inner: base.clone(), flips });
            let t = std::time::Instant::now();
            let g = guest::inspect_sources(&[src]);
            assert!(g.boot.is_none() || !g.boot.as_ref().unwrap().disk_bus.is_empty());
            assert!(t.elapsed().as_secs() < 10, "{}: {:?} for one damaged inspection", j["name"], t.elapsed());
            runs += 1;
        }
    }
    println!("{runs} damaged inspections");
}
