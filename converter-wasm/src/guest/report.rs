//! What inspection reports (the `guest` object of `stackferry inspect --json` and of the page's
//! Guest card). A leaf: the readers fill it, `boot` and `openstack` read it.

use crate::error::Args;
use serde::Serialize;
use std::fmt;

crate::message_codes! {
    /// A thing in the guest that breaks or may break after the move, each shown with the file
    /// and line that shows it (catalogue keys `guest.risk.<code>`; args beyond file/line: the
    /// quoted `text`, and for some a `name`).
    pub enum RiskCode {
        /// `/etc/fstab` mounts by `/dev/sdX` (disks become `/dev/vdX` on virtio).
        FstabDevice = "fstab_device" [name],
        /// The kernel command line (GRUB config, BLS entry) names `root=`/`resume=` `/dev/sdX`.
        CmdlineDevice = "cmdline_device" [name],
        /// Network configuration bound to a VMware NIC name (ens192, ens160, ens224...).
        NicName = "nic_name" [name],
        /// Network configuration bound to a MAC address (ifcfg HWADDR, keyfile mac-address,
        /// netplan macaddress, udev persistent-net rule).
        NicMac = "nic_mac" [name],
        /// A static address that will likely need changing on the new network.
        StaticAddress = "static_address" [name],
        /// VMware Tools installed from VMware's tarball (not open-vm-tools).
        VmwareToolsLegacy = "vmware_tools_legacy" [],
        /// open-vm-tools installed: harmless, useless on OpenStack.
        OpenVmTools = "open_vm_tools" [],
        /// No cloud-init: keys, host name and network will not be set by the cloud.
        NoCloudInit = "no_cloud_init" [],
        /// Windows without the virtio storage driver installed (INACCESSIBLE_BOOT_DEVICE).
        NoVirtioStorage = "no_virtio_storage" [],
        /// Windows without the virtio network driver.
        NoVirtioNet = "no_virtio_net" [],
        /// No kernel or initramfs could be read: the bus cannot be chosen from evidence.
        NoKernel = "no_kernel" [],
    }
}

crate::message_codes! {
    /// Why inspection decided what it did: the boot decision's evidence ([`Boot::reason`]) and
    /// an OS recognised from no file ([`Evidence::Reason`]). Catalogue keys
    /// `guest.reason.<code>`; args are names and paths only (the kernel version, the
    /// initramfs file name, drivers). Each reason `boot::decide` and
    /// `windows::inspect_windows` can give is exactly one code; [`Reason`]'s
    /// `Display` is the CLI's English.
    pub enum ReasonCode {
        /// virtio_blk and virtio_pci built into the kernel.
        VirtioBuiltIn = "virtio_built_in" [kernel],
        /// Both in the initramfs.
        VirtioInInitramfs = "virtio_in_initramfs" [initramfs],
        /// virtio_blk built in, virtio_pci in the initramfs.
        VirtioBlkBuiltIn = "virtio_blk_built_in" [kernel, initramfs],
        /// virtio_pci built in, virtio_blk in the initramfs.
        VirtioPciBuiltIn = "virtio_pci_built_in" [kernel, initramfs],
        /// No virtio disk (`missing`: virtio_blk, or virtio_pci when only it lacks), but another
        /// bus's `driver` (virtio_scsi, ahci or ata_piix) at boot.
        OtherBus = "other_bus" [initramfs, missing, driver],
        OtherBusNoInitramfs = "other_bus_no_initramfs" [kernel, missing, driver],
        /// No driver for any bus OpenStack offers; `drivers`: the VMware ones that are there.
        NoBus = "no_bus" [initramfs, missing],
        NoBusVmware = "no_bus_vmware" [initramfs, missing, drivers],
        NoBusNoInitramfs = "no_bus_no_initramfs" [kernel, missing],
        NoBusVmwareNoInitramfs = "no_bus_vmware_no_initramfs" [kernel, missing, drivers],
        /// Windows: the virtio storage `driver` (viostor) starts at boot.
        WindowsBootStart = "windows_boot_start" [driver],
        /// vioscsi starts at boot, viostor (`missing`) does not.
        WindowsScsiBootStart = "windows_scsi_boot_start" [driver, missing],
        /// viostor installed but not started at boot; AHCI's `driver` (storahci) is inbox.
        WindowsNotBootStart = "windows_not_boot_start" [missing, driver],
        /// viostor not installed; AHCI's `driver` (storahci) is inbox.
        WindowsNotInstalled = "windows_not_installed" [missing, driver],
        /// Older than Vista: no AHCI driver, no virtio drivers.
        WindowsLegacy = "windows_legacy" [],
        /// The OS: kernels in /boot, but no os-release.
        KernelsOnly = "kernels_only" [],
    }
}

/// A reason: its code and args.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub code: ReasonCode,
    /// Boxed: a few names in a large struct.
    pub args: Box<Args>,
}

impl Reason {
    pub fn new(code: ReasonCode, args: Args) -> Reason {
        Reason { code, args: Box::new(args) }
    }
}

/// The CLI's English (the page has its own sentences, `guest.reason.<code>`).
impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = |v: &Option<String>| v.clone().unwrap_or_default();
        let (kernel, img) = (a(&self.args.kernel), a(&self.args.initramfs));
        let (missing, driver, vmware) = (a(&self.args.missing), a(&self.args.driver), a(&self.args.drivers));
        let none = "no driver for any other bus OpenStack offers (virtio-scsi, SATA, IDE)";
        use ReasonCode::*;
        match self.code {
            VirtioBuiltIn => write!(f, "virtio_blk and virtio_pci are built into kernel {kernel}"),
            VirtioInInitramfs => write!(f, "virtio_blk and virtio_pci are in {img}"),
            VirtioBlkBuiltIn => write!(f, "virtio_blk is built into kernel {kernel} and virtio_pci is in {img}"),
            VirtioPciBuiltIn => write!(f, "virtio_pci is built into kernel {kernel} and virtio_blk is in {img}"),
            OtherBus => write!(f, "{img} has no {missing}; it has {driver}"),
            OtherBusNoInitramfs => {
                write!(f, "kernel {kernel} has no initramfs and no {missing} built in; it has {driver}")
            }
            NoBus => write!(f, "{img} has no {missing}, and {none}"),
            NoBusVmware => write!(f, "{img} has no {missing}, and {none}; only VMware's: {vmware}"),
            NoBusNoInitramfs => write!(f, "kernel {kernel} has no initramfs, and no {missing} and {none} built in"),
            NoBusVmwareNoInitramfs => write!(
                f,
                "kernel {kernel} has no initramfs, and no {missing} and {none} built in; only VMware's: {vmware}"
            ),
            WindowsBootStart => write!(f, "{driver} is installed and starts at boot"),
            WindowsScsiBootStart => write!(f, "{driver} is installed and starts at boot; {missing} does not"),
            WindowsNotBootStart => {
                write!(f, "{missing} is installed but does not start at boot; Windows has AHCI ({driver}) inbox")
            }
            WindowsNotInstalled => write!(f, "{missing} is not installed; Windows has AHCI ({driver}) inbox"),
            WindowsLegacy => write!(f, "Windows before Vista has no AHCI or virtio driver"),
            KernelsOnly => write!(f, "kernels in /boot, no os-release"),
        }
    }
}

/// Where the OS was recognised.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Evidence {
    /// The guest path that names it: "/etc/os-release", the SOFTWARE hive and its key, or
    /// (when the hive cannot be read) "/Windows/System32".
    Path(String),
    /// No file names it: a reason code ([`ReasonCode::KernelsOnly`]).
    Reason(Reason),
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Evidence::Path(p) => f.write_str(p),
            Evidence::Reason(r) => r.fmt(f),
        }
    }
}

/// The whole report for one VM (its disks inspected together) or one disk.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Guest {
    /// The OS found on the root file system; None when no root was recognised.
    pub os: Option<Os>,
    /// Every partition, logical volume and file system found, in disk order.
    pub volumes: Vec<Volume>,
    /// Installed Linux kernels, newest first; `default` marks the one the boot loader starts.
    pub kernels: Vec<Kernel>,
    /// Windows specifics, for a Windows guest.
    pub windows: Option<Windows>,
    /// The decision: which buses to use and whether it boots as is.
    pub boot: Option<Boot>,
    pub risks: Vec<Risk>,
    /// What could not be read and why (an encrypted volume, a thin pool, a damaged file
    /// system): inspection reports, it never stops the conversion.
    pub problems: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Os {
    /// "linux", "windows" or "other".
    pub family: String,
    /// os-release `ID` and `VERSION_ID` as found (e.g. "rocky", "9.3").
    pub id: Option<String>,
    pub version_id: Option<String>,
    pub pretty_name: Option<String>,
    /// libosinfo's names for Glance's `os_distro` / `os_version` ("rocky", "9.3"; "windows",
    /// "10.0").
    pub distro: Option<String>,
    pub version: Option<String>,
    /// Where it was recognised.
    pub evidence: Evidence,
}

impl Os {
    /// An OS of `family` recognised from `evidence`, nothing else known yet.
    pub fn new(family: &str, evidence: Evidence) -> Os {
        Os {
            family: family.into(),
            id: None,
            version_id: None,
            pretty_name: None,
            distro: None,
            version: None,
            evidence,
        }
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Volume {
    /// "disk 1 partition 2", "rl/root": what a user would call it.
    pub name: String,
    /// Guest byte offset and length on its disk (for an LV: of its first segment).
    pub offset: u64,
    pub size: u64,
    /// "ext4", "xfs", "ntfs", "vfat", "swap", "lvm2_pv", "luks", "btrfs", "unknown".
    pub content: String,
    pub label: Option<String>,
    pub uuid: Option<String>,
    /// Where the guest mounts it, from its `/etc/fstab` (or "/" for the root).
    pub mount: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Kernel {
    /// e.g. "5.14.0-362.el9_3.x86_64".
    pub version: String,
    /// Guest paths, e.g. "/boot/vmlinuz-…", "/boot/initramfs-….img".
    pub image: String,
    pub initramfs: Option<String>,
    /// The compressions found in the initramfs, in order ("none", "gzip", "zstd", ...).
    pub initramfs_layers: Vec<String>,
    /// The one the boot loader starts (GRUB default / BLS `saved_entry`; else the newest).
    pub default: bool,
    /// Boot-time drivers, each: built in, in the initramfs, or missing.
    pub drivers: Vec<Driver>,
    /// Why the initramfs could not be read fully, if it could not.
    pub problem: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Driver {
    /// Module name with underscores ("virtio_blk", "vmw_pvscsi").
    pub name: String,
    pub found: Found,
    /// The path that shows it ("usr/lib/modules/…/virtio_blk.ko.xz in initramfs-….img",
    /// "modules.builtin line 812").
    pub evidence: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Found {
    Builtin,
    Initramfs,
    /// Windows: installed and starts at boot (service `Start` = 0).
    BootStart,
    /// Installed but not there at boot: for Linux on the root file system only
    /// (`/lib/modules/<v>/kernel/…`: loadable once the root is mounted, enough for a NIC, not
    /// for the root disk); for Windows a service with `Start` 1–4.
    Installed,
    Missing,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Windows {
    /// e.g. "10.0" (CurrentMajorVersionNumber.CurrentMinorVersionNumber), build, product name.
    pub version: Option<String>,
    pub build: Option<String>,
    pub product_name: Option<String>,
    /// viostor / vioscsi / netkvm: installed and set to start at boot.
    pub drivers: Vec<Driver>,
}

/// The bus decision and its evidence.
#[derive(Clone, Debug, Serialize)]
pub struct Boot {
    /// Glance `hw_disk_bus`: "virtio", "scsi" (with `hw_scsi_model=virtio-scsi`), "sata", "ide".
    pub disk_bus: String,
    pub scsi_model: Option<String>,
    /// Glance `hw_vif_model`: "virtio" or "e1000".
    pub vif_model: String,
    /// False: no bus the guest can boot from ("will not boot as is"); `fix` says what to run.
    pub boots: bool,
    /// The evidence, e.g. `other_bus` with the initramfs, missing `virtio_blk` and the `ahci`
    /// it has. (Why the default kernel's initramfs could not be read fully, when it could
    /// not, is that kernel's `problem`.)
    pub reason: Reason,
    /// The exact command to run on the source VM before exporting, when one would help.
    pub fix: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Risk {
    pub code: RiskCode,
    /// Guest path and 1-based line that show it.
    pub file: String,
    pub line: Option<u32>,
    /// The line as found (trimmed, at most 200 characters).
    pub text: String,
    /// The device, interface or MAC the risk is about, where there is one.
    pub name: Option<String>,
    /// What to change, as a command or an edit, where there is a standard one.
    pub fix: Option<String>,
}
