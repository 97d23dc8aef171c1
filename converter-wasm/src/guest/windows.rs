//! A Windows guest: its version from the SOFTWARE hive, and from the SYSTEM hive whether the
//! storage and network drivers it needs on OpenStack are installed and start at boot. Windows
//! loads its boot disk's controller driver only if that service's `Start` is 0: a guest
//! installed on VMware's PVSCSI or LSI has `viostor` (when virtio-win is installed at all) and
//! often `storahci` set to start on demand, and stops with INACCESSIBLE_BOOT_DEVICE on the new
//! bus. Hives are read whole (a SOFTWARE hive is tens of MiB) through `nt-hive`.

use super::report::{Boot, Driver, Evidence, Found, Guest, Os, Reason, ReasonCode, RiskCode, Windows};
use super::risks::risk;
use super::Files;
use crate::error::{Args, Result};

/// Hive bytes read at most.
const HIVE_CAP: u64 = 256 << 20;
const SYSTEM32: &str = "/Windows/System32";
const SOFTWARE: &str = "/Windows/System32/config/SOFTWARE";
const SYSTEM: &str = "/Windows/System32/config/SYSTEM";

/// Whether `root` is a Windows system volume.
pub fn is_windows(root: &dyn Files) -> Result<bool> {
    Ok(root.list(SYSTEM32)?.is_some())
}

/// A service of the current control set: its `Start` value and whether its driver file exists.
struct Service {
    start: Option<u32>,
    file: Option<String>,
}

fn hive_value<T>(
    key: &nt_hive::KeyNode<&[u8]>,
    name: &str,
    get: impl Fn(&nt_hive::KeyValue<&[u8]>) -> nt_hive::Result<T>,
) -> Option<T> {
    key.value(name).and_then(|v| v.ok()).and_then(|v| get(&v).ok())
}

/// Inspect the Windows guest whose system volume is `root`. Never fails: what cannot be read
/// becomes a problem.
pub fn inspect_windows(root: &dyn Files) -> Guest {
    let mut g = Guest::default();
    let mut win = Windows::default();
    // What says it is Windows until its SOFTWARE hive says which.
    let mut os = Os { distro: Some("windows".into()), ..Os::new("windows", Evidence::Path(SYSTEM32.into())) };
    match root.read(SOFTWARE, HIVE_CAP) {
        Ok(Some(bytes)) => match nt_hive::Hive::new(bytes.as_slice()) {
            Ok(hive) => {
                let cv =
                    hive.root_key_node().ok().and_then(|r| r.subpath("Microsoft\\Windows NT\\CurrentVersion")?.ok());
                if let Some(cv) = cv {
                    let s = |n: &str| hive_value(&cv, n, |v| v.string_data());
                    let major = hive_value(&cv, "CurrentMajorVersionNumber", |v| v.dword_data());
                    let minor = hive_value(&cv, "CurrentMinorVersionNumber", |v| v.dword_data());
                    win.version = match (major, minor) {
                        (Some(a), Some(b)) => Some(format!("{a}.{b}")),
                        _ => s("CurrentVersion"),
                    };
                    win.build = s("CurrentBuild").or_else(|| s("CurrentBuildNumber"));
                    win.product_name = s("ProductName");
                    os.version = win.version.clone();
                    os.pretty_name = win.product_name.clone();
                    os.evidence = Evidence::Path(format!("{SOFTWARE}: Microsoft\\Windows NT\\CurrentVersion"));
                }
            }
            Err(e) => g.problems.push(format!("{SOFTWARE}: not a registry hive we can read ({e})")),
        },
        Ok(None) => g.problems.push(format!("{SOFTWARE} is missing")),
        Err(e) => g.problems.push(e.to_string()),
    }
    let services = |names: &[&str]| -> Vec<(String, Service)> {
        let hive_bytes = match root.read(SYSTEM, HIVE_CAP) {
            Ok(Some(b)) => b,
            _ => Vec::new(),
        };
        let hive = nt_hive::Hive::new(hive_bytes.as_slice()).ok();
        let root_key = hive.as_ref().and_then(|h| h.root_key_node().ok());
        let current = root_key
            .as_ref()
            .and_then(|r| r.subkey("Select")?.ok())
            .and_then(|s| hive_value(&s, "Current", |v| v.dword_data()))
            .unwrap_or(1);
        let services = root_key.as_ref().and_then(|r| r.subpath(&format!("ControlSet{current:03}\\Services"))?.ok());
        names
            .iter()
            .map(|&n| {
                let key = services.as_ref().and_then(|s| s.subkey(n)?.ok());
                let start = key.as_ref().and_then(|k| hive_value(k, "Start", |v| v.dword_data()));
                let path = format!("/Windows/System32/drivers/{n}.sys");
                let file =
                    root.list("/Windows/System32/drivers").ok().flatten().and_then(|e| {
                        e.iter().any(|e| e.name.eq_ignore_ascii_case(&format!("{n}.sys"))).then_some(path)
                    });
                (n.to_string(), Service { start, file })
            })
            .collect()
    };
    let found = services(&["viostor", "vioscsi", "netkvm", "storahci"]);
    let state = |name: &str| found.iter().find(|(n, _)| n == name).map(|(_, s)| s);
    for (name, s) in &found {
        let (found, evidence) = match (s.file.as_ref(), s.start) {
            (Some(f), Some(0)) => (Found::BootStart, format!("{f}; {SYSTEM}: Services\\{name} Start=0")),
            (Some(f), Some(n)) => (Found::Installed, format!("{f}; {SYSTEM}: Services\\{name} Start={n}")),
            (Some(f), None) => (Found::Installed, format!("{f}; no service entry")),
            (None, _) => (Found::Missing, format!("no {name}.sys in /Windows/System32/drivers")),
        };
        win.drivers.push(Driver { name: name.clone(), found, evidence: Some(evidence) });
    }
    let boot_start = |n: &str| state(n).is_some_and(|s| s.file.is_some() && s.start == Some(0));
    let has = |n: &str| state(n).is_some_and(|s| s.file.is_some());
    let modern = win.version.as_deref().and_then(|v| v.split('.').next()?.parse::<u32>().ok()).is_some_and(|m| m >= 6);
    let install = "install virtio-win (virtio-win-gt-x64.msi, or pnputil /add-driver viostor.inf /install) on the source VM and set the viostor service to start at boot, then export again";
    let name = |n: &str| Some(n.to_string());
    let (disk_bus, scsi_model, code, args, fix) = if boot_start("viostor") {
        ("virtio", None, ReasonCode::WindowsBootStart, Args { driver: name("viostor"), ..Args::default() }, None)
    } else if boot_start("vioscsi") {
        let args = Args { driver: name("vioscsi"), missing: name("viostor"), ..Args::default() };
        ("scsi", Some("virtio-scsi".to_string()), ReasonCode::WindowsScsiBootStart, args, None)
    } else if modern {
        let code = if has("viostor") { ReasonCode::WindowsNotBootStart } else { ReasonCode::WindowsNotInstalled };
        let args = Args { missing: name("viostor"), driver: name("storahci"), ..Args::default() };
        ("sata", None, code, args, Some(install.to_string()))
    } else {
        ("ide", None, ReasonCode::WindowsLegacy, Args::default(), Some(install.to_string()))
    };
    let vif = if has("netkvm") {
        "virtio"
    } else if modern {
        "e1000e"
    } else {
        "e1000"
    };
    // The evidence: the missing driver file, or the hive that says it does not start at boot.
    let evidence = |n: &str| if has(n) { SYSTEM.to_string() } else { format!("/Windows/System32/drivers/{n}.sys") };
    if !boot_start("viostor") && !boot_start("vioscsi") {
        g.risks.push(risk(RiskCode::NoVirtioStorage, &evidence("viostor"), None, "", Some("viostor"), Some(install)));
    }
    if !has("netkvm") {
        let fix = "install virtio-win's netkvm driver on the source VM";
        g.risks.push(risk(RiskCode::NoVirtioNet, &evidence("netkvm"), None, "", Some("netkvm"), Some(fix)));
    }
    if disk_bus == "sata" && state("storahci").is_some_and(|s| s.start.is_some_and(|n| n != 0)) {
        g.problems.push(format!("{SYSTEM}: storahci does not start at boot; SATA may not boot either"));
    }
    let reason = Reason::new(code, args);
    g.boot = Some(Boot { disk_bus: disk_bus.into(), scsi_model, vif_model: vif.into(), boots: true, reason, fix });
    g.os = Some(os);
    g.windows = Some(win);
    g
}
