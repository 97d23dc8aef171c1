//! The VM a package describes, as the rest of the core sees it: filled in from an OVF
//! descriptor today (`ovf`), read by the OpenStack suggestions (`openstack`) and shown by the
//! shells. A leaf: it depends on nothing else in the crate.

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
