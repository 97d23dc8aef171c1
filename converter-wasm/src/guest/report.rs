//! What inspection reports (the `guest` object of `stackferry inspect --json` and of the page's
//! Guest card). A leaf: the readers fill it, `boot` and `openstack` read it.

use serde::Serialize;

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

#[derive(Clone, Debug, Default, Serialize)]
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
    /// Where this was read, e.g. "/etc/os-release on rl/root".
    pub evidence: String,
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
#[derive(Clone, Debug, Default, Serialize)]
pub struct Boot {
    /// Glance `hw_disk_bus`: "virtio", "scsi" (with `hw_scsi_model=virtio-scsi`), "sata", "ide".
    pub disk_bus: String,
    pub scsi_model: Option<String>,
    /// Glance `hw_vif_model`: "virtio" or "e1000".
    pub vif_model: String,
    /// False: no bus the guest can boot from ("will not boot as is"); `fix` says what to run.
    pub boots: bool,
    /// One sentence of evidence, e.g. "initramfs-5.14.0-362.el9_3.x86_64.img has no
    /// virtio_blk; it has ahci".
    pub reason: String,
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
