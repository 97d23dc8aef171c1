//! OVF hardware → suggested Glance image properties and flavor shape, each with its reason.
//!
//! The rules follow what virt-v2v does and the Glance "useful image properties" reference:
//! - a converted guest is not modified (no drivers are injected), so the suggested buses are
//!   ones the guest can boot from as it is. Windows has no virtio drivers until virtio-win is
//!   installed, so it gets SATA (AHCI, inbox since Vista) and e1000e (inbox since Windows 8 /
//!   Server 2012; e1000 before that); XP/2003 and older get IDE and e1000. Linux kernels of
//!   every current distribution carry virtio drivers, so Linux gets virtio-blk and virtio-net.
//!   An unrecognised OS gets IDE (SATA on q35, which has no IDE) and e1000;
//! - EFI firmware → `hw_firmware_type=uefi` and `hw_machine_type=q35` (and
//!   `os_secure_boot=required` when the source had secure boot on); BIOS → `bios`;
//! - `os_type` is `linux` or `windows` (the two values Nova acts on); `os_distro` uses the
//!   libosinfo distro names Glance documents (ubuntu, debian, centos, rhel, sles, opensuse,
//!   fedora, arch, ...); none is suggested when the OVF does not say which distribution.
//!
//! The guest OS is recognised from, in order, VMware's `vmw:osType`, VirtualBox's OS type,
//! the CIM OsType number (`ovf:id`) and the OS description.

use crate::vm::{ControllerSummary, VmSummary};
use serde::Serialize;

/// One suggested Glance image property.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Property {
    pub key: String,
    pub value: String,
    pub reason: String,
}

/// The flavor shape matching the source VM.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Flavor {
    pub vcpus: Option<u32>,
    pub ram_mib: Option<u64>,
    /// Root disk: the first disk's capacity, rounded up to GiB.
    pub disk_gib: Option<u64>,
    pub reason: String,
}

/// Suggested Glance properties and flavor for a VM.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Suggestion {
    pub properties: Vec<Property>,
    /// Glance `min_ram`, MiB: the source VM's memory.
    pub min_ram: Option<u64>,
    /// Glance `min_disk`, GiB: the first disk's capacity rounded up.
    pub min_disk: Option<u64>,
    pub flavor: Flavor,
}

impl Suggestion {
    /// The suggested value of property `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.properties.iter().find(|p| p.key == key).map(|p| p.value.as_str())
    }
}

/// The guest OS family as far as drivers go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    /// XP / Server 2003 and older: no AHCI driver, e1000 only.
    WindowsLegacy,
    /// Vista / 7 / Server 2008 (R2): AHCI inbox, e1000 (no inbox e1000e driver).
    WindowsVista,
    /// Windows 8 / Server 2012 and later: AHCI and e1000e inbox.
    Windows,
    Linux,
    FreeBsd,
    Other,
}

struct Guess {
    family: Family,
    distro: Option<&'static str>,
    /// What the guess is based on, for reasons.
    basis: String,
}

/// Distribution by prefix of a lower-cased VMware or VirtualBox OS type.
const DISTROS: &[(&str, &str)] = &[
    ("ubuntu", "ubuntu"),
    ("debian", "debian"),
    ("centos", "centos"),
    ("rhel", "rhel"),
    ("redhat", "rhel"),
    ("sles", "sles"),
    ("opensuse", "opensuse"),
    ("suse", "opensuse"),
    ("fedora", "fedora"),
    ("archlinux", "arch"),
    ("gentoo", "gentoo"),
    ("mandrake", "mandrake"),
    ("mandriva", "mandriva"),
    ("freebsd", "freebsd"),
];

/// Prefixes of Linux OS types without a distribution we name.
const OTHER_LINUX: &[&str] = &[
    "oracle",
    "asianux",
    "turbolinux",
    "vmwarephoton",
    "photon",
    "coreos",
    "amazonlinux",
    "rocky",
    "alma",
    "nld",
    "miraclelinux",
    "crxpod",
    "crxsys",
];

/// CIM_OperatingSystem OsType numbers (DSP1052 / CIM schema) by family and distribution.
fn from_cim(id: u32) -> Option<(Family, Option<&'static str>)> {
    Some(match id {
        15..=19 | 58 | 63 | 67 | 69..=72 | 75 => (Family::WindowsLegacy, Some("windows")),
        73 | 74 | 76 | 77 | 103 | 105 => (Family::WindowsVista, Some("windows")),
        111..=124 => (Family::Windows, Some("windows")),
        79 | 80 => (Family::Linux, Some("rhel")),
        82 | 83 => (Family::Linux, Some("opensuse")),
        84 | 85 => (Family::Linux, Some("sles")),
        89 | 90 => (Family::Linux, Some("mandriva")),
        93 | 94 => (Family::Linux, Some("ubuntu")),
        95 | 96 => (Family::Linux, Some("debian")),
        106 | 107 => (Family::Linux, Some("centos")),
        36 | 86 | 87 | 91 | 92 | 97..=101 | 108 | 109 => (Family::Linux, None),
        42 | 78 => (Family::FreeBsd, Some("freebsd")),
        _ => return None,
    })
}

/// Family of a Windows OS type string (VMware guest id or VirtualBox type, lower-cased).
fn windows_family(t: &str) -> Option<Family> {
    let legacy = [
        "winxp",
        "winnet",
        "win2000",
        "win31",
        "win95",
        "win98",
        "winnt",
        "winme",
        "windowsxp",
        "windows2003",
        "windows2000",
        "windowsnt",
        "windows95",
        "windows98",
        "windowsme",
        "windows31",
    ];
    let vista = ["winvista", "winlonghorn", "windows7", "windowsvista", "windows2008"];
    if legacy.iter().any(|p| t.starts_with(p)) {
        Some(Family::WindowsLegacy)
    } else if vista.iter().any(|p| t.starts_with(p)) {
        // VMware's "windows7Server64Guest" is Server 2008 R2: same drivers as Windows 7.
        Some(Family::WindowsVista)
    } else if t.starts_with("win") {
        Some(Family::Windows)
    } else {
        None
    }
}

fn from_type_string(t: &str) -> Option<(Family, Option<&'static str>)> {
    let t = t.to_ascii_lowercase();
    if let Some(f) = windows_family(&t) {
        return Some((f, Some("windows")));
    }
    if let Some((_, d)) = DISTROS.iter().find(|(p, _)| t.starts_with(p)) {
        let fam = if *d == "freebsd" { Family::FreeBsd } else { Family::Linux };
        return Some((fam, Some(d)));
    }
    if t.contains("linux") || OTHER_LINUX.iter().any(|p| t.starts_with(p)) {
        return Some((Family::Linux, None));
    }
    None
}

fn guess_os(vm: &VmSummary) -> Guess {
    let os = &vm.os;
    if let Some(t) = &os.vmw_os_type {
        if let Some((family, distro)) = from_type_string(t) {
            return Guess { family, distro, basis: format!("VMware guest OS type {t}") };
        }
    }
    if let Some(t) = &os.vbox_os_type {
        if let Some((family, distro)) = from_type_string(t) {
            return Guess { family, distro, basis: format!("VirtualBox OS type {t}") };
        }
    }
    if let Some((family, distro)) = os.id.and_then(from_cim) {
        let d = os.description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default();
        return Guess { family, distro, basis: format!("CIM OS type {}{d}", os.id.unwrap_or(0)) };
    }
    if let Some(d) = &os.description {
        let l = d.to_ascii_lowercase();
        if l.contains("windows") {
            return Guess { family: Family::Windows, distro: Some("windows"), basis: format!("OS description '{d}'") };
        }
        if let Some((family, distro)) = from_type_string(&l.replace(' ', "")) {
            return Guess { family, distro, basis: format!("OS description '{d}'") };
        }
    }
    let what = os
        .vmw_os_type
        .clone()
        .or(os.vbox_os_type.clone())
        .or(os.description.clone())
        .or(os.id.map(|i| format!("CIM OS type {i}")))
        .unwrap_or_else(|| "no OS information".into());
    Guess { family: Family::Other, distro: None, basis: what }
}

/// "LSI Logic SCSI", "IDE", ... for reasons.
fn describe_controller(c: &ControllerSummary) -> String {
    let model = match c.model.as_deref() {
        Some("lsilogic") => "LSI Logic parallel SCSI",
        Some("lsilogicsas") => "LSI Logic SAS",
        Some("pvscsi") => "VMware Paravirtual SCSI",
        Some("buslogic") => "BusLogic SCSI",
        Some("virtio") => "virtio-scsi",
        Some("ahci") => "SATA (AHCI)",
        Some("nvme") => "NVMe",
        _ => match c.kind.as_str() {
            "ide" => "IDE",
            "scsi" => "SCSI",
            "sata" => "SATA",
            "nvme" => "NVMe",
            _ => "a storage controller",
        },
    };
    model.to_string()
}

fn source_disk(vm: &VmSummary) -> String {
    match vm.disks.first().and_then(|d| d.controller.as_ref()) {
        Some(c) => format!("source disk on {}", describe_controller(c)),
        None if vm.disks.is_empty() => "the OVF lists no disk".into(),
        None => "the OVF does not say which controller the disk is on".into(),
    }
}

fn source_nic(vm: &VmSummary) -> String {
    match vm.nics.first() {
        Some(n) => format!("source NIC {}", n.model.as_deref().unwrap_or("of unknown model")),
        None => "the source VM has no NIC".into(),
    }
}

/// Suggest Glance properties and a flavor for `vm`.
pub fn suggest(vm: &VmSummary) -> Suggestion {
    let g = guess_os(vm);
    let mut props: Vec<Property> = Vec::new();
    let mut add = |k: &str, v: &str, r: String| props.push(Property { key: k.into(), value: v.into(), reason: r });
    let efi = vm.firmware == "efi";
    let disk = source_disk(vm);
    let nic = source_nic(vm);

    // Disk bus and NIC model.
    let (bus, vif, why_bus, why_vif) = match g.family {
        Family::Linux | Family::FreeBsd => {
            let who = if g.family == Family::Linux { "all current Linux kernels" } else { "FreeBSD 10 and later" };
            (
                "virtio",
                "virtio",
                format!(
                    "{}: {who} carry virtio drivers; {disk}. Disks appear as /dev/vdX instead of /dev/sdX: if /etc/fstab or the boot loader name devices rather than UUIDs or labels, use hw_disk_bus=scsi with hw_scsi_model=virtio-scsi instead",
                    g.basis
                ),
                format!("{}: {who} carry the virtio-net driver; {nic}", g.basis),
            )
        }
        Family::Windows | Family::WindowsVista => {
            let (vif, vif_why) = if g.family == Family::Windows {
                ("e1000e", "Windows 8 / Server 2012 and later include an e1000e driver")
            } else {
                ("e1000", "Vista / 7 / Server 2008 include an e1000 driver but no e1000e driver")
            };
            (
                "sata",
                vif,
                format!(
                    "{}: Windows has no virtio drivers until virtio-win is installed, and boots from SATA (AHCI, inbox since Vista); {disk}. After installing virtio-win in the guest, switch to hw_disk_bus=virtio",
                    g.basis
                ),
                format!("{}: {vif_why}, and no virtio-net driver until virtio-win is installed; {nic}. Switch to virtio after installing virtio-win", g.basis),
            )
        }
        Family::WindowsLegacy => (
            if efi { "sata" } else { "ide" },
            "e1000",
            format!("{}: Windows XP / Server 2003 and older have no AHCI or virtio driver inbox and boot only from IDE; {disk}", g.basis),
            format!("{}: e1000 is the NIC these Windows versions carry a driver for; {nic}", g.basis),
        ),
        Family::Other => (
            if efi { "sata" } else { "ide" },
            "e1000",
            format!(
                "guest OS not recognised ({}): {} works without paravirtual drivers; {disk}. Switch to virtio if the guest has virtio drivers",
                g.basis,
                if efi { "SATA (q35 has no IDE)" } else { "IDE" }
            ),
            format!("guest OS not recognised ({}): e1000 has drivers in nearly every x86 OS; {nic}", g.basis),
        ),
    };
    add("hw_disk_bus", bus, why_bus);
    if bus == "scsi" {
        add(
            "hw_scsi_model",
            "virtio-scsi",
            format!("the disk bus is SCSI; virtio-scsi is the paravirtual SCSI controller ({disk})"),
        );
    }
    add("hw_vif_model", vif, why_vif);

    // Firmware.
    if efi {
        add(
            "hw_firmware_type",
            "uefi",
            "the source VM boots with EFI firmware; a BIOS boot would find no boot loader".into(),
        );
        add(
            "hw_machine_type",
            "q35",
            "UEFI guests need the q35 machine type (OVMF with secure boot requires it)".into(),
        );
        if vm.secure_boot {
            add("os_secure_boot", "required", "secure boot was enabled in the source VM".into());
        }
    } else {
        add("hw_firmware_type", "bios", "the source VM boots with BIOS firmware".into());
    }

    // OS.
    match g.family {
        Family::Linux => add("os_type", "linux", g.basis.clone()),
        Family::Windows | Family::WindowsVista | Family::WindowsLegacy => add(
            "os_type",
            "windows",
            format!("{}: Nova keeps the guest clock in local time and formats ephemeral disks for Windows", g.basis),
        ),
        _ => {}
    }
    if let Some(d) = g.distro {
        add("os_distro", d, format!("{} (libosinfo distro name)", g.basis));
    }

    // Sizes.
    let min_disk = vm.disks.first().and_then(|d| d.capacity_bytes).map(|c| c.div_ceil(1 << 30));
    let mut reason = Vec::new();
    match vm.vcpus {
        Some(v) => reason.push(format!("{v} vCPU{} as in the source VM", if v == 1 { "" } else { "s" })),
        None => reason.push("the OVF states no CPU count".into()),
    }
    match vm.memory_mib {
        Some(m) => reason.push(format!("{m} MiB of memory as in the source VM")),
        None => reason.push("the OVF states no memory size".into()),
    }
    match (min_disk, vm.disks.len()) {
        (Some(g), n) => {
            reason.push(format!("a {g} GiB root disk for the first disk's capacity"));
            if n > 1 {
                reason.push(format!("the other {} disk{} become volumes", n - 1, if n == 2 { "" } else { "s" }));
            }
        }
        (None, 0) => reason.push("no disk".into()),
        (None, _) => reason.push("the first disk's capacity is unknown".into()),
    }
    Suggestion {
        properties: props,
        min_ram: vm.memory_mib,
        min_disk,
        flavor: Flavor { vcpus: vm.vcpus, ram_mib: vm.memory_mib, disk_gib: min_disk, reason: reason.join("; ") },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vm::{DiskSummary, NicSummary, OsSummary};

    fn vm(os: OsSummary, firmware: &str, ctl: (&str, &str)) -> VmSummary {
        VmSummary {
            name: "t".into(),
            os,
            vcpus: Some(2),
            memory_mib: Some(4096),
            firmware: firmware.into(),
            disks: vec![DiskSummary {
                capacity_bytes: Some((40 << 30) + 1),
                controller: Some(ControllerSummary {
                    kind: ctl.0.into(),
                    model: Some(ctl.1.into()),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            nics: vec![NicSummary { name: "n".into(), model: Some("vmxnet3".into()), ..Default::default() }],
            ..Default::default()
        }
    }

    fn vmw(t: &str) -> OsSummary {
        OsSummary { vmw_os_type: Some(t.into()), ..Default::default() }
    }

    #[test]
    fn windows_gets_boot_safe_buses() {
        let s = suggest(&vm(vmw("windows2019srv_64Guest"), "efi", ("scsi", "lsilogicsas")));
        assert_eq!(s.get("hw_disk_bus"), Some("sata"));
        assert_eq!(s.get("hw_vif_model"), Some("e1000e"));
        assert_eq!(s.get("os_type"), Some("windows"));
        assert_eq!(s.get("os_distro"), Some("windows"));
        assert_eq!(s.get("hw_firmware_type"), Some("uefi"));
        assert_eq!(s.get("hw_machine_type"), Some("q35"));
        assert_eq!(s.get("hw_scsi_model"), None);
        let r = &s.properties.iter().find(|p| p.key == "hw_disk_bus").unwrap().reason;
        assert!(r.contains("virtio-win") && r.contains("LSI Logic SAS"), "{r}");
        assert_eq!(s.min_disk, Some(41));
        assert_eq!(s.min_ram, Some(4096));
        assert_eq!(s.flavor.disk_gib, Some(41));
        // Windows 7: e1000; XP: IDE.
        assert_eq!(suggest(&vm(vmw("windows7_64Guest"), "bios", ("sata", "ahci"))).get("hw_vif_model"), Some("e1000"));
        let xp = suggest(&vm(vmw("winXPProGuest"), "bios", ("ide", "piix4")));
        assert_eq!((xp.get("hw_disk_bus"), xp.get("hw_vif_model")), (Some("ide"), Some("e1000")));
        // CIM id only: 116 = Windows Server 2016.
        let cim = suggest(&vm(OsSummary { id: Some(116), ..Default::default() }, "bios", ("sata", "ahci")));
        assert_eq!(cim.get("os_type"), Some("windows"));
    }

    #[test]
    fn linux_on_lsi_gets_virtio_and_secure_boot() {
        let mut v = vm(vmw("rhel8_64Guest"), "efi", ("scsi", "lsilogic"));
        v.secure_boot = true;
        let s = suggest(&v);
        assert_eq!(s.get("hw_disk_bus"), Some("virtio"));
        assert_eq!(s.get("hw_vif_model"), Some("virtio"));
        assert_eq!(s.get("os_distro"), Some("rhel"));
        assert_eq!(s.get("os_type"), Some("linux"));
        assert_eq!(s.get("os_secure_boot"), Some("required"));
        assert!(s.properties[0].reason.contains("LSI Logic parallel SCSI"));
        let s = suggest(&vm(vmw("otherLinux64Guest"), "bios", ("ide", "")));
        assert_eq!(s.get("os_distro"), None);
        assert_eq!(s.get("hw_disk_bus"), Some("virtio"));
        assert_eq!(s.get("hw_firmware_type"), Some("bios"));
        assert_eq!(s.get("hw_machine_type"), None);
        let s = suggest(&vm(
            OsSummary { vbox_os_type: Some("Ubuntu_64".into()), ..Default::default() },
            "bios",
            ("sata", "ahci"),
        ));
        assert_eq!(s.get("os_distro"), Some("ubuntu"));
        // Unknown OS with EFI: SATA, since q35 has no IDE.
        let s = suggest(&vm(vmw("otherGuest64"), "efi", ("scsi", "lsilogic")));
        assert_eq!((s.get("hw_disk_bus"), s.get("os_type")), (Some("sata"), None));
    }
}
