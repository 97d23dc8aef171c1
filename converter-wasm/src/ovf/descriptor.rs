//! The OVF descriptor (the `.ovf` XML) parsed into the VM it describes and the files it
//! references, one function per section: `References`, `DeploymentOptionSection`, the
//! `VirtualSystem` and its `OperatingSystemSection` and `VirtualHardwareSection`,
//! `NetworkSection`, `DiskSection`, and the boot order (VMware's `vmw:BootOrderSection`, OVF 2's
//! `BootDeviceSection`).
//!
//! Parsed with roxmltree. Elements and attributes are matched by **local name**, whatever
//! their namespace or prefix: files in the wild put the OVF elements in the default namespace,
//! under an `ovf:` prefix, or (ovftool 3.5 exports) in no namespace at all; OVF 1.x and 2.0
//! differ only in the envelope namespace URI; VirtualBox's OVF 2.0 uses `StorageItem` (sasd)
//! and `EthernetPortItem` (epasd) where VMware uses `Item` (rasd); old exports write
//! `InstanceId` for `InstanceID` and `/disk/x` for `ovf:/disk/x`. Matching on local names
//! handles all of these without guessing namespaces.
//!
//! Hostile input: the descriptor is read only up to [`MAX_OVF_SIZE`] and [`MAX_OVF_NODES`]
//! XML nodes. roxmltree never fetches external entities (it has no resolver unless given
//! one) and, with `allow_dtd: false` (its default, set explicitly here), any DTD — and so
//! any entity declaration, billion-laughs included — is refused.
//!
//! Hardware is read per CIM ResourceType (CIM_ResourceAllocationSettingData): 3 processor,
//! 4 memory, 5 IDE controller, 6 parallel SCSI HBA, 10 Ethernet adapter, 14 floppy,
//! 15/16 CD/DVD, 17 disk drive, 20 other storage device (SATA, NVMe by ResourceSubType).

use crate::error::{Args, Error, ErrorCode, Result};
use crate::notice::{Notice, WarnCode};
use crate::source::{read_vec, Source};
use crate::vm::{BootEntry, ControllerSummary, DiskSummary, NicSummary, VmSummary};
use roxmltree::Node;
use serde::Serialize;
use std::collections::HashMap;

/// Largest OVF descriptor we read. ovftool writes a few KiB; vApps with large
/// ProductSections reach a few hundred KiB. roxmltree holds a few times the text size.
pub const MAX_OVF_SIZE: u64 = 8 << 20;

/// Most XML nodes parsed (roxmltree `nodes_limit`): a bound on memory independent of layout.
pub const MAX_OVF_NODES: u32 = 1_000_000;

/// Most File, Disk and hardware Item elements each. A VM has at most a few hundred disks
/// (VMware: 4 SCSI × 64 + 4 NVMe × 64 + 4 SATA × 30) and a few hundred items; the cap keeps
/// a hostile descriptor's work linear and small.
pub const MAX_ELEMENTS: usize = 10_000;

/// One `References/File`.
#[derive(Clone, Debug, Serialize)]
pub struct FileRef {
    pub id: String,
    pub href: String,
    pub size: Option<u64>,
    pub compression: Option<String>,
    pub chunk_size: Option<u64>,
    /// Byte offset of the element in the descriptor, for messages.
    pub offset: u64,
}

/// A parsed descriptor.
#[derive(Clone, Debug, Serialize)]
pub struct Descriptor {
    pub vm: VmSummary,
    pub files: Vec<FileRef>,
    /// Things worth telling the user (several VMs, unparsable units, ...).
    pub warnings: Vec<Notice>,
}

// ---------------------------------------------------------------------------------------
// XML helpers: local-name matching.

fn is(n: &Node, name: &str) -> bool {
    n.is_element() && n.tag_name().name() == name
}

fn attr<'a>(n: &Node<'a, '_>, name: &str) -> Option<&'a str> {
    n.attributes().find(|a| a.name() == name).map(|a| a.value())
}

fn child<'a, 'i>(n: &Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    n.children().find(|c| is(c, name))
}

fn children<'a, 'i: 'a>(n: &Node<'a, 'i>, name: &'a str) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    n.children().filter(move |c| is(c, name))
}

/// Trimmed text of the first child element called `name`, if not empty.
fn child_text(n: &Node, name: &str) -> Option<String> {
    child(n, name).and_then(|c| text_of(&c))
}

fn text_of(n: &Node) -> Option<String> {
    let t: String = n.descendants().filter(|d| d.is_text()).filter_map(|d| d.text()).collect();
    let t = t.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn num<T: std::str::FromStr>(s: &str) -> Option<T> {
    s.trim().parse().ok()
}

/// Bytes per allocation unit: DMTF programmatic units (DSP0004 Annex C: `byte * 2^20`,
/// `byte * 10^6`, `byte * 1024`) and the names tools write instead (VirtualBox `MegaBytes`,
/// `KB`, `GiB`, ...). None when not understood.
pub fn unit_bytes(units: &str) -> Option<u64> {
    let u: String = units.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
    let named = match u.as_str() {
        "" | "byte" | "bytes" | "b" => Some(1),
        "kilobyte" | "kilobytes" | "kb" | "kib" => Some(1 << 10),
        "megabyte" | "megabytes" | "mb" | "mib" => Some(1 << 20),
        "gigabyte" | "gigabytes" | "gb" | "gib" => Some(1 << 30),
        "terabyte" | "terabytes" | "tb" | "tib" => Some(1 << 40),
        _ => None,
    };
    if named.is_some() {
        return named;
    }
    let rest = u.strip_prefix("bytes").or_else(|| u.strip_prefix("byte"))?;
    let mut terms = rest.split('*');
    if terms.next() != Some("") {
        return None;
    }
    let mut f: u64 = 1;
    for t in terms {
        let v = match t.split_once('^') {
            Some((b, e)) => num::<u64>(b)?.checked_pow(num::<u32>(e)?)?,
            None => num::<u64>(t)?,
        };
        f = f.checked_mul(v)?;
    }
    // Units beyond 2^60 bytes are not sizes of anything real.
    (1..=1 << 60).contains(&f).then_some(f)
}

/// 1-based (row, col) of roxmltree to a byte offset.
fn text_offset(text: &str, row: u32, col: u32) -> u64 {
    let mut off = 0usize;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if i + 1 == row as usize {
            let c = line.char_indices().nth(col.saturating_sub(1) as usize).map_or(line.len(), |(b, _)| b);
            return (off + c) as u64;
        }
        off += line.len();
    }
    off as u64
}

/// One hardware item (Item, StorageItem or EthernetPortItem), by local child names.
#[derive(Default, Debug)]
struct RawItem {
    rtype: Option<u32>,
    subtype: Option<String>,
    instance_id: Option<String>,
    parent: Option<String>,
    address: Option<String>,
    address_on_parent: Option<String>,
    host_resource: Vec<String>,
    connection: Option<String>,
    name: Option<String>,
    quantity: Option<u64>,
    units: Option<String>,
    cores_per_socket: Option<u32>,
}

impl RawItem {
    fn read(n: &Node) -> RawItem {
        let mut it = RawItem::default();
        let mut caption = None;
        for c in n.children().filter(|c| c.is_element()) {
            let t = text_of(&c);
            match c.tag_name().name() {
                "ResourceType" => it.rtype = t.as_deref().and_then(num),
                "ResourceSubType" => it.subtype = t,
                "InstanceID" | "InstanceId" => it.instance_id = t,
                "Parent" => it.parent = t,
                "Address" => it.address = t,
                "AddressOnParent" => it.address_on_parent = t,
                "HostResource" => it.host_resource.extend(t),
                "Connection" => it.connection = t,
                "ElementName" => it.name = t,
                "Caption" => caption = t,
                "VirtualQuantity" => it.quantity = t.as_deref().and_then(num),
                "AllocationUnits" => it.units = t,
                "CoresPerSocket" => it.cores_per_socket = t.as_deref().and_then(num),
                _ => {}
            }
        }
        if it.name.is_none() {
            it.name = caption;
        }
        it
    }

    /// ResourceSubType split into lower-case tokens (a list of alternatives is allowed:
    /// "virtio lsilogic", "someother, lsilogic").
    fn subtypes(&self) -> Vec<String> {
        self.subtype
            .as_deref()
            .unwrap_or("")
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|s| !s.is_empty())
            .map(|s| s.to_ascii_lowercase())
            .collect()
    }
}

/// Kind and model of a storage controller item.
fn classify_controller(it: &RawItem) -> Option<(String, Option<String>)> {
    let subs = it.subtypes();
    let first = subs.first().cloned();
    let (kind, model) = match it.rtype? {
        5 => ("ide", first),
        6 => {
            let known = subs.iter().find_map(|s| match s.as_str() {
                "lsilogic" => Some("lsilogic"),
                "lsilogicsas" => Some("lsilogicsas"),
                "virtualscsi" | "pvscsi" => Some("pvscsi"),
                "buslogic" => Some("buslogic"),
                "virtio" | "virtio-scsi" | "virtioscsi" => Some("virtio"),
                _ => None,
            });
            ("scsi", known.map(str::to_string).or(first))
        }
        20 => {
            if subs.iter().any(|s| s.contains("nvme")) {
                ("nvme", Some("nvme".to_string()))
            } else if subs.iter().any(|s| s.contains("ahci") || s.contains("sata")) {
                ("sata", Some("ahci".to_string()))
            } else {
                ("other", first)
            }
        }
        7..=9 => ("other", first),
        _ => return None,
    };
    Some((kind.to_string(), model))
}

/// NIC model from ResourceSubType.
fn nic_model(it: &RawItem) -> Option<String> {
    let s = it.subtypes().into_iter().next()?;
    Some(match s.as_str() {
        "e1000" => "e1000".into(),
        "e1000e" => "e1000e".into(),
        "vmxnet3" => "vmxnet3".into(),
        "vmxnet2" => "vmxnet2".into(),
        "vmxnet" => "vmxnet".into(),
        "pcnet32" | "pcnet" => "pcnet32".into(),
        "virtio" | "virtio-net" | "virtionet" => "virtio".into(),
        "sriovethernetcard" | "sriov" => "sriov".into(),
        _ => s,
    })
}

// ---------------------------------------------------------------------------------------
// Parsing: one function per section.

/// Parse descriptor bytes. `name` names the file in errors.
pub fn parse(name: &str, data: &[u8]) -> Result<Descriptor> {
    let text = descriptor_text(name, data)?;
    let opts = roxmltree::ParsingOptions { allow_dtd: false, nodes_limit: MAX_OVF_NODES, ..Default::default() };
    let doc = roxmltree::Document::parse_with_options(text, opts).map_err(|e| xml_error(name, text, e))?;
    let root = doc.root_element();
    if root.tag_name().name() != "Envelope" {
        return Err(Error::corrupt(
            name,
            root.range().start as u64,
            format!("not an OVF descriptor: root element is <{}>, expected <Envelope>", root.tag_name().name()),
        )
        .with_code(ErrorCode::NotADisk));
    }
    let mut warnings = Vec::new();
    let section = |sname: &str| child(&root, sname).or_else(|| root.descendants().find(|d| is(d, sname)));
    let files = section("References").map(|refs| references(name, &refs)).transpose()?.unwrap_or_default();
    let config = section("DeploymentOptionSection").and_then(|d| default_configuration(&d));
    let systems: Vec<Node> = root.descendants().filter(|d| is(d, "VirtualSystem")).collect();
    let Some(vs) = systems.first().copied() else {
        return Err(Error::corrupt(name, root.range().start as u64, "OVF descriptor has no VirtualSystem"));
    };
    let mut vm = virtual_system(&vs);
    if systems.len() > 1 {
        warnings.push(
            Notice::new(
                WarnCode::SeveralSystems,
                name,
                format!(
                    "describes {} virtual systems; the summary shows the first ('{}'); all disks are listed",
                    systems.len(),
                    vm.name
                ),
            )
            .count(systems.len()),
        );
    }
    let items = hardware(name, &vs, config.as_deref(), &mut vm, &mut warnings)?;
    apply_items(name, &items, &mut vm, &mut warnings);
    if let Some(ns) = section("NetworkSection") {
        vm.networks = children(&ns, "Network").filter_map(|n| attr(&n, "name").map(str::to_string)).collect();
    }
    if let Some(ds) = section("DiskSection") {
        vm.disks = disks(name, &ds, &files, &items, &mut warnings)?;
    }
    let order = boot_order(&vs, &items, &vm.disks);
    vm.assign_roles(&order);
    Ok(Descriptor { vm, files, warnings })
}

/// The descriptor as text: within [`MAX_OVF_SIZE`], UTF-8 (DSP0243 requires it), BOM removed.
fn descriptor_text<'d>(name: &str, data: &'d [u8]) -> Result<&'d str> {
    if data.len() as u64 > MAX_OVF_SIZE {
        return Err(Error::over_limit(
            name,
            None,
            data.len() as u64,
            MAX_OVF_SIZE,
            format!("OVF descriptor is {} bytes; the limit is {MAX_OVF_SIZE}", data.len()),
        ));
    }
    let text = std::str::from_utf8(data).map_err(|e| {
        Error::corrupt(name, e.valid_up_to() as u64, "OVF descriptor is not UTF-8 text (DSP0243 requires UTF-8)")
    })?;
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

/// A roxmltree error as ours, located in the descriptor.
fn xml_error(name: &str, text: &str, e: roxmltree::Error) -> Error {
    let p = e.pos();
    let off = text_offset(text, p.row, p.col);
    match e {
        roxmltree::Error::DtdDetected => Error::unsupported(
            name,
            Some(off),
            "OVF descriptor contains a DTD; refused (entity declarations could expand without bound)",
        ),
        roxmltree::Error::NodesLimitReached => {
            Error::too_large(name, None, format!("OVF descriptor has more than {MAX_OVF_NODES} XML nodes"))
        }
        e => Error::corrupt(name, off, format!("OVF descriptor is not well-formed XML: {e}")),
    }
}

/// `References`: the files of the package.
fn references(name: &str, refs: &Node) -> Result<Vec<FileRef>> {
    let mut files = Vec::new();
    for f in children(refs, "File") {
        let off = f.range().start as u64;
        let id = attr(&f, "id").unwrap_or("").to_string();
        let href = attr(&f, "href")
            .ok_or_else(|| Error::corrupt(name, off, format!("File '{id}' has no ovf:href")))?
            .to_string();
        let size =
            match attr(&f, "size") {
                Some(s) => Some(num::<u64>(s).ok_or_else(|| {
                    Error::corrupt(name, off, format!("File '{href}': ovf:size '{s}' is not a number"))
                })?),
                None => None,
            };
        let chunk_size = match attr(&f, "chunkSize") {
            Some(s) => match num::<u64>(s) {
                Some(v) if v > 0 => Some(v),
                _ => {
                    return Err(Error::corrupt(
                        name,
                        off,
                        format!("File '{href}': ovf:chunkSize '{s}' is not a positive number"),
                    ))
                }
            },
            None => None,
        };
        let compression =
            attr(&f, "compression").map(str::trim).filter(|c| !c.is_empty() && *c != "identity").map(str::to_string);
        if files.len() >= MAX_ELEMENTS {
            return Err(Error::too_large(name, Some(off), format!("more than {MAX_ELEMENTS} File elements")));
        }
        files.push(FileRef { id, href, size, compression, chunk_size, offset: off });
    }
    Ok(files)
}

/// `DeploymentOptionSection`: the configuration deployed by default (items tagged with other
/// configurations are left out).
fn default_configuration(d: &Node) -> Option<String> {
    let cs: Vec<Node> = children(d, "Configuration").collect();
    cs.iter()
        .find(|c| attr(c, "default").is_some_and(|v| v.trim() == "true"))
        .or(cs.first())
        .and_then(|c| attr(c, "id"))
        .map(str::to_string)
}

/// The `VirtualSystem` the summary describes: its name and `OperatingSystemSection`.
fn virtual_system(vs: &Node) -> VmSummary {
    let mut vm = VmSummary { firmware: "bios".into(), ..Default::default() };
    let vbox = child(vs, "Machine");
    vm.name = child_text(vs, "Name")
        .or_else(|| attr(vs, "id").map(str::to_string))
        .or_else(|| vbox.and_then(|m| attr(&m, "name").map(str::to_string)))
        .unwrap_or_default();
    if let Some(os) = child(vs, "OperatingSystemSection") {
        vm.os.id = attr(&os, "id").and_then(num);
        vm.os.description = child_text(&os, "Description");
        vm.os.vmw_os_type = attr(&os, "osType").map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        vm.os.vbox_os_type =
            child_text(&os, "OSType").or_else(|| vbox.and_then(|m| attr(&m, "OSType").map(str::to_string)));
        vm.os.identify();
    }
    vm
}

/// `VirtualHardwareSection` (the first) and VirtualBox's `Machine`: the hardware items of the
/// deployed configuration; the hardware version, firmware and secure boot go into `vm`.
fn hardware(
    name: &str,
    vs: &Node,
    config: Option<&str>,
    vm: &mut VmSummary,
    warnings: &mut Vec<Notice>,
) -> Result<Vec<RawItem>> {
    let hws: Vec<Node> = children(vs, "VirtualHardwareSection").collect();
    if hws.len() > 1 {
        warnings.push(
            Notice::new(
                WarnCode::SeveralHardwareSections,
                name,
                format!("{} VirtualHardwareSections; using the first", hws.len()),
            )
            .count(hws.len()),
        );
    }
    let mut items = Vec::new();
    if let Some(hw) = hws.first() {
        vm.hardware_version = child(hw, "System").and_then(|s| child_text(&s, "VirtualSystemType"));
        for n in hw.children().filter(|c| is(c, "Item") || is(c, "StorageItem") || is(c, "EthernetPortItem")) {
            if let (Some(want), Some(cfgs)) = (config, attr(&n, "configuration")) {
                if !cfgs.split_whitespace().any(|c| c == want) {
                    continue;
                }
            }
            if items.len() >= MAX_ELEMENTS {
                return Err(Error::too_large(
                    name,
                    Some(n.range().start as u64),
                    format!("more than {MAX_ELEMENTS} hardware items"),
                ));
            }
            items.push(RawItem::read(&n));
        }
        // VMware extra settings: firmware, secure boot.
        for c in hw.children().filter(|c| is(c, "Config") || is(c, "ExtraConfig")) {
            let (Some(k), Some(v)) = (attr(&c, "key"), attr(&c, "value")) else { continue };
            match k.trim() {
                "firmware" => vm.firmware = normalize_firmware(v),
                "bootOptions.efiSecureBootEnabled" | "uefi.secureBoot.enabled" => {
                    vm.secure_boot = v.trim().eq_ignore_ascii_case("true")
                }
                _ => {}
            }
        }
    }
    // VirtualBox: <vbox:Machine><Hardware><Firmware type="EFI"/>.
    if let Some(m) = child(vs, "Machine") {
        if let Some(fw) = m.descendants().find(|d| is(d, "Firmware")).and_then(|f| attr(&f, "type")) {
            vm.firmware = normalize_firmware(fw);
        }
        if m.descendants()
            .any(|d| is(&d, "SecureBoot") && attr(&d, "enabled").is_some_and(|v| v.eq_ignore_ascii_case("true")))
        {
            vm.secure_boot = true;
        }
    }
    Ok(items)
}

/// Processors, memory and Ethernet adapters from the hardware items.
fn apply_items(name: &str, items: &[RawItem], vm: &mut VmSummary, warnings: &mut Vec<Notice>) {
    for it in items {
        match it.rtype {
            Some(3) => {
                vm.vcpus = it.quantity.and_then(|q| u32::try_from(q).ok());
                vm.cores_per_socket = it.cores_per_socket;
            }
            Some(4) => {
                let units = it.units.as_deref().unwrap_or("byte * 2^20");
                match (it.quantity, unit_bytes(units)) {
                    (Some(q), Some(u)) => vm.memory_mib = q.checked_mul(u).map(|b| b >> 20),
                    (Some(_), None) => warnings.push(
                        Notice::new(
                            WarnCode::UnitsNotUnderstood,
                            name,
                            format!("memory AllocationUnits '{units}' not understood"),
                        )
                        .with_args(Args { units: Some(units.to_string()), ..Args::default() }),
                    ),
                    _ => {}
                }
                if it.units.is_none() {
                    warnings.push(Notice::new(
                        WarnCode::UnitsMissing,
                        name,
                        "memory item has no AllocationUnits; assumed MiB",
                    ));
                }
            }
            Some(10) => {
                let n = vm.nics.len() + 1;
                vm.nics.push(NicSummary {
                    name: it.name.clone().unwrap_or_else(|| format!("nic{n}")),
                    model: nic_model(it),
                    network: it.connection.clone(),
                    mac: it.address.clone(),
                });
            }
            _ => {}
        }
    }
}

/// `DiskSection`: each disk with its file and the controller it is attached to. Look-ups by id
/// go through maps, so the work stays linear.
fn disks(
    name: &str,
    ds: &Node,
    files: &[FileRef],
    items: &[RawItem],
    warnings: &mut Vec<Notice>,
) -> Result<Vec<DiskSummary>> {
    let mut file_by_id: HashMap<&str, &FileRef> = HashMap::new();
    for f in files {
        file_by_id.entry(f.id.as_str()).or_insert(f);
    }
    let mut item_by_id: HashMap<&str, &RawItem> = HashMap::new();
    for it in items {
        if let Some(id) = it.instance_id.as_deref() {
            item_by_id.entry(id).or_insert(it);
        }
    }
    let mut disk_item: HashMap<&str, &RawItem> = HashMap::new();
    for it in items.iter().filter(|it| it.rtype == Some(17)) {
        for id in it.host_resource.iter().filter_map(|h| disk_ref(h)) {
            disk_item.entry(id).or_insert(it);
        }
    }
    let mut disks = Vec::new();
    for d in children(ds, "Disk") {
        let off = d.range().start as u64;
        if disks.len() >= MAX_ELEMENTS {
            return Err(Error::too_large(name, Some(off), format!("more than {MAX_ELEMENTS} disks")));
        }
        let disk_id = attr(&d, "diskId").unwrap_or("").to_string();
        let mut s = DiskSummary {
            disk_id: disk_id.clone(),
            file_ref: attr(&d, "fileRef").map(str::to_string),
            format: attr(&d, "format").map(str::to_string),
            populated_size: attr(&d, "populatedSize").and_then(num),
            parent_ref: attr(&d, "parentRef").map(str::to_string),
            ..Default::default()
        };
        if let Some(cap) = attr(&d, "capacity") {
            let units = attr(&d, "capacityAllocationUnits").unwrap_or("byte");
            s.capacity_bytes = num::<u64>(cap).zip(unit_bytes(units)).and_then(|(c, u)| c.checked_mul(u));
            if s.capacity_bytes.is_none() {
                warnings.push(
                    Notice::new(
                        WarnCode::CapacityNotUnderstood,
                        name,
                        format!("disk '{disk_id}': capacity '{cap}' × '{units}' not understood"),
                    )
                    .disk(&disk_id),
                );
            }
        }
        if let Some(fref) = &s.file_ref {
            let f = file_by_id.get(fref.as_str()).ok_or_else(|| {
                Error::corrupt(
                    name,
                    off,
                    format!("disk '{disk_id}' refers to file '{fref}' which References does not list"),
                )
            })?;
            s.file_name = Some(f.href.clone());
            s.compression = f.compression.clone();
            s.file_size = f.size;
            s.chunk_size = f.chunk_size;
        }
        // The disk item (ResourceType 17) whose HostResource names this disk.
        if let Some(it) = disk_item.get(disk_id.as_str()) {
            s.address_on_parent = it.address_on_parent.as_deref().and_then(num);
            match it.parent.as_deref().and_then(|p| item_by_id.get(p)) {
                Some(c) => {
                    if let Some((kind, model)) = classify_controller(c) {
                        s.controller = Some(ControllerSummary {
                            kind,
                            model,
                            subtype: c.subtype.clone(),
                            address: c.address.clone(),
                            instance_id: c.instance_id.clone().unwrap_or_default(),
                        });
                    }
                }
                None => {
                    if let Some(p) = &it.parent {
                        warnings.push(
                            Notice::new(
                                WarnCode::ControllerNotFound,
                                name,
                                format!(
                                    "disk '{disk_id}' is attached to item {p}, which is not in the hardware section"
                                ),
                            )
                            .disk(&disk_id),
                        );
                    }
                }
            }
        }
        disks.push(s);
    }
    Ok(disks)
}

/// The boot devices in order: VMware's `vmw:BootOrderSection`s first (ovftool and vCenter
/// write one per device, in boot order, each naming the device's item by `vmw:instanceId`, with
/// `vmw:type` "disk", "cdrom", "net" or "floppy"), then the `CIM_BootSourceSetting`s of OVF 2's
/// `BootDeviceSection` (DSP0243 2.x: a `CIM_BootConfigSetting` holding them in order), each
/// naming a hard disk by `StructuredBootString` `CIM:Hard-Disk:<n>`, or a disk item by its
/// InstanceID, or a disk by `ovf:/disk/<id>`.
fn boot_order(vs: &Node, items: &[RawItem], disks: &[DiskSummary]) -> Vec<BootEntry> {
    let disk_by_id: HashMap<&str, usize> = disks.iter().enumerate().map(|(i, d)| (d.disk_id.as_str(), i)).collect();
    // Item InstanceID → the disk its HostResource names (None: an item that is no disk, or
    // names a disk the DiskSection does not list).
    let mut item_disk: HashMap<&str, Option<usize>> = HashMap::new();
    for it in items {
        if let Some(id) = it.instance_id.as_deref() {
            let disk = (it.rtype == Some(17))
                .then(|| it.host_resource.iter().find_map(|h| disk_ref(h).and_then(|d| disk_by_id.get(d).copied())))
                .flatten();
            item_disk.entry(id).or_insert(disk);
        }
    }
    let by_item = |id: &str| item_disk.get(id.trim()).copied();
    let mut order = Vec::new();
    for sec in children(vs, "BootOrderSection") {
        let id = attr(&sec, "instanceId").unwrap_or("").trim();
        let disk_type = attr(&sec, "type").is_some_and(|t| t.trim().eq_ignore_ascii_case("disk"));
        order.push(match by_item(id) {
            Some(Some(i)) => BootEntry::Disk(i),
            _ if disk_type => BootEntry::Dangling(id.to_string()),
            _ => BootEntry::Other,
        });
    }
    for sec in children(vs, "BootDeviceSection") {
        for src in sec.descendants().filter(|d| is(d, "CIM_BootSourceSetting")) {
            let texts: Vec<String> = src.children().filter(|c| c.is_element()).filter_map(|c| text_of(&c)).collect();
            let entry = texts.iter().find_map(|t| {
                if let Some(Some(i)) = by_item(t) {
                    return Some(BootEntry::Disk(i));
                }
                if let Some(d) = disk_ref(t) {
                    return Some(
                        disk_by_id.get(d).map_or_else(|| BootEntry::Dangling(t.clone()), |&i| BootEntry::Disk(i)),
                    );
                }
                let mut parts = t.split(':');
                match (parts.next(), parts.next(), parts.next(), parts.next()) {
                    (Some(_), Some(kind), Some(n), None) if kind.eq_ignore_ascii_case("Hard-Disk") => Some(
                        num::<u64>(n)
                            .filter(|&n| n > 0)
                            .map_or_else(|| BootEntry::Dangling(t.clone()), BootEntry::NthDisk),
                    ),
                    _ => None,
                }
            });
            order.push(entry.unwrap_or(BootEntry::Other));
        }
    }
    order
}

/// The disk id of an `ovf:/disk/<id>` reference (old exports write `/disk/<id>`).
fn disk_ref(h: &str) -> Option<&str> {
    let h = h.trim();
    h.strip_prefix("ovf:").unwrap_or(h).strip_prefix("/disk/")
}

fn normalize_firmware(v: &str) -> String {
    let v = v.trim().to_ascii_lowercase();
    if v.starts_with("efi") || v.starts_with("uefi") {
        "efi".into()
    } else if v == "bios" {
        "bios".into()
    } else {
        v
    }
}

/// Read and parse the descriptor `src`; returns it with its bytes (for the manifest check).
pub fn read(src: &dyn Source) -> Result<(Descriptor, Vec<u8>)> {
    if src.len() > MAX_OVF_SIZE {
        return Err(Error::over_limit(
            src.name(),
            None,
            src.len(),
            MAX_OVF_SIZE,
            format!("OVF descriptor is {} bytes; the limit is {MAX_OVF_SIZE}", src.len()),
        ));
    }
    let data = read_vec(src, 0, src.len())?;
    Ok((parse(src.name(), &data)?, data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::migration::Role;

    #[test]
    fn units() {
        assert_eq!(unit_bytes("byte * 2^20"), Some(1 << 20));
        assert_eq!(unit_bytes("byte*2^30"), Some(1 << 30));
        assert_eq!(unit_bytes("MegaBytes"), Some(1 << 20));
        assert_eq!(unit_bytes("GigaBytes"), Some(1 << 30));
        assert_eq!(unit_bytes("byte * 10^6"), Some(1_000_000));
        assert_eq!(unit_bytes("byte * 1024"), Some(1024));
        assert_eq!(unit_bytes("byte"), Some(1));
        assert_eq!(unit_bytes("hertz * 10^6"), None);
        assert_eq!(unit_bytes("byte * 2^99"), None);
    }

    #[test]
    fn dtd_and_entities_are_refused() {
        let x =
            br#"<?xml version="1.0"?><!DOCTYPE e [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><Envelope>&b;</Envelope>"#;
        let e = parse("x.ovf", x).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Unsupported, "{e}");
        let e = parse("x.ovf", b"<Envelope><VirtualSystem>").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Corrupt, "{e}");
        let e = parse("x.ovf", b"<Other/>").unwrap_err();
        assert!(e.message.contains("root element"), "{e}");
    }

    /// A synthetic descriptor exercising deployment options, a collection of systems,
    /// secure boot, NVMe/SATA subtypes, GigaBytes memory and capacity units.
    #[test]
    fn options_collections_and_subtypes() {
        let x = r#"<?xml version="1.0"?>
<ovf:Envelope xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/2" xmlns:rasd="r" xmlns:vmw="http://www.vmware.com/schema/ovf" xmlns:vssd="v">
 <ovf:References><ovf:File ovf:id="f1" ovf:href="a.vmdk" ovf:size="10"/><ovf:File ovf:id="f2" ovf:href="b.vmdk"/></ovf:References>
 <ovf:DiskSection><ovf:Disk ovf:diskId="d1" ovf:fileRef="f1" ovf:capacity="2" ovf:capacityAllocationUnits="byte * 2^40"/>
   <ovf:Disk ovf:diskId="d2" ovf:fileRef="f2" ovf:capacity="100" ovf:capacityAllocationUnits="MegaBytes"/>
   <ovf:Disk ovf:diskId="d3" ovf:capacity="${size}"/></ovf:DiskSection>
 <ovf:DeploymentOptionSection><ovf:Configuration ovf:id="small"/><ovf:Configuration ovf:id="large" ovf:default="true"/></ovf:DeploymentOptionSection>
 <ovf:VirtualSystemCollection ovf:id="app">
  <ovf:VirtualSystem ovf:id="first">
   <ovf:OperatingSystemSection ovf:id="112" vmw:osType="windows8Server64Guest"/>
   <ovf:VirtualHardwareSection>
    <ovf:Item ovf:configuration="small"><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>1</rasd:VirtualQuantity></ovf:Item>
    <ovf:Item ovf:configuration="large"><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>8</rasd:VirtualQuantity></ovf:Item>
    <ovf:Item><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:AllocationUnits>GigaBytes</rasd:AllocationUnits><rasd:VirtualQuantity>16</rasd:VirtualQuantity></ovf:Item>
    <ovf:Item><rasd:InstanceID>4</rasd:InstanceID><rasd:ResourceType>20</rasd:ResourceType><rasd:ResourceSubType>vmware.nvme.controller</rasd:ResourceSubType></ovf:Item>
    <ovf:Item><rasd:InstanceID>5</rasd:InstanceID><rasd:ResourceType>20</rasd:ResourceType><rasd:ResourceSubType>vmware.sata.ahci</rasd:ResourceSubType></ovf:Item>
    <ovf:Item><rasd:InstanceID>6</rasd:InstanceID><rasd:ResourceType>17</rasd:ResourceType><rasd:HostResource>ovf:/disk/d1</rasd:HostResource><rasd:Parent>4</rasd:Parent><rasd:AddressOnParent>3</rasd:AddressOnParent></ovf:Item>
    <ovf:Item><rasd:InstanceID>7</rasd:InstanceID><rasd:ResourceType>17</rasd:ResourceType><rasd:HostResource>ovf:/disk/d2</rasd:HostResource><rasd:Parent>5</rasd:Parent></ovf:Item>
    <ovf:Item><rasd:InstanceID>8</rasd:InstanceID><rasd:ResourceType>10</rasd:ResourceType><rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType><rasd:Address>00:50:56:01:02:03</rasd:Address></ovf:Item>
    <vmw:Config vmw:key="firmware" vmw:value="efi"/>
    <vmw:Config vmw:key="uefi.secureBoot.enabled" vmw:value="TRUE"/>
   </ovf:VirtualHardwareSection>
  </ovf:VirtualSystem>
  <ovf:VirtualSystem ovf:id="second"/>
 </ovf:VirtualSystemCollection>
</ovf:Envelope>"#;
        let d = parse("c.ovf", x.as_bytes()).unwrap();
        let vm = &d.vm;
        assert_eq!(vm.name, "first");
        assert_eq!(vm.vcpus, Some(8), "the default configuration's CPU item");
        assert_eq!(vm.memory_mib, Some(16 * 1024));
        assert_eq!((vm.firmware.as_str(), vm.secure_boot), ("efi", true));
        assert_eq!(vm.disks.len(), 3);
        assert_eq!(vm.disks[0].capacity_bytes, Some(2 << 40));
        assert_eq!(
            vm.disks[0].controller.as_ref().map(|c| (c.kind.as_str(), c.model.as_deref())),
            Some(("nvme", Some("nvme")))
        );
        assert_eq!(vm.disks[0].address_on_parent, Some(3));
        assert_eq!(vm.disks[1].capacity_bytes, Some(100 << 20));
        assert_eq!(
            vm.disks[1].controller.as_ref().map(|c| (c.kind.as_str(), c.model.as_deref())),
            Some(("sata", Some("ahci")))
        );
        assert_eq!((vm.disks[2].capacity_bytes, vm.disks[2].file_name.as_deref()), (None, None));
        assert_eq!(vm.nics[0].mac.as_deref(), Some("00:50:56:01:02:03"));
        assert!(d.warnings.iter().any(|w| w.to_string().contains("2 virtual systems")), "{:?}", d.warnings);
        assert!(d.warnings.iter().any(|w| w.to_string().contains("${size}")), "{:?}", d.warnings);
        let s = crate::openstack::suggest(vm);
        assert_eq!(s.get("os_secure_boot"), Some("required"));
        // no boot order: the disk on the first controller (SATA before NVMe) boots, and the root
        // disk is its size, not the first listed disk's 2 TiB
        assert_eq!(vm.boot_disk.as_ref().map(|b| b.index), Some(1));
        assert_eq!(s.min_disk, Some(1));

        // VirtualBox EFI.
        let x = r#"<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/2" xmlns:vbox="http://www.virtualbox.org/ovf/machine"><VirtualSystem ovf:id="v" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/2"><vbox:Machine name="v"><Hardware><Firmware type="EFI"/></Hardware></vbox:Machine></VirtualSystem></Envelope>"#;
        assert_eq!(parse("v.ovf", x.as_bytes()).unwrap().vm.firmware, "efi");

        // A disk referring to a file References does not list.
        let x = r#"<Envelope><DiskSection><Disk diskId="d" fileRef="nope"/></DiskSection><VirtualSystem id="x"/></Envelope>"#;
        let e = parse("bad.ovf", x.as_bytes()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Corrupt);
        assert_eq!(e.offset, Some(23), "{e}");
    }

    /// A descriptor with `controllers` (InstanceID, ResourceType, Address, ResourceSubType) and `disks` (disk id,
    /// controller InstanceID, AddressOnParent; disk items get InstanceIDs 10, 11, ...), and
    /// `extra` sections inside the VirtualSystem.
    fn with_disks(controllers: &[(&str, u32, &str, &str)], disks: &[(&str, &str, u32)], extra: &str) -> VmSummary {
        let mut x = String::from(
            r#"<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:vmw="http://www.vmware.com/schema/ovf"><DiskSection>"#,
        );
        for (id, _, _) in disks {
            x += &format!(r#"<Disk ovf:diskId="{id}" ovf:capacity="1"/>"#);
        }
        x += r#"</DiskSection><VirtualSystem ovf:id="v"><VirtualHardwareSection>"#;
        for (id, rtype, addr, sub) in controllers {
            x += &format!("<Item><Address>{addr}</Address><InstanceID>{id}</InstanceID><ResourceSubType>{sub}</ResourceSubType><ResourceType>{rtype}</ResourceType></Item>");
        }
        for (i, (id, parent, unit)) in disks.iter().enumerate() {
            x += &format!(
                "<Item><AddressOnParent>{unit}</AddressOnParent><HostResource>ovf:/disk/{id}</HostResource><InstanceID>{}</InstanceID><Parent>{parent}</Parent><ResourceType>17</ResourceType></Item>",
                10 + i
            );
        }
        x += "<Item><InstanceID>30</InstanceID><ResourceType>15</ResourceType><Parent>ide0</Parent></Item>";
        x += "<Item><InstanceID>31</InstanceID><ResourceType>10</ResourceType></Item>";
        x += &format!("</VirtualHardwareSection>{extra}</VirtualSystem></Envelope>");
        parse("roles.ovf", x.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{x}")).vm
    }

    /// The boot disk's index, reason code and args, and every disk's role.
    fn roles(vm: &VmSummary) -> (usize, &'static str, serde_json::Value, Vec<Role>) {
        let b = vm.boot_disk.as_ref().expect("a boot disk");
        (
            b.index,
            b.reason.code.as_str(),
            serde_json::to_value(&b.reason.args).unwrap(),
            vm.disks.iter().map(|d| d.role).collect(),
        )
    }

    fn vmw_order(entries: &[(&str, &str)]) -> String {
        entries
            .iter()
            .map(|(ty, id)| format!(r#"<vmw:BootOrderSection vmw:type="{ty}" vmw:instanceId="{id}"><Info>boot</Info></vmw:BootOrderSection>"#))
            .collect()
    }

    /// SCSI 0 holds "data" (listed first), IDE 0 holds "sys": IDE comes first.
    type Controllers<'a> = &'a [(&'a str, u32, &'a str, &'a str)];
    const SCSI_IDE: (Controllers, &[(&str, &str, u32)]) = (
        &[("scsi0", 6, "0", "lsilogic"), ("ide1", 5, "1", ""), ("ide0", 5, "0", "")],
        &[("data", "scsi0", 0), ("sys", "ide0", 1), ("swap", "ide1", 0)],
    );

    #[test]
    fn the_boot_disk_is_the_first_on_the_first_controller_without_a_boot_order() {
        use serde_json::json;
        let (c, d) = SCSI_IDE;
        let vm = with_disks(c, d, "");
        assert_eq!(
            roles(&vm),
            (
                1,
                "first_on_controller",
                json!({"disk": "sys", "controller": "IDE"}),
                vec![Role::Data, Role::Boot, Role::Data]
            )
        );
        // IDE before SATA before SCSI before NVMe; on one kind, by bus number, then unit.
        let vm = with_disks(
            &[("n", 20, "0", "vmware.nvme.controller"), ("sc", 6, "0", "pvscsi"), ("sa", 20, "1", "vmware.sata.ahci")],
            &[("a", "n", 0), ("b", "sc", 0), ("c", "sa", 1), ("d", "sa", 0)],
            "",
        );
        assert_eq!(crate::vm::controller_order(&vm.disks), [3, 2, 1, 0], "{:?}", vm.disks);
        assert_eq!(roles(&vm).2, json!({"disk": "d", "controller": "SATA (AHCI)"}));
        let vm = with_disks(
            &[("s1", 6, "1", ""), ("s0", 6, "0", "")],
            &[("a", "s1", 0), ("b", "s0", 3), ("c", "s0", 2)],
            "",
        );
        assert_eq!(roles(&vm).0, 2, "SCSI bus 0 unit 2");
        // No disk says where it is attached: the first listed.
        let vm = with_disks(&[], &[("a", "none", 0), ("b", "none", 1)], "");
        assert_eq!(roles(&vm), (0, "first_disk", json!({"disk": "a"}), vec![Role::Boot, Role::Data]));
        // No disks: no boot disk.
        assert!(with_disks(&[], &[], "").boot_disk.is_none());
    }

    #[test]
    fn a_vmware_boot_order_names_the_boot_disk() {
        use serde_json::json;
        let (c, d) = SCSI_IDE;
        // Item 10 is "data" on SCSI: the boot order outranks the controller order; a CD first is skipped.
        let vm = with_disks(c, d, &vmw_order(&[("cdrom", "30"), ("disk", "10"), ("disk", "11")]));
        assert_eq!(roles(&vm), (0, "boot_order", json!({"disk": "data"}), vec![Role::Boot, Role::Data, Role::Data]));
        let vm = with_disks(c, d, &vmw_order(&[("disk", "12")]));
        assert_eq!(roles(&vm).0, 2);
        // A dangling reference, then a good one: the good one.
        let vm = with_disks(c, d, &vmw_order(&[("disk", "99"), ("disk", "12")]));
        assert_eq!((roles(&vm).0, roles(&vm).1, roles(&vm).2), (2, "boot_order", json!({"disk": "swap"})));
        // Only dangling: the controller order, saying why.
        let vm = with_disks(c, d, &vmw_order(&[("disk", "99")]));
        assert_eq!(roles(&vm).0, 1);
        assert_eq!(roles(&vm).1, "boot_order_dangling");
        assert_eq!(roles(&vm).2, json!({"name": "99", "disk": "sys", "controller": "IDE"}));
        // "disk" naming an item that is no disk (the NIC) is dangling too.
        assert_eq!(roles(&with_disks(c, d, &vmw_order(&[("disk", "31")]))).1, "boot_order_dangling");
        // Only a network boot: no disk named.
        let vm = with_disks(c, d, &vmw_order(&[("net", "31")]));
        assert_eq!(roles(&vm).1, "boot_order_no_disk");
        assert_eq!(roles(&vm).0, 1);
    }

    #[test]
    fn an_ovf2_boot_device_section_names_the_boot_disk() {
        use serde_json::json;
        let (c, d) = SCSI_IDE;
        let section = |sources: &[&str]| {
            let mut x = String::from(
                r#"<BootDeviceSection xmlns:bootc="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_BootConfigSetting" xmlns:boots="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_BootSourceSetting"><Info>Boot order</Info><bootc:CIM_BootConfigSetting><bootc:InstanceID>order</bootc:InstanceID>"#,
            );
            for s in sources {
                x += &format!("<boots:CIM_BootSourceSetting>{s}</boots:CIM_BootSourceSetting>");
            }
            x + "</bootc:CIM_BootConfigSetting></BootDeviceSection>"
        };
        let sbs = |t: &str| format!("<boots:StructuredBootString>{t}</boots:StructuredBootString>");
        // CIM:Hard-Disk:n counts hard disks in controller order: 1 = "sys" (IDE 0), 3 = "data" (SCSI).
        let vm = with_disks(c, d, &section(&[&sbs("CIM:Network:1"), &sbs("CIM:Hard-Disk:3")]));
        assert_eq!(roles(&vm), (0, "boot_order", json!({"disk": "data"}), vec![Role::Boot, Role::Data, Role::Data]));
        assert_eq!(roles(&with_disks(c, d, &section(&[&sbs("CIM:Hard-Disk:1")]))).0, 1);
        // By the disk item's InstanceID, or by ovf:/disk/<id>.
        let by_item = "<boots:InstanceID>12</boots:InstanceID>";
        assert_eq!(roles(&with_disks(c, d, &section(&[by_item]))).0, 2);
        assert_eq!(roles(&with_disks(c, d, &section(&[&sbs("ovf:/disk/data")]))).0, 0);
        // Dangling: a fourth hard disk, a disk id that is not there.
        let vm = with_disks(c, d, &section(&[&sbs("CIM:Hard-Disk:4")]));
        assert_eq!((roles(&vm).0, roles(&vm).1), (1, "boot_order_dangling"));
        assert_eq!(roles(&vm).2["name"], "CIM:Hard-Disk:4");
        let vm = with_disks(c, d, &section(&[&sbs("ovf:/disk/gone")]));
        assert_eq!(roles(&vm).2["name"], "ovf:/disk/gone");
        // Only a CD: no disk named.
        assert_eq!(roles(&with_disks(c, d, &section(&[&sbs("CIM:CD/DVD:1")]))).1, "boot_order_no_disk");
    }

    #[test]
    fn many_elements_stay_linear_and_are_capped() {
        let build = |n: usize| {
            let mut x = String::from("<Envelope><References>");
            for i in 0..n {
                x += &format!(r#"<File id="f{i}" href="d{i}.vmdk"/>"#);
            }
            x += "</References><DiskSection>";
            for i in 0..n {
                x += &format!(r#"<Disk diskId="d{i}" fileRef="f{i}" capacity="1"/>"#);
            }
            x += r#"</DiskSection><VirtualSystem id="v"><VirtualHardwareSection><Item><InstanceID>c</InstanceID><ResourceType>6</ResourceType></Item>"#;
            for i in 0..n.min(MAX_ELEMENTS - 1) {
                x += &format!(
                    r#"<Item><InstanceID>i{i}</InstanceID><ResourceType>17</ResourceType><HostResource>ovf:/disk/d{i}</HostResource><Parent>c</Parent></Item>"#
                );
            }
            x + "</VirtualHardwareSection></VirtualSystem></Envelope>"
        };
        let t = std::time::Instant::now();
        let d = parse("many.ovf", build(MAX_ELEMENTS).as_bytes()).unwrap();
        assert_eq!(d.vm.disks.len(), MAX_ELEMENTS);
        assert_eq!(d.vm.disks[MAX_ELEMENTS - 2].controller.as_ref().unwrap().kind, "scsi");
        assert!(t.elapsed().as_secs() < 20, "{:?}", t.elapsed());
        let e = parse("many.ovf", build(MAX_ELEMENTS + 1).as_bytes()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::TooLarge);
    }
}
