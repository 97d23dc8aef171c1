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

use crate::error::Args;
use crate::vm::{DiskSummary, VmSummary};
use serde::{Deserialize, Serialize};

crate::message_codes! {
    /// One part of a suggestion's reason (`why.<code>` in the page's catalogues); a reason is
    /// its parts in order. Controller and NIC names are proper names passed as args.
    pub enum WhyCode {
        /// What the OS guess rests on.
        BasisVmware = "basis_vmware" [os_type],
        BasisVirtualbox = "basis_virtualbox" [os_type],
        BasisCim = "basis_cim" [id],
        BasisCimDescribed = "basis_cim_described" [id, description],
        BasisDescription = "basis_description" [description],
        /// The user said which OS a lone disk holds (Linux or Windows).
        BasisChosen = "basis_chosen" [os],
        /// The OS was not recognised from this id or description.
        Unrecognised = "unrecognised" [os_type],
        UnrecognisedCim = "unrecognised_cim" [id],
        NoOsInfo = "no_os_info" [],
        /// The user said a lone disk holds neither Linux nor Windows.
        ChosenOther = "chosen_other" [],
        // Disk bus.
        LinuxVirtioDisk = "linux_virtio_disk" [],
        FreebsdVirtioDisk = "freebsd_virtio_disk" [],
        VirtioDiskNames = "virtio_disk_names" [],
        WindowsSataDisk = "windows_sata_disk" [],
        WindowsVirtioLater = "windows_virtio_later" [],
        WindowsLegacyIde = "windows_legacy_ide" [],
        UnknownOsIde = "unknown_os_ide" [],
        UnknownOsSata = "unknown_os_sata" [],
        VirtioIfDrivers = "virtio_if_drivers" [],
        VirtioScsi = "virtio_scsi" [],
        // Where the source disk was.
        SourceDiskOn = "source_disk_on" [controller],
        NoDiskListed = "no_disk_listed" [],
        ControllerUnknown = "controller_unknown" [],
        LoneDiskController = "lone_disk_controller" [],
        // NIC model.
        LinuxVirtioNet = "linux_virtio_net" [],
        FreebsdVirtioNet = "freebsd_virtio_net" [],
        WindowsE1000e = "windows_e1000e" [],
        WindowsVistaE1000 = "windows_vista_e1000" [],
        VirtioNetLater = "virtio_net_later" [],
        WindowsLegacyE1000 = "windows_legacy_e1000" [],
        UnknownOsE1000 = "unknown_os_e1000" [],
        SourceNic = "source_nic" [nic],
        SourceNicUnknownModel = "source_nic_unknown_model" [],
        NoNic = "no_nic" [],
        LoneDiskNic = "lone_disk_nic" [],
        // Firmware and OS properties.
        Uefi = "uefi" [],
        Q35ForUefi = "q35_for_uefi" [],
        SecureBoot = "secure_boot" [],
        Bios = "bios" [],
        WindowsOsType = "windows_os_type" [],
        Libosinfo = "libosinfo" [],
        // Flavor.
        Vcpus = "vcpus" [count],
        NoVcpus = "no_vcpus" [],
        LoneDiskVcpus = "lone_disk_vcpus" [],
        Memory = "memory" [ram_mib],
        NoMemory = "no_memory" [],
        LoneDiskMemory = "lone_disk_memory" [],
        RootDisk = "root_disk" [disk_gib],
        OtherDisks = "other_disks" [count],
        NoDisk = "no_disk" [],
        CapacityUnknown = "capacity_unknown" [],
        // From the guest's own disks (guest inspection), which outrank the OVF. `reason` is a
        // `guest::ReasonCode`, with its own args beside it.
        GuestDisk = "guest_disk" [reason, kernel, initramfs, missing, driver, drivers],
        GuestNoBus = "guest_no_bus" [reason, kernel, initramfs, missing, driver, drivers],
        GuestVirtioNet = "guest_virtio_net" [],
        GuestEmulatedNic = "guest_emulated_nic" [nic],
        /// The OS as read from guest file `name`, or recognised from what `reason` says.
        GuestOs = "guest_os" [name],
        GuestOsReason = "guest_os_reason" [reason],
    }
}

/// One part of a reason: `{code, args}`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Why {
    pub code: WhyCode,
    pub args: Args,
}

impl Why {
    fn new(code: WhyCode) -> Why {
        Why { code, args: Args::default() }
    }
    fn with(code: WhyCode, args: Args) -> Why {
        Why { code, args }
    }
}

/// One suggested Glance image property.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Property {
    pub key: String,
    pub value: String,
    /// English (the CLI, commands).
    pub reason: String,
    /// The same reason as codes, for the page's languages.
    pub why: Vec<Why>,
}

/// The flavor shape matching the source VM.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Flavor {
    pub vcpus: Option<u32>,
    pub ram_mib: Option<u64>,
    /// Root disk: the boot disk's capacity, rounded up to GiB.
    pub disk_gib: Option<u64>,
    pub reason: String,
    pub why: Vec<Why>,
}

/// Suggested Glance properties and flavor for a VM.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Suggestion {
    pub properties: Vec<Property>,
    /// Glance `min_ram`, MiB: the source VM's memory.
    pub min_ram: Option<u64>,
    /// Glance `min_disk`, GiB: the boot disk's capacity rounded up.
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
    /// The same as a reason part.
    basis_why: Why,
}

/// The OS of a lone disk, as the user says it is ([`suggest_for_disk`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OsChoice {
    Linux,
    Windows,
    Other,
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

fn os_type(t: &str) -> Args {
    Args { os_type: Some(t.to_string()), ..Args::default() }
}

fn guess_os(vm: &VmSummary) -> Guess {
    let os = &vm.os;
    if let Some(t) = &os.vmw_os_type {
        if let Some((family, distro)) = from_type_string(t) {
            let basis_why = Why::with(WhyCode::BasisVmware, os_type(t));
            return Guess { family, distro, basis: format!("VMware guest OS type {t}"), basis_why };
        }
    }
    if let Some(t) = &os.vbox_os_type {
        if let Some((family, distro)) = from_type_string(t) {
            let basis_why = Why::with(WhyCode::BasisVirtualbox, os_type(t));
            return Guess { family, distro, basis: format!("VirtualBox OS type {t}"), basis_why };
        }
    }
    if let (Some(id), Some((family, distro))) = (os.id, os.id.and_then(from_cim)) {
        let d = os.description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default();
        let basis_why = match &os.description {
            Some(d) => Why::with(
                WhyCode::BasisCimDescribed,
                Args { id: Some(id.into()), description: Some(d.clone()), ..Args::default() },
            ),
            None => Why::with(WhyCode::BasisCim, Args { id: Some(id.into()), ..Args::default() }),
        };
        return Guess { family, distro, basis: format!("CIM OS type {id}{d}"), basis_why };
    }
    if let Some(d) = &os.description {
        let l = d.to_ascii_lowercase();
        let described =
            || Why::with(WhyCode::BasisDescription, Args { description: Some(d.clone()), ..Args::default() });
        if l.contains("windows") {
            return Guess {
                family: Family::Windows,
                distro: Some("windows"),
                basis: format!("OS description '{d}'"),
                basis_why: described(),
            };
        }
        if let Some((family, distro)) = from_type_string(&l.replace(' ', "")) {
            return Guess { family, distro, basis: format!("OS description '{d}'"), basis_why: described() };
        }
    }
    let (basis, basis_why) =
        if let Some(t) = os.vmw_os_type.clone().or(os.vbox_os_type.clone()).or(os.description.clone()) {
            let why = Why::with(WhyCode::Unrecognised, os_type(&t));
            (t, why)
        } else if let Some(i) = os.id {
            (
                format!("CIM OS type {i}"),
                Why::with(WhyCode::UnrecognisedCim, Args { id: Some(i.into()), ..Args::default() }),
            )
        } else {
            ("no OS information".into(), Why::new(WhyCode::NoOsInfo))
        };
    Guess { family: Family::Other, distro: None, basis, basis_why }
}

/// Where the VM's description comes from: an OVF, or a lone disk with no VM around it (whose
/// controller, NIC, CPUs and memory are unknown).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    Ovf,
    LoneDisk,
}

/// The disk the VM boots from (`VmSummary::boot_disk`, from the OVF's boot order or the first
/// disk on the first controller), else the first listed: its bus and size are what the image
/// and the flavor's root disk must fit.
fn boot_disk(vm: &VmSummary) -> Option<&crate::vm::DiskSummary> {
    vm.boot_disk.as_ref().and_then(|b| vm.disks.get(b.index)).or(vm.disks.first())
}

fn source_disk(vm: &VmSummary, from: Source) -> (String, Why) {
    match boot_disk(vm).and_then(|d| d.controller.as_ref()) {
        Some(c) => match c.describe() {
            Some(d) => (
                format!("source disk on {d}"),
                Why::with(WhyCode::SourceDiskOn, Args { controller: Some(d.into()), ..Args::default() }),
            ),
            None => ("source disk on a storage controller".into(), Why::new(WhyCode::ControllerUnknown)),
        },
        None if from == Source::LoneDisk => {
            ("a lone disk does not say which controller it was on".into(), Why::new(WhyCode::LoneDiskController))
        }
        None if vm.disks.is_empty() => ("the OVF lists no disk".into(), Why::new(WhyCode::NoDiskListed)),
        None => ("the OVF does not say which controller the disk is on".into(), Why::new(WhyCode::ControllerUnknown)),
    }
}

fn source_nic(vm: &VmSummary, from: Source) -> (String, Why) {
    match vm.nics.first() {
        Some(n) => match n.model.as_deref() {
            Some(m) => (
                format!("source NIC {m}"),
                Why::with(WhyCode::SourceNic, Args { nic: Some(m.into()), ..Args::default() }),
            ),
            None => ("source NIC of unknown model".into(), Why::new(WhyCode::SourceNicUnknownModel)),
        },
        None if from == Source::LoneDisk => {
            ("a lone disk does not say which NIC its VM had".into(), Why::new(WhyCode::LoneDiskNic))
        }
        None => ("the source VM has no NIC".into(), Why::new(WhyCode::NoNic)),
    }
}

/// Suggest Glance properties and a flavor for `vm`.
pub fn suggest(vm: &VmSummary) -> Suggestion {
    suggest_from(vm, guess_os(vm), Source::Ovf)
}

/// Suggestions for a lone disk of `virtual_size` bytes holding the OS the user chose: the
/// same rules as for an OVF's VM, with the controller, NIC, CPUs, memory and firmware unknown
/// (no firmware property: Nova's default, BIOS, stays).
pub fn suggest_for_disk(choice: OsChoice, virtual_size: u64) -> Suggestion {
    let vm = VmSummary {
        disks: vec![DiskSummary { capacity_bytes: Some(virtual_size), ..Default::default() }],
        ..Default::default()
    };
    let chosen = |os: &str| Why::with(WhyCode::BasisChosen, Args { os: Some(os.into()), ..Args::default() });
    let g = match choice {
        OsChoice::Linux => {
            Guess { family: Family::Linux, distro: None, basis: "you chose Linux".into(), basis_why: chosen("Linux") }
        }
        OsChoice::Windows => Guess {
            family: Family::Windows,
            distro: Some("windows"),
            basis: "you chose Windows".into(),
            basis_why: chosen("Windows"),
        },
        OsChoice::Other => Guess {
            family: Family::Other,
            distro: None,
            basis: "you chose another OS".into(),
            basis_why: Why::new(WhyCode::ChosenOther),
        },
    };
    suggest_from(&vm, g, Source::LoneDisk)
}

/// A reason as English text and as parts.
type Reason = (String, Vec<Why>);

fn suggest_from(vm: &VmSummary, g: Guess, from: Source) -> Suggestion {
    let mut props: Vec<Property> = Vec::new();
    let mut add =
        |k: &str, v: &str, (reason, why): Reason| props.push(Property { key: k.into(), value: v.into(), reason, why });
    let efi = vm.firmware == "efi";
    let (disk, disk_why) = source_disk(vm, from);
    let (nic, nic_why) = source_nic(vm, from);
    let basis = || g.basis_why.clone();
    let w = Why::new;

    // Disk bus and NIC model.
    let (bus, vif, why_bus, why_vif): (&str, &str, Reason, Reason) = match g.family {
        Family::Linux | Family::FreeBsd => {
            let linux = g.family == Family::Linux;
            let who = if linux { "all current Linux kernels" } else { "FreeBSD 10 and later" };
            let (disk_code, net_code) = if linux {
                (WhyCode::LinuxVirtioDisk, WhyCode::LinuxVirtioNet)
            } else {
                (WhyCode::FreebsdVirtioDisk, WhyCode::FreebsdVirtioNet)
            };
            (
                "virtio",
                "virtio",
                (format!(
                    "{}: {who} carry virtio drivers; {disk}. Disks appear as /dev/vdX instead of /dev/sdX: if /etc/fstab or the boot loader name devices rather than UUIDs or labels, use hw_disk_bus=scsi with hw_scsi_model=virtio-scsi instead",
                    g.basis
                ), vec![basis(), w(disk_code), disk_why.clone(), w(WhyCode::VirtioDiskNames)]),
                (format!("{}: {who} carry the virtio-net driver; {nic}", g.basis), vec![basis(), w(net_code), nic_why.clone()]),
            )
        }
        Family::Windows | Family::WindowsVista => {
            let (vif, vif_why, vif_code) = if g.family == Family::Windows {
                ("e1000e", "Windows 8 / Server 2012 and later include an e1000e driver", WhyCode::WindowsE1000e)
            } else {
                ("e1000", "Vista / 7 / Server 2008 include an e1000 driver but no e1000e driver", WhyCode::WindowsVistaE1000)
            };
            (
                "sata",
                vif,
                (format!(
                    "{}: Windows has no virtio drivers until virtio-win is installed, and boots from SATA (AHCI, inbox since Vista); {disk}. After installing virtio-win in the guest, switch to hw_disk_bus=virtio",
                    g.basis
                ), vec![basis(), w(WhyCode::WindowsSataDisk), disk_why.clone(), w(WhyCode::WindowsVirtioLater)]),
                (format!("{}: {vif_why}, and no virtio-net driver until virtio-win is installed; {nic}. Switch to virtio after installing virtio-win", g.basis),
                    vec![basis(), w(vif_code), nic_why.clone(), w(WhyCode::VirtioNetLater)]),
            )
        }
        Family::WindowsLegacy => (
            if efi { "sata" } else { "ide" },
            "e1000",
            (format!("{}: Windows XP / Server 2003 and older have no AHCI or virtio driver inbox and boot only from IDE; {disk}", g.basis),
                vec![basis(), w(WhyCode::WindowsLegacyIde), disk_why.clone()]),
            (format!("{}: e1000 is the NIC these Windows versions carry a driver for; {nic}", g.basis),
                vec![basis(), w(WhyCode::WindowsLegacyE1000), nic_why.clone()]),
        ),
        Family::Other => {
            // "guest OS not recognised (…)" is the basis part's own wording; a chosen "other"
            // says so instead.
            let not_recognised = if from == Source::LoneDisk {
                g.basis.clone()
            } else {
                format!("guest OS not recognised ({})", g.basis)
            };
            (
                if efi { "sata" } else { "ide" },
                "e1000",
                (format!(
                    "{not_recognised}: {} works without paravirtual drivers; {disk}. Switch to virtio if the guest has virtio drivers",
                    if efi { "SATA (q35 has no IDE)" } else { "IDE" }
                ), vec![
                    basis(),
                    w(if efi { WhyCode::UnknownOsSata } else { WhyCode::UnknownOsIde }),
                    disk_why.clone(),
                    w(WhyCode::VirtioIfDrivers),
                ]),
                (format!("{not_recognised}: e1000 has drivers in nearly every x86 OS; {nic}"),
                    vec![basis(), w(WhyCode::UnknownOsE1000), nic_why.clone()]),
            )
        }
    };
    add("hw_disk_bus", bus, why_bus);
    if bus == "scsi" {
        add(
            "hw_scsi_model",
            "virtio-scsi",
            (
                format!("the disk bus is SCSI; virtio-scsi is the paravirtual SCSI controller ({disk})"),
                vec![w(WhyCode::VirtioScsi), disk_why.clone()],
            ),
        );
    }
    add("hw_vif_model", vif, why_vif);

    // Firmware (unknown for a lone disk: no property).
    if efi {
        add(
            "hw_firmware_type",
            "uefi",
            (
                "the source VM boots with EFI firmware; a BIOS boot would find no boot loader".into(),
                vec![w(WhyCode::Uefi)],
            ),
        );
        add(
            "hw_machine_type",
            "q35",
            (
                "UEFI guests need the q35 machine type (OVMF with secure boot requires it)".into(),
                vec![w(WhyCode::Q35ForUefi)],
            ),
        );
        if vm.secure_boot {
            add(
                "os_secure_boot",
                "required",
                ("secure boot was enabled in the source VM".into(), vec![w(WhyCode::SecureBoot)]),
            );
        }
    } else if from == Source::Ovf {
        add("hw_firmware_type", "bios", ("the source VM boots with BIOS firmware".into(), vec![w(WhyCode::Bios)]));
    }

    // OS.
    match g.family {
        Family::Linux => add("os_type", "linux", (g.basis.clone(), vec![basis()])),
        Family::Windows | Family::WindowsVista | Family::WindowsLegacy => add(
            "os_type",
            "windows",
            (
                format!(
                    "{}: Nova keeps the guest clock in local time and formats ephemeral disks for Windows",
                    g.basis
                ),
                vec![basis(), w(WhyCode::WindowsOsType)],
            ),
        ),
        _ => {}
    }
    if let Some(d) = g.distro {
        add("os_distro", d, (format!("{} (libosinfo distro name)", g.basis), vec![basis(), w(WhyCode::Libosinfo)]));
    }

    // Sizes.
    let min_disk = boot_disk(vm).and_then(|d| d.capacity_bytes).map(|c| c.div_ceil(1 << 30));
    let mut reason = Vec::new();
    let mut why = Vec::new();
    match vm.vcpus {
        Some(v) => {
            reason.push(format!("{v} vCPU{} as in the source VM", if v == 1 { "" } else { "s" }));
            why.push(Why::with(WhyCode::Vcpus, Args { count: Some(v.into()), ..Args::default() }));
        }
        None if from == Source::LoneDisk => {
            reason.push("a lone disk states no CPU count".into());
            why.push(w(WhyCode::LoneDiskVcpus));
        }
        None => {
            reason.push("the OVF states no CPU count".into());
            why.push(w(WhyCode::NoVcpus));
        }
    }
    match vm.memory_mib {
        Some(m) => {
            reason.push(format!("{m} MiB of memory as in the source VM"));
            why.push(Why::with(WhyCode::Memory, Args { ram_mib: Some(m), ..Args::default() }));
        }
        None if from == Source::LoneDisk => {
            reason.push("a lone disk states no memory size".into());
            why.push(w(WhyCode::LoneDiskMemory));
        }
        None => {
            reason.push("the OVF states no memory size".into());
            why.push(w(WhyCode::NoMemory));
        }
    }
    match (min_disk, vm.disks.len()) {
        (Some(g), n) => {
            reason.push(format!("a {g} GiB root disk for the boot disk's capacity"));
            why.push(Why::with(WhyCode::RootDisk, Args { disk_gib: Some(g), ..Args::default() }));
            if n > 1 {
                reason.push(format!("the other {} disk{} become volumes", n - 1, if n == 2 { "" } else { "s" }));
                why.push(Why::with(WhyCode::OtherDisks, Args { count: Some(n as u64 - 1), ..Args::default() }));
            }
        }
        (None, 0) => {
            reason.push("no disk".into());
            why.push(w(WhyCode::NoDisk));
        }
        (None, _) => {
            reason.push("the boot disk's capacity is unknown".into());
            why.push(w(WhyCode::CapacityUnknown));
        }
    }
    Suggestion {
        properties: props,
        min_ram: vm.memory_mib,
        min_disk,
        flavor: Flavor { vcpus: vm.vcpus, ram_mib: vm.memory_mib, disk_gib: min_disk, reason: reason.join("; "), why },
    }
}

/// Replace what the OVF (or the OS the user chose for a lone disk) suggests by what the guest's
/// own disks say: the buses its default kernel (or Windows' boot-start drivers) can boot from,
/// the NIC model it has a driver for, and its OS by libosinfo name. Properties the guest says
/// nothing about stay as they were.
pub fn apply_guest(s: &mut Suggestion, g: &crate::guest::Guest) {
    use crate::guest::{Evidence, Reason};
    let mut put = |key: &str, value: &str, reason: String, why: Why| {
        let p = Property { key: key.into(), value: value.into(), reason, why: vec![why] };
        match s.properties.iter_mut().find(|p| p.key == key) {
            Some(old) => *old = p,
            None => s.properties.push(p),
        }
    };
    // A guest reason as a part: its code as `reason`, beside its own args.
    let coded =
        |code: WhyCode, r: &Reason| Why::with(code, Args { reason: Some(r.code.as_str().into()), ..(*r.args).clone() });
    if let Some(b) = &g.boot {
        let (code, lead) = if b.boots {
            (WhyCode::GuestDisk, "the guest's own boot drivers")
        } else {
            (WhyCode::GuestNoBus, "no bus OpenStack offers has a driver in the guest: it will not boot as is")
        };
        let reason = format!("{lead}: {}", b.reason);
        put("hw_disk_bus", &b.disk_bus, reason.clone(), coded(code, &b.reason));
        if let Some(m) = &b.scsi_model {
            put("hw_scsi_model", m, reason, coded(code, &b.reason));
        }
        let (nic, why) = if b.vif_model == "virtio" {
            ("the guest has a virtio network driver".to_string(), Why::new(WhyCode::GuestVirtioNet))
        } else {
            let why = Why::with(WhyCode::GuestEmulatedNic, Args { nic: Some(b.vif_model.clone()), ..Args::default() });
            (format!("the guest has no virtio network driver; {} is emulated and needs none", b.vif_model), why)
        };
        put("hw_vif_model", &b.vif_model, format!("the guest's own drivers: {nic}"), why);
    }
    if let Some(os) = &g.os {
        let why = match &os.evidence {
            Evidence::Path(p) => Why::with(WhyCode::GuestOs, Args { name: Some(p.clone()), ..Args::default() }),
            Evidence::Reason(r) => coded(WhyCode::GuestOsReason, r),
        };
        let reason = format!("read from the guest: {}", os.evidence);
        if os.family == "linux" || os.family == "windows" {
            put("os_type", &os.family, reason.clone(), why.clone());
        }
        if let Some(d) = &os.distro {
            put("os_distro", d, reason.clone(), why.clone());
        }
        if let Some(v) = &os.version {
            put("os_version", v, reason, why);
        }
    }
    if g.boot.as_ref().is_some_and(|b| b.scsi_model.is_none()) {
        s.properties.retain(|p| p.key != "hw_scsi_model");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vm::{ControllerSummary, DiskSummary, NicSummary, OsSummary};

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

    /// A VM that boots from its second disk: the root disk and the disk bus follow that disk,
    /// not the first listed.
    #[test]
    fn sizes_and_bus_follow_the_boot_disk() {
        use crate::error::Args;
        use crate::migration::{BootDisk, Reason, ReasonCode};
        let mut v = vm(vmw("ubuntu64Guest"), "bios", ("scsi", "lsilogic"));
        let boot = DiskSummary {
            capacity_bytes: Some(8 << 30),
            controller: Some(ControllerSummary { kind: "ide".into(), ..Default::default() }),
            ..Default::default()
        };
        v.disks.push(boot);
        let first = suggest(&v);
        assert_eq!(first.min_disk, Some(41), "no boot disk named: the first");
        v.boot_disk = Some(BootDisk { index: 1, reason: Reason::new(ReasonCode::BootOrder, Args::default()) });
        let s = suggest(&v);
        assert_eq!((s.min_disk, s.flavor.disk_gib), (Some(8), Some(8)));
        assert!(s.flavor.reason.contains("8 GiB root disk for the boot disk's capacity"), "{}", s.flavor.reason);
        let r = &s.properties.iter().find(|p| p.key == "hw_disk_bus").unwrap().reason;
        assert!(r.contains("IDE"), "the boot disk's controller: {r}");
        v.boot_disk = Some(BootDisk { index: 7, reason: Reason::new(ReasonCode::BootOrder, Args::default()) });
        assert_eq!(suggest(&v).min_disk, Some(41), "an index past the disks: the first");
    }

    /// Every property and the flavor have reason parts, each carrying only its code's params.
    fn check_why(s: &Suggestion) {
        let parts = s.properties.iter().map(|p| (p.key.as_str(), &p.why)).chain([("flavor", &s.flavor.why)]);
        for (key, why) in parts {
            assert!(!why.is_empty(), "{key}: no why");
            for w in why {
                for a in w.args.names() {
                    assert!(w.code.params().contains(&a.as_str()), "{key}: {:?} carries {a}", w.code);
                }
            }
        }
    }

    fn why(s: &Suggestion, key: &str) -> Vec<WhyCode> {
        s.properties.iter().find(|p| p.key == key).unwrap().why.iter().map(|w| w.code).collect()
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
        check_why(&s);
        let bus = &s.properties.iter().find(|p| p.key == "hw_disk_bus").unwrap().why;
        assert_eq!(
            bus.iter().map(|w| w.code).collect::<Vec<_>>(),
            [WhyCode::BasisVmware, WhyCode::WindowsSataDisk, WhyCode::SourceDiskOn, WhyCode::WindowsVirtioLater]
        );
        assert_eq!(bus[0].args.os_type.as_deref(), Some("windows2019srv_64Guest"));
        assert_eq!(bus[2].args.controller.as_deref(), Some("LSI Logic SAS"));
        assert_eq!(
            why(&s, "hw_vif_model"),
            [WhyCode::BasisVmware, WhyCode::WindowsE1000e, WhyCode::SourceNic, WhyCode::VirtioNetLater]
        );
        assert_eq!(
            s.flavor.why.iter().map(|w| (w.code, w.args.names())).collect::<Vec<_>>(),
            [
                (WhyCode::Vcpus, vec!["count".to_string()]),
                (WhyCode::Memory, vec!["ram_mib".to_string()]),
                (WhyCode::RootDisk, vec!["disk_gib".to_string()])
            ]
        );
        // Windows 7: e1000; XP: IDE.
        assert_eq!(suggest(&vm(vmw("windows7_64Guest"), "bios", ("sata", "ahci"))).get("hw_vif_model"), Some("e1000"));
        let xp = suggest(&vm(vmw("winXPProGuest"), "bios", ("ide", "piix4")));
        assert_eq!((xp.get("hw_disk_bus"), xp.get("hw_vif_model")), (Some("ide"), Some("e1000")));
        // CIM id only: 116 = Windows Server 2016.
        let cim = suggest(&vm(OsSummary { id: Some(116), ..Default::default() }, "bios", ("sata", "ahci")));
        assert_eq!(cim.get("os_type"), Some("windows"));
        assert_eq!(why(&cim, "os_type"), [WhyCode::BasisCim, WhyCode::WindowsOsType]);
        assert_eq!(why(&cim, "hw_firmware_type"), [WhyCode::Bios]);
        check_why(&cim);
        check_why(&xp);
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
        check_why(&s);
        assert_eq!(why(&s, "os_secure_boot"), [WhyCode::SecureBoot]);
        assert_eq!(why(&s, "hw_machine_type"), [WhyCode::Q35ForUefi]);
        assert_eq!(why(&s, "os_distro"), [WhyCode::BasisVmware, WhyCode::Libosinfo]);
        assert_eq!(
            why(&s, "hw_disk_bus"),
            [WhyCode::BasisVmware, WhyCode::LinuxVirtioDisk, WhyCode::SourceDiskOn, WhyCode::VirtioDiskNames]
        );
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
        check_why(&s);
        assert_eq!(
            why(&s, "hw_disk_bus"),
            [WhyCode::Unrecognised, WhyCode::UnknownOsSata, WhyCode::SourceDiskOn, WhyCode::VirtioIfDrivers]
        );
        // No OS information, no NIC, a disk of unknown controller: codes for each.
        let mut v = vm(OsSummary::default(), "bios", ("other", ""));
        v.nics.clear();
        let s = suggest(&v);
        check_why(&s);
        assert_eq!(why(&s, "hw_vif_model"), [WhyCode::NoOsInfo, WhyCode::UnknownOsE1000, WhyCode::NoNic]);
    }

    #[test]
    fn the_guest_outranks_the_ovf() {
        use crate::guest::{Boot, Evidence, Guest, Os, Reason, ReasonCode};
        let mut s = suggest_for_disk(OsChoice::Linux, 1 << 30);
        assert_eq!(s.get("hw_disk_bus"), Some("virtio"));
        let img = || Some("initramfs-x.img".to_string());
        let ahci = Args {
            initramfs: img(),
            missing: Some("virtio_blk".into()),
            driver: Some("ahci".into()),
            ..Args::default()
        };
        let mut g = Guest {
            os: Some(Os {
                distro: Some("rocky".into()),
                version: Some("9.3".into()),
                ..Os::new("linux", Evidence::Path("/etc/os-release".into()))
            }),
            boot: Some(Boot {
                disk_bus: "sata".into(),
                scsi_model: None,
                vif_model: "virtio".into(),
                boots: true,
                reason: Reason::new(ReasonCode::OtherBus, ahci.clone()),
                fix: None,
            }),
            ..Default::default()
        };
        apply_guest(&mut s, &g);
        check_why(&s);
        assert_eq!(
            (s.get("hw_disk_bus"), s.get("os_distro"), s.get("os_version")),
            (Some("sata"), Some("rocky"), Some("9.3"))
        );
        let bus = s.properties.iter().find(|p| p.key == "hw_disk_bus").unwrap();
        // The boot reason's code and its args, for the page to put in words.
        assert_eq!(bus.why, [Why::with(WhyCode::GuestDisk, Args { reason: Some("other_bus".into()), ..ahci })]);
        assert_eq!(bus.reason, "the guest's own boot drivers: initramfs-x.img has no virtio_blk; it has ahci");
        assert_eq!(s.properties.iter().filter(|p| p.key == "hw_disk_bus").count(), 1);
        assert_eq!(why(&s, "hw_vif_model"), [WhyCode::GuestVirtioNet]);
        let os = &s.properties.iter().find(|p| p.key == "os_distro").unwrap().why[0];
        assert_eq!((os.code, os.args.name.as_deref()), (WhyCode::GuestOs, Some("/etc/os-release")));
        // Will not boot, an emulated NIC, an OS known only from its kernels.
        let no_bus = Args { initramfs: img(), missing: Some("virtio_blk".into()), ..Args::default() };
        let b = g.boot.as_mut().unwrap();
        (b.boots, b.disk_bus, b.vif_model) = (false, "virtio".into(), "e1000".into());
        b.reason = Reason::new(ReasonCode::NoBus, no_bus);
        g.os = Some(Os::new("linux", Evidence::Reason(Reason::new(ReasonCode::KernelsOnly, Args::default()))));
        let mut s = suggest_for_disk(OsChoice::Linux, 1 << 30);
        apply_guest(&mut s, &g);
        check_why(&s);
        let bus = &s.properties.iter().find(|p| p.key == "hw_disk_bus").unwrap().why[0];
        assert_eq!((bus.code, bus.args.reason.as_deref()), (WhyCode::GuestNoBus, Some("no_bus")));
        let nic = &s.properties.iter().find(|p| p.key == "hw_vif_model").unwrap().why[0];
        assert_eq!((nic.code, nic.args.nic.as_deref()), (WhyCode::GuestEmulatedNic, Some("e1000")));
        let os = &s.properties.iter().find(|p| p.key == "os_type").unwrap().why[0];
        assert_eq!((os.code, os.args.reason.as_deref()), (WhyCode::GuestOsReason, Some("kernels_only")));
    }
}
