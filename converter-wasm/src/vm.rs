//! The VM a package describes, as the rest of the core sees it: filled in from an OVF
//! descriptor today (`ovf`), read by the OpenStack suggestions (`openstack`) and shown by the
//! shells. It depends only on the migration plan's types: the disk roles ([`VmSummary::assign_roles`]).

use crate::error::Args;
use crate::migration::{BootDisk, Reason, ReasonCode, Role};
use serde::Serialize;

/// The VM an OVF describes.
#[derive(Clone, Debug, Default, Serialize)]
pub struct VmSummary {
    /// `VirtualSystem/Name`, else its `ovf:id`.
    pub name: String,
    pub os: OsSummary,
    /// ResourceType 3 VirtualQuantity.
    pub vcpus: Option<u32>,
    /// `vmw:CoresPerSocket` of the CPU item.
    pub cores_per_socket: Option<u32>,
    /// ResourceType 4 VirtualQuantity × AllocationUnits, in MiB.
    pub memory_mib: Option<u64>,
    /// "bios" or "efi" (VMware `vmw:Config firmware`, VirtualBox `Firmware type`); both
    /// products default to BIOS when the descriptor says nothing.
    pub firmware: String,
    /// UEFI secure boot enabled in the source VM.
    pub secure_boot: bool,
    /// `vssd:VirtualSystemType`, e.g. "vmx-19" or "virtualbox-2.2".
    pub hardware_version: Option<String>,
    /// In DiskSection order.
    pub disks: Vec<DiskSummary>,
    /// The disk the VM boots from ([`VmSummary::assign_roles`]); none without disks.
    pub boot_disk: Option<BootDisk>,
    pub nics: Vec<NicSummary>,
    /// NetworkSection network names.
    pub networks: Vec<String>,
}

/// OperatingSystemSection.
#[derive(Clone, Debug, Default, Serialize)]
pub struct OsSummary {
    /// CIM_OperatingSystem OsType number (`ovf:id`), e.g. 94 = Ubuntu 64-bit.
    pub id: Option<u32>,
    pub description: Option<String>,
    /// VMware guest id, e.g. "ubuntu64Guest", "windows2019srv_64Guest".
    pub vmw_os_type: Option<String>,
    /// VirtualBox OS type, e.g. "Ubuntu_64".
    pub vbox_os_type: Option<String>,
    /// The OS by its product name ("Windows Server 2019", "Ubuntu Linux", "Red Hat
    /// Enterprise Linux 8"), from the ids above ([`OsSummary::identify`]); none when they
    /// name no particular OS.
    pub product: Option<String>,
    /// 64 or 32 when the ids say.
    pub bits: Option<u8>,
}

impl OsSummary {
    /// Fill `product` and `bits` from, in order, the VMware guest id, the VirtualBox type,
    /// the CIM OsType number and the description: the first that names an OS.
    pub fn identify(&mut self) {
        let found = self
            .vmw_os_type
            .as_deref()
            .and_then(vmware_product)
            .or_else(|| self.vbox_os_type.as_deref().and_then(vbox_product))
            .or_else(|| self.id.and_then(cim_product))
            .or_else(|| self.description.as_deref().and_then(described_product));
        (self.product, self.bits) = match found {
            Some((p, b)) => (p, b),
            None => (None, None),
        };
    }
}

/// A product name and its bitness, either possibly unknown.
type Product = (Option<String>, Option<u8>);

/// The number right after `prefix` in `t` ("rhel8_64guest" → "8"), unless it is the "64" of
/// a version-less 64-bit id ("centos64guest").
fn version_after<'t>(t: &'t str, prefix: &str) -> Option<&'t str> {
    let rest = t.strip_prefix(prefix)?;
    let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    let v = &rest[..end];
    let bare_64 = v == "64" && rest[end..].starts_with("guest");
    (!v.is_empty() && !bare_64).then_some(v)
}

/// VMware guest ids (`vmw:osType`, as in vSphere's GuestOsDescriptor list).
fn vmware_product(id: &str) -> Option<Product> {
    let t = id.trim().to_ascii_lowercase();
    let bits = Some(if t.contains("64") { 64 } else { 32 });
    const FIXED: &[(&str, &str)] = &[
        ("windows2022srvnext", "Windows Server 2025"),
        ("windows2019srvnext", "Windows Server 2022"),
        ("windows2019srv", "Windows Server 2019"),
        ("windows9server", "Windows Server 2016"),
        ("windows8server", "Windows Server 2012"),
        ("windows7server", "Windows Server 2008 R2"),
        ("windows12", "Windows 12"),
        ("windows11", "Windows 11"),
        ("windows9", "Windows 10"),
        ("windows8", "Windows 8"),
        ("windows7", "Windows 7"),
        ("windowshyperv", "Hyper-V Server"),
        ("winlonghorn", "Windows Server 2008"),
        ("winvista", "Windows Vista"),
        ("winxp", "Windows XP"),
        ("winnet", "Windows Server 2003"),
        ("win2000", "Windows 2000"),
        ("winnt", "Windows NT"),
        ("winme", "Windows Me"),
        ("win98", "Windows 98"),
        ("win95", "Windows 95"),
        ("win31", "Windows 3.1"),
        ("ubuntu", "Ubuntu Linux"),
        ("rockylinux", "Rocky Linux"),
        ("almalinux", "AlmaLinux"),
        ("vmwarephoton", "VMware Photon OS"),
        ("fedora", "Fedora Linux"),
        ("opensuse", "openSUSE"),
        ("coreos", "CoreOS"),
        ("mandriva", "Mandriva Linux"),
        ("mandrake", "Mandrake Linux"),
        ("turbolinux", "Turbolinux"),
        ("nld", "Novell Linux Desktop"),
        ("darwin", "macOS"),
        ("other24xlinux", "Linux 2.4"),
        ("other26xlinux", "Linux 2.6"),
        ("other3xlinux", "Linux 3.x"),
        ("other4xlinux", "Linux 4.x"),
        ("other5xlinux", "Linux 5.x"),
        ("other6xlinux", "Linux 6.x"),
        ("otherlinux", "Linux"),
    ];
    // Families whose ids carry a version: "rhel8_64Guest" → "Red Hat Enterprise Linux 8".
    const VERSIONED: &[(&str, &str)] = &[
        ("debian", "Debian GNU/Linux"),
        ("centos", "CentOS"),
        ("rhel", "Red Hat Enterprise Linux"),
        ("sles", "SUSE Linux Enterprise Server"),
        ("oraclelinux", "Oracle Linux"),
        ("amazonlinux", "Amazon Linux"),
        ("asianux", "Asianux"),
        ("freebsd", "FreeBSD"),
        ("solaris", "Solaris"),
        ("suse", "SUSE Linux"),
    ];
    if let Some((_, p)) = FIXED.iter().find(|(pre, _)| t.starts_with(pre)) {
        return Some((Some((*p).to_string()), bits));
    }
    if let Some((pre, p)) = VERSIONED.iter().find(|(pre, _)| t.starts_with(pre)) {
        let name = match version_after(&t, pre) {
            Some(v) => format!("{p} {v}"),
            None => (*p).to_string(),
        };
        return Some((Some(name), bits));
    }
    // "otherGuest", "otherGuest64": no particular OS, but the bitness is known.
    t.starts_with("other").then_some((None, bits))
}

/// VirtualBox OS types ("Ubuntu_64", "Windows2019_64", "RedHat_64", "Linux26").
fn vbox_product(id: &str) -> Option<Product> {
    let t = id.trim().to_ascii_lowercase();
    let bits = Some(if t.ends_with("_64") { 64 } else { 32 });
    let base = t.trim_end_matches("_64");
    const NAMES: &[(&str, &str)] = &[
        ("windows2025", "Windows Server 2025"),
        ("windows2022", "Windows Server 2022"),
        ("windows2019", "Windows Server 2019"),
        ("windows2016", "Windows Server 2016"),
        ("windows2012", "Windows Server 2012"),
        ("windows2008", "Windows Server 2008"),
        ("windows2003", "Windows Server 2003"),
        ("windows2000", "Windows 2000"),
        ("windows11", "Windows 11"),
        ("windows10", "Windows 10"),
        ("windows81", "Windows 8.1"),
        ("windows8", "Windows 8"),
        ("windows7", "Windows 7"),
        ("windowsvista", "Windows Vista"),
        ("windowsxp", "Windows XP"),
        ("windowsnt", "Windows NT"),
        ("ubuntu", "Ubuntu Linux"),
        ("debian", "Debian GNU/Linux"),
        ("redhat", "Red Hat Enterprise Linux"),
        ("oracle", "Oracle Linux"),
        ("opensuse", "openSUSE"),
        ("suse", "SUSE Linux Enterprise"),
        ("fedora", "Fedora Linux"),
        ("archlinux", "Arch Linux"),
        ("gentoo", "Gentoo Linux"),
        ("mandriva", "Mandriva Linux"),
        ("freebsd", "FreeBSD"),
        ("linux", "Linux"),
    ];
    if let Some((_, p)) = NAMES.iter().find(|(pre, _)| base.starts_with(pre)) {
        return Some((Some((*p).to_string()), bits));
    }
    base.starts_with("other").then_some((None, bits))
}

/// CIM OsType numbers the suggestions recognise (see `openstack::from_cim`), as products;
/// the 64-bit variant is the second of each pair.
fn cim_product(id: u32) -> Option<Product> {
    let (name, bits64) = match id {
        79 | 80 => ("Red Hat Enterprise Linux", id == 80),
        82 | 83 => ("openSUSE", id == 83),
        84 | 85 => ("SUSE Linux Enterprise Server", id == 85),
        89 | 90 => ("Mandriva Linux", id == 90),
        93 | 94 => ("Ubuntu Linux", id == 94),
        95 | 96 => ("Debian GNU/Linux", id == 96),
        106 | 107 => ("CentOS", id == 107),
        42 | 78 => ("FreeBSD", id == 78),
        _ => return None,
    };
    Some((Some(name.to_string()), Some(if bits64 { 64 } else { 32 })))
}

/// An exporter's description ("Microsoft Windows Server 2019 (64-bit)") is itself a product
/// name; the bitness is read from it when it says.
fn described_product(d: &str) -> Option<Product> {
    let d = d.trim();
    if d.is_empty() {
        return None;
    }
    let l = d.to_ascii_lowercase();
    let bits = if l.contains("64-bit") || l.contains("64 bit") {
        Some(64)
    } else if l.contains("32-bit") || l.contains("32 bit") {
        Some(32)
    } else {
        None
    };
    let name = d
        .trim_end_matches([')', ' '])
        .rsplit_once(" (")
        .filter(|(_, tail)| tail.to_ascii_lowercase().contains("bit"))
        .map(|(head, _)| head)
        .unwrap_or(d);
    Some((Some(name.trim_start_matches("Microsoft ").to_string()), bits))
}

/// One virtual disk (DiskSection/Disk) with its file and where it is attached.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DiskSummary {
    pub disk_id: String,
    /// `ovf:fileRef`; none for a blank disk created at deployment.
    pub file_ref: Option<String>,
    /// The referenced File's `ovf:href`.
    pub file_name: Option<String>,
    /// `ovf:capacity` × `ovf:capacityAllocationUnits` (default bytes).
    pub capacity_bytes: Option<u64>,
    /// `ovf:populatedSize`: bytes the guest has written, as the exporter estimated.
    pub populated_size: Option<u64>,
    /// `ovf:format` URI, e.g. `...vmdk.html#streamOptimized`.
    pub format: Option<String>,
    pub controller: Option<ControllerSummary>,
    /// `AddressOnParent` of the disk item (unit on its controller).
    pub address_on_parent: Option<u32>,
    /// The File's `ovf:compression` ("gzip"), none when stored as is.
    pub compression: Option<String>,
    /// The File's `ovf:size`: bytes of the file as stored (compressed size when compressed).
    pub file_size: Option<u64>,
    /// The File's `ovf:chunkSize`: stored as `href.000000000`, `href.000000001`, ...
    pub chunk_size: Option<u64>,
    /// `ovf:parentRef`: a delta disk over another disk of the package.
    pub parent_ref: Option<String>,
    /// Boot or data ([`VmSummary::assign_roles`]).
    pub role: Role,
}

/// A device the OVF's boot order names, in boot order (VMware `vmw:BootOrderSection`, OVF 2
/// `BootDeviceSection`), as the descriptor resolved it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BootEntry {
    /// A disk: its index in `disks`.
    Disk(usize),
    /// OVF 2's `CIM:Hard-Disk:n`: the n-th hard disk (1-based), counted in controller order.
    NthDisk(u64),
    /// A reference to a disk that is not there (an item that is no disk of the DiskSection), as
    /// written.
    Dangling(String),
    /// Another device: CD/DVD, network, floppy.
    Other,
}

impl VmSummary {
    /// Mark the boot disk and the data disks: the first disk the boot order names, else the
    /// first disk on the first controller ([`controller_order`]), else the first disk listed.
    pub fn assign_roles(&mut self, order: &[BootEntry]) {
        let ranked = controller_order(&self.disks);
        let mut dangling = None;
        let mut listed = false;
        let mut chosen = None;
        for e in order {
            match e {
                BootEntry::Disk(i) if *i < self.disks.len() => chosen = Some(*i),
                BootEntry::NthDisk(n) => match usize::try_from(*n).ok().and_then(|n| ranked.get(n.checked_sub(1)?)) {
                    Some(&i) => chosen = Some(i),
                    None => dangling = dangling.or_else(|| Some(format!("CIM:Hard-Disk:{n}"))),
                },
                BootEntry::Disk(i) => dangling = dangling.or_else(|| Some(format!("disk {i}"))),
                BootEntry::Dangling(name) => dangling = dangling.or_else(|| Some(name.clone())),
                BootEntry::Other => listed = true,
            }
            if chosen.is_some() {
                break;
            }
        }
        let (index, code) = match (chosen, ranked.first()) {
            (Some(i), _) => (i, ReasonCode::BootOrder),
            (None, None) => return,
            (None, Some(&i)) if dangling.is_some() => (i, ReasonCode::BootOrderDangling),
            (None, Some(&i)) if listed => (i, ReasonCode::BootOrderNoDisk),
            (None, Some(&i)) if self.disks[i].controller.is_some() => (i, ReasonCode::FirstOnController),
            (None, Some(&i)) => (i, ReasonCode::FirstDisk),
        };
        let disk = &self.disks[index];
        let controller = match code {
            ReasonCode::BootOrder | ReasonCode::FirstDisk => None,
            _ => disk.controller.as_ref().and_then(ControllerSummary::describe).map(str::to_string),
        };
        let name = dangling.filter(|_| code == ReasonCode::BootOrderDangling);
        let args = Args { disk: Some(disk.disk_id.clone()), name, controller, ..Args::default() };
        for (i, d) in self.disks.iter_mut().enumerate() {
            d.role = if i == index { Role::Boot } else { Role::Data };
        }
        self.boot_disk = Some(BootDisk { index, reason: Reason::new(code, args) });
    }
}

/// Disk indices, first to last by where they are attached: controller kind (IDE, SATA, SCSI,
/// NVMe, other: the order firmware and hypervisors probe them), then the controller's bus
/// number (`Address`), then its InstanceID, then the disk's unit (`AddressOnParent`); disks
/// without a known controller last, each group in DiskSection order.
pub fn controller_order(disks: &[DiskSummary]) -> Vec<usize> {
    /// A number sorts before text and before nothing; numbers by value.
    fn num_key(s: Option<&str>) -> (u8, u64, String) {
        match s.map(str::trim) {
            Some(t) => match t.parse::<u64>() {
                Ok(n) => (0, n, String::new()),
                Err(_) => (1, 0, t.to_string()),
            },
            None => (2, 0, String::new()),
        }
    }
    let key = |d: &DiskSummary| match &d.controller {
        Some(c) => {
            let kind = ["ide", "sata", "scsi", "nvme"].iter().position(|k| *k == c.kind).unwrap_or(4);
            let unit = d.address_on_parent.map_or((1, 0), |u| (0, u));
            (kind, num_key(c.address.as_deref()), num_key(Some(&c.instance_id)), unit)
        }
        None => (5, num_key(None), num_key(None), (1, 0)),
    };
    let mut order: Vec<usize> = (0..disks.len()).collect();
    order.sort_by_cached_key(|&i| key(&disks[i]));
    order
}

/// The controller a disk hangs off.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct ControllerSummary {
    /// "ide", "scsi", "sata", "nvme" or "other".
    pub kind: String,
    /// "lsilogic", "lsilogicsas", "pvscsi", "buslogic", "virtio", "ahci", "nvme", "piix4", ...
    pub model: Option<String>,
    /// ResourceSubType as written.
    pub subtype: Option<String>,
    /// The controller's `Address` (bus number).
    pub address: Option<String>,
    pub instance_id: String,
}

impl ControllerSummary {
    /// "LSI Logic SAS", "IDE", ... for reasons; `None` for a controller of no known kind.
    pub fn describe(&self) -> Option<&'static str> {
        Some(match self.model.as_deref() {
            Some("lsilogic") => "LSI Logic parallel SCSI",
            Some("lsilogicsas") => "LSI Logic SAS",
            Some("pvscsi") => "VMware Paravirtual SCSI",
            Some("buslogic") => "BusLogic SCSI",
            Some("virtio") => "virtio-scsi",
            Some("ahci") => "SATA (AHCI)",
            Some("nvme") => "NVMe",
            _ => match self.kind.as_str() {
                "ide" => "IDE",
                "scsi" => "SCSI",
                "sata" => "SATA",
                "nvme" => "NVMe",
                _ => return None,
            },
        })
    }
}

/// One Ethernet adapter (ResourceType 10).
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct NicSummary {
    pub name: String,
    /// "e1000", "e1000e", "vmxnet3", "vmxnet2", "vmxnet", "pcnet32", "virtio", ... (lower-cased
    /// ResourceSubType when not one of these).
    pub model: Option<String>,
    /// `Connection`: the network name.
    pub network: Option<String>,
    /// `Address`: the MAC address when the exporter kept it.
    pub mac: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(os: OsSummary) -> (Option<String>, Option<u8>) {
        let mut os = os;
        os.identify();
        (os.product, os.bits)
    }

    fn vmw(t: &str) -> (Option<String>, Option<u8>) {
        product(OsSummary { vmw_os_type: Some(t.into()), ..Default::default() })
    }

    fn named(p: &str, bits: u8) -> (Option<String>, Option<u8>) {
        (Some(p.into()), Some(bits))
    }

    #[test]
    fn vmware_guest_ids_name_their_product() {
        for (id, p, bits) in [
            ("windows7Guest", "Windows 7", 32),
            ("windows7_64Guest", "Windows 7", 64),
            ("windows7Server64Guest", "Windows Server 2008 R2", 64),
            ("windows8_64Guest", "Windows 8", 64),
            ("windows8Server64Guest", "Windows Server 2012", 64),
            ("windows9_64Guest", "Windows 10", 64),
            ("windows9Server64Guest", "Windows Server 2016", 64),
            ("windows11_64Guest", "Windows 11", 64),
            ("windows2019srv_64Guest", "Windows Server 2019", 64),
            ("windows2019srvNext_64Guest", "Windows Server 2022", 64),
            ("windows2022srvNext_64Guest", "Windows Server 2025", 64),
            ("winLonghorn64Guest", "Windows Server 2008", 64),
            ("winXPProGuest", "Windows XP", 32),
            ("winNetEnterpriseGuest", "Windows Server 2003", 32),
            ("ubuntu64Guest", "Ubuntu Linux", 64),
            ("ubuntuGuest", "Ubuntu Linux", 32),
            ("debian11_64Guest", "Debian GNU/Linux 11", 64),
            ("centos7_64Guest", "CentOS 7", 64),
            ("centos64Guest", "CentOS", 64),
            ("rhel8_64Guest", "Red Hat Enterprise Linux 8", 64),
            ("rhel6Guest", "Red Hat Enterprise Linux 6", 32),
            ("sles15_64Guest", "SUSE Linux Enterprise Server 15", 64),
            ("oracleLinux9_64Guest", "Oracle Linux 9", 64),
            ("oracleLinux64Guest", "Oracle Linux", 64),
            ("rockylinux_64Guest", "Rocky Linux", 64),
            ("almalinux_64Guest", "AlmaLinux", 64),
            ("vmwarePhoton64Guest", "VMware Photon OS", 64),
            ("other5xLinux64Guest", "Linux 5.x", 64),
            ("otherLinux64Guest", "Linux", 64),
            ("freebsd13_64Guest", "FreeBSD 13", 64),
            ("freebsd64Guest", "FreeBSD", 64),
        ] {
            assert_eq!(vmw(id), named(p, bits), "{id}");
        }
        // No particular OS: no product, the bitness still known.
        assert_eq!(vmw("otherGuest64"), (None, Some(64)));
        assert_eq!(vmw("otherGuest"), (None, Some(32)));
        assert_eq!(product(OsSummary::default()), (None, None));
    }

    #[test]
    fn other_sources_name_the_product_when_vmware_does_not() {
        let vbox = |t: &str| product(OsSummary { vbox_os_type: Some(t.into()), ..Default::default() });
        assert_eq!(vbox("Ubuntu_64"), named("Ubuntu Linux", 64));
        assert_eq!(vbox("Windows2019_64"), named("Windows Server 2019", 64));
        assert_eq!(vbox("RedHat"), named("Red Hat Enterprise Linux", 32));
        assert_eq!(product(OsSummary { id: Some(94), ..Default::default() }), named("Ubuntu Linux", 64));
        let desc = |d: &str| product(OsSummary { id: Some(1), description: Some(d.into()), ..Default::default() });
        assert_eq!(desc("Microsoft Windows Server 2019 (64-bit)"), named("Windows Server 2019", 64));
        assert_eq!(desc("Linux (Fedora)"), (Some("Linux (Fedora)".into()), None));
        // The VMware id wins over the rest.
        let both = OsSummary {
            vmw_os_type: Some("rhel9_64Guest".into()),
            description: Some("Something else".into()),
            ..Default::default()
        };
        assert_eq!(product(both), named("Red Hat Enterprise Linux 9", 64));
    }
}
