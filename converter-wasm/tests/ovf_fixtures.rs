//! Every OVF fixture in tests/data parses, with values read from each file by hand.

use serde_json::json;
use stackferry::migration::Role;
use stackferry::openstack::suggest;
use stackferry::ovf::{self, Descriptor};
use stackferry::vm::{ControllerSummary, NicSummary, VmSummary};
use std::path::PathBuf;

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(rel)
}

fn parse(rel: &str) -> Descriptor {
    let p = data(rel);
    let bytes = std::fs::read(&p).unwrap();
    ovf::parse(&p.display().to_string(), &bytes).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn ctl(kind: &str, model: Option<&str>) -> (String, Option<String>) {
    (kind.to_string(), model.map(str::to_string))
}

fn ctl_of(c: &Option<ControllerSummary>) -> Option<(String, Option<String>)> {
    c.as_ref().map(|c| (c.kind.clone(), c.model.clone()))
}

fn nic(name: &str, model: &str, net: &str) -> NicSummary {
    NicSummary { name: name.into(), model: Some(model.into()), network: Some(net.into()), mac: None }
}

const GIB: u64 = 1 << 30;
const MIB: u64 = 1 << 20;

fn basics(vm: &VmSummary, name: &str, vcpus: Option<u32>, mem: Option<u64>, fw: &str, hw: Option<&str>) {
    assert_eq!(vm.name, name);
    assert_eq!(vm.vcpus, vcpus, "{name} vcpus");
    assert_eq!(vm.memory_mib, mem, "{name} memory");
    assert_eq!(vm.firmware, fw, "{name} firmware");
    assert_eq!(vm.hardware_version.as_deref(), hw, "{name} hardware version");
}

#[test]
fn govmomi_sles11_ovftool35_no_default_namespace() {
    let d = parse("vmware+govmomi/ovf/fixtures/external/SLES11_SP2_64/SLES11_SP2_64.ovf");
    let vm = &d.vm;
    basics(vm, "SLES11_SP2_64_Venkat", Some(2), Some(1024), "bios", Some("vmx-08"));
    assert_eq!(vm.cores_per_socket, Some(2));
    assert_eq!(vm.os.id, Some(85));
    assert_eq!(vm.os.vmw_os_type.as_deref(), Some("sles11_64Guest"));
    assert_eq!(vm.os.description.as_deref(), Some("SUSE Linux Enterprise 11 (64-bit)"));
    assert_eq!(vm.disks.len(), 1);
    let k = &vm.disks[0];
    assert_eq!(k.disk_id, "vmdisk-6316c111-ff20-4fc7-8fca-f37d798cdfc1-2000");
    // The File's href is unprefixed in this file.
    assert_eq!(k.file_name.as_deref(), Some("SLES11_SP2_64-disk1.vmdk"));
    assert_eq!(k.capacity_bytes, Some(16 * GIB));
    assert_eq!(k.populated_size, Some(5628690432));
    assert_eq!(k.file_size, Some(2278557696));
    assert_eq!(k.compression, None);
    assert_eq!(k.format.as_deref(), Some("http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"));
    assert_eq!(ctl_of(&k.controller), Some(ctl("scsi", Some("lsilogic"))));
    assert_eq!(k.controller.as_ref().unwrap().instance_id, "2");
    assert_eq!(k.address_on_parent, Some(0));
    assert_eq!(vm.nics, vec![nic("Network adapter 0", "e1000", "VM network 1")]);
    assert_eq!(vm.networks, vec!["VM network 1"]);
    let s = suggest(vm);
    assert_eq!(s.get("os_distro"), Some("sles"));
    assert_eq!(s.get("hw_disk_bus"), Some("virtio"));
    assert_eq!(s.get("hw_vif_model"), Some("virtio"));
    assert_eq!(s.get("hw_firmware_type"), Some("bios"));
    assert_eq!((s.min_disk, s.min_ram), (Some(16), Some(1024)));
    assert!(s.properties[0].reason.contains("LSI Logic"), "{}", s.properties[0].reason);
}

#[test]
fn govmomi_photon_esx() {
    let d = parse("vmware+govmomi/ovf/fixtures/external/PhotonOS/photon.ovf");
    let vm = &d.vm;
    basics(vm, "111378-Photon-1.0-Rev2-64-Open-VM-Tools-HW13", Some(1), Some(2048), "bios", Some("vmx-13"));
    assert_eq!(vm.os.id, Some(36));
    assert_eq!(vm.os.vmw_os_type.as_deref(), Some("vmwarePhoton64Guest"));
    assert_eq!(vm.os.description, None);
    let k = &vm.disks[0];
    assert_eq!((k.disk_id.as_str(), k.file_ref.as_deref()), ("vmdisk1", Some("file1")));
    assert_eq!(k.file_name.as_deref(), Some("photon-disk1.vmdk"));
    assert_eq!(k.capacity_bytes, Some(16 * GIB));
    assert_eq!(k.file_size, Some(507132416));
    assert_eq!(k.populated_size, Some(1375535104));
    assert_eq!(ctl_of(&k.controller), Some(ctl("scsi", Some("lsilogic"))));
    assert_eq!(k.address_on_parent, Some(0));
    assert_eq!(vm.nics, vec![nic("Ethernet 1", "e1000e", "VM Network")]);
    assert_eq!(vm.networks, vec!["VM Network"]);
    let s = suggest(vm);
    assert_eq!(s.get("os_type"), Some("linux"));
    assert_eq!(s.get("hw_disk_bus"), Some("virtio"));
}

#[test]
fn govmomi_gzip_template_old_spellings() {
    let d = parse("vmware+govmomi/ovf/fixtures/external/OVFToolTemplates/ovftoolresources/gzip_compression.ovf");
    let vm = &d.vm;
    // No <Name>: the VirtualSystem's ovf:id; no CPU or memory items.
    basics(vm, "PTC01_VM", None, None, "bios", Some("vmx-04"));
    assert_eq!(vm.os.id, Some(36));
    assert_eq!(vm.os.description.as_deref(), Some("Other Linux (32-bit)"));
    let k = &vm.disks[0];
    assert_eq!(k.file_name.as_deref(), Some("valid_disk_gzip.vmdk.gz"));
    assert_eq!(k.compression.as_deref(), Some("gzip"));
    assert_eq!(k.file_size, Some(329197568));
    assert_eq!(k.capacity_bytes, Some(329197568));
    // "InstanceId", "/disk/vmdisk1" and a subtype list "someother, lsilogic".
    assert_eq!(ctl_of(&k.controller), Some(ctl("scsi", Some("lsilogic"))));
    assert_eq!(k.controller.as_ref().unwrap().subtype.as_deref(), Some("someother, lsilogic"));
    assert_eq!(k.controller.as_ref().unwrap().instance_id, "8");
    assert_eq!(k.address_on_parent, Some(0));
    assert!(vm.nics.is_empty() && vm.networks.is_empty());
    assert_eq!(d.files.len(), 1);
    assert_eq!(d.files[0].compression.as_deref(), Some("gzip"));
    let s = suggest(vm);
    assert_eq!(s.get("os_type"), Some("linux"), "CIM 36 = LINUX");
    assert_eq!(s.min_disk, Some(1));
    assert_eq!(s.min_ram, None);
}

#[test]
fn govmomi_linuxvm_virtualcenter() {
    let d = parse("vmware+govmomi/ovf/fixtures/external/LinuxVM-New/LinuxVM-22.ovf");
    let vm = &d.vm;
    basics(vm, "LinuxVM-22", Some(1), Some(256), "bios", Some("vmx-04"));
    assert_eq!(vm.os.id, Some(79));
    assert_eq!(vm.os.vmw_os_type.as_deref(), Some("rhel5Guest"));
    assert_eq!(vm.os.description.as_deref(), Some("Red Hat Enterprise Linux 5 (32-bit)"));
    let k = &vm.disks[0];
    assert_eq!(k.file_name.as_deref(), Some("LinuxVM-22-disk1.vmdk"));
    assert_eq!(k.capacity_bytes, Some(2 * GIB));
    assert_eq!(k.file_size, Some(258755584));
    assert_eq!(ctl_of(&k.controller), Some(ctl("scsi", Some("lsilogic"))));
    assert_eq!(vm.nics, vec![nic("Network adapter 1", "pcnet32", "VM Network")]);
    let s = suggest(vm);
    assert_eq!(s.get("os_distro"), Some("rhel"));
    assert_eq!(s.get("hw_disk_bus"), Some("virtio"));
    assert_eq!(s.flavor.vcpus, Some(1));
    assert_eq!(s.flavor.ram_mib, Some(256));
    assert_eq!(s.flavor.disk_gib, Some(2));
}

#[test]
fn govmomi_ttylinux_efi_on_ide() {
    let d = parse("vmware+govmomi/vapi/library/testdata/ttylinux-pc_i486-16.1.ovf");
    let vm = &d.vm;
    basics(vm, "ttylinux-pc_i486-16.1", Some(1), Some(32), "efi", Some("vmx-09"));
    assert_eq!(vm.os.vmw_os_type.as_deref(), Some("otherLinuxGuest"));
    let k = &vm.disks[0];
    assert_eq!(k.file_name.as_deref(), Some("ttylinux-pc_i486-16.1-disk1.vmdk"));
    assert_eq!(k.capacity_bytes, Some(30 * MIB));
    assert_eq!(k.file_size, Some(10595840));
    assert_eq!(k.populated_size, Some(18743296));
    assert_eq!(ctl_of(&k.controller), Some(ctl("ide", None)));
    assert_eq!(vm.nics, vec![nic("ethernet0", "e1000", "nat")]);
    assert_eq!(vm.networks, vec!["nat"]);
    let s = suggest(vm);
    assert_eq!(s.get("hw_firmware_type"), Some("uefi"));
    assert_eq!(s.get("hw_machine_type"), Some("q35"));
    assert_eq!(s.get("os_secure_boot"), None);
    assert_eq!(s.get("os_type"), Some("linux"));
    assert_eq!(s.get("os_distro"), None, "otherLinux names no distribution");
    assert_eq!(s.min_disk, Some(1));
}

#[test]
fn cot_virtualbox_ovf2() {
    let d = parse("glennmatthews+cot/COT/tests/ubuntu.2.0.ovf");
    let vm = &d.vm;
    basics(vm, "ubuntu", Some(1), Some(512), "bios", Some("virtualbox-2.2"));
    assert_eq!(vm.os.id, Some(94));
    assert_eq!(vm.os.vbox_os_type.as_deref(), Some("Ubuntu_64"));
    assert_eq!(vm.os.vmw_os_type, None);
    let k = &vm.disks[0];
    assert_eq!(k.file_name.as_deref(), Some("ubuntu.2.0-disk1.vmdk"));
    assert_eq!(k.capacity_bytes, Some(8 * GIB));
    assert_eq!(k.file_size, None);
    // StorageItem (sasd) → SATA controller item, ResourceType 20 "AHCI".
    assert_eq!(ctl_of(&k.controller), Some(ctl("sata", Some("ahci"))));
    assert_eq!(k.address_on_parent, Some(0));
    // EthernetPortItem (epasd), named by its Caption.
    assert_eq!(vm.nics, vec![nic("Ethernet adapter on 'NAT'", "e1000", "NAT")]);
    assert_eq!(vm.networks, vec!["NAT"]);
    let s = suggest(vm);
    assert_eq!(s.get("os_distro"), Some("ubuntu"));
    assert_eq!(s.get("hw_disk_bus"), Some("virtio"));
    assert_eq!(s.min_disk, Some(8));
}

#[test]
fn cot_vmware_prefixed_elements() {
    let d = parse("glennmatthews+cot/COT/tests/vmware.ovf");
    let vm = &d.vm;
    basics(vm, "vmw", Some(2), Some(1536), "bios", Some("vmx-08"));
    assert_eq!(vm.os.id, Some(80));
    assert_eq!(vm.os.vmw_os_type.as_deref(), Some("rhel6_64Guest"));
    let k = &vm.disks[0];
    assert_eq!(k.file_name.as_deref(), Some("input.vmdk"));
    assert_eq!(k.capacity_bytes, Some(GIB));
    assert_eq!(k.file_size, Some(152576));
    // ResourceSubType "virtio lsilogic": alternatives, the first is reported.
    assert_eq!(ctl_of(&k.controller), Some(ctl("scsi", Some("virtio"))));
    assert_eq!(vm.nics.len(), 4);
    for (i, n) in vm.nics.iter().enumerate() {
        assert_eq!(n, &nic(&format!("Network adapter {}", i + 1), "e1000", "lanethernet0"));
    }
    assert_eq!(vm.networks, vec!["lanethernet0"]);
}

#[test]
fn mdx1_minimal_descriptors() {
    let d = parse("tk4terui+mdx1/ovf/000001/000001.ovf");
    let vm = &d.vm;
    basics(vm, "000_bios", None, None, "bios", Some("vmx-18"));
    assert_eq!(vm.os.id, Some(102));
    assert_eq!(vm.os.vmw_os_type.as_deref(), Some("otherGuest64"));
    let k = &vm.disks[0];
    assert_eq!(k.file_name.as_deref(), Some("1mb.vmdk"));
    assert_eq!(k.capacity_bytes, Some(MIB));
    // No disk item references the disk.
    assert_eq!(k.controller, None);
    let s = suggest(vm);
    assert_eq!(s.get("os_type"), None);
    assert_eq!(s.get("hw_disk_bus"), Some("ide"));
    assert_eq!(s.get("hw_vif_model"), Some("e1000"));

    let d = parse("tk4terui+mdx1/ovf/00_000_essential_none_00_00/vm.ovf");
    let vm = &d.vm;
    basics(vm, "00_000_essential_none_00_00", None, None, "bios", None);
    assert_eq!(vm.os.id, Some(1));
    let k = &vm.disks[0];
    assert_eq!(k.file_name.as_deref(), Some("64KiB.vmdk"));
    assert_eq!(k.capacity_bytes, Some(64 << 10));
    // The disk item has no Parent.
    assert_eq!((k.controller.clone(), k.address_on_parent), (None, None));
}

#[test]
fn every_fixture_parses() {
    let mut n = 0;
    let mut stack = vec![data("")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "ovf") {
                let b = std::fs::read(&p).unwrap();
                let d = ovf::parse(&p.display().to_string(), &b).unwrap_or_else(|e| panic!("{e}"));
                assert!(!d.vm.name.is_empty() && !d.vm.disks.is_empty(), "{}", p.display());
                // Exactly one boot disk, the one `boot_disk` names.
                let boot = d.vm.boot_disk.as_ref().unwrap_or_else(|| panic!("{}: no boot disk", p.display()));
                let boots: Vec<usize> = (0..d.vm.disks.len()).filter(|&i| d.vm.disks[i].role == Role::Boot).collect();
                assert_eq!(boots, [boot.index], "{}", p.display());
                n += 1;
            }
        }
    }
    assert_eq!(n, 11);
}

/// The boot disk's index, reason code and args.
fn boot_disk(vm: &VmSummary) -> (usize, &'static str, serde_json::Value) {
    let b = vm.boot_disk.as_ref().expect("a boot disk");
    (b.index, b.reason.code.as_str(), serde_json::to_value(&b.reason.args).unwrap())
}

/// A VM exported by vCenter with two disks on IDE 0 and `vmw:BootOrderSection` naming the
/// first disk's item (8); the same descriptor edited to name the second (9), an item that does
/// not exist, the CD (7, as a "cdrom"), or no boot order.
#[test]
fn govmomi_yvm_boot_order_names_the_boot_disk() {
    let rel = "vmware+govmomi/ovf/fixtures/external/ovfperforce/yVM/yVM.ovf";
    let d = parse(rel);
    assert_eq!(d.vm.disks.len(), 2);
    assert_eq!(boot_disk(&d.vm), (0, "boot_order", json!({"disk": "vmdisk1"})));
    assert_eq!(d.vm.disks.iter().map(|k| k.role).collect::<Vec<_>>(), [Role::Boot, Role::Data]);

    let text = std::fs::read_to_string(data(rel)).unwrap();
    let section = r#"<vmw:BootOrderSection vmw:instanceId="8" vmw:type="disk">"#;
    assert!(text.contains(section));
    let edited = |replacement: &str| {
        let t = text.replace(section, replacement);
        ovf::parse("yVM-edited.ovf", t.as_bytes()).unwrap().vm
    };
    let vm = edited(r#"<vmw:BootOrderSection vmw:instanceId="9" vmw:type="disk">"#);
    assert_eq!(boot_disk(&vm), (1, "boot_order", json!({"disk": "vmdisk2"})));
    assert_eq!(vm.disks.iter().map(|k| k.role).collect::<Vec<_>>(), [Role::Data, Role::Boot]);
    let vm = edited(r#"<vmw:BootOrderSection vmw:instanceId="42" vmw:type="disk">"#);
    assert_eq!(
        boot_disk(&vm),
        (0, "boot_order_dangling", json!({"name": "42", "disk": "vmdisk1", "controller": "IDE"}))
    );
    let vm = edited(r#"<vmw:BootOrderSection vmw:instanceId="7" vmw:type="cdrom">"#);
    assert_eq!(boot_disk(&vm), (0, "boot_order_no_disk", json!({"disk": "vmdisk1", "controller": "IDE"})));
    let t = text.replace("BootOrderSection", "OtherSection");
    let vm = ovf::parse("yVM-edited.ovf", t.as_bytes()).unwrap().vm;
    assert_eq!(boot_disk(&vm), (0, "first_on_controller", json!({"disk": "vmdisk1", "controller": "IDE"})));
}

/// vSphere 8 exports (BIOS, with an NVRAM file): one disk on LSI Logic SAS, named by the boot
/// order, with a CD on SATA.
#[test]
fn govmomi_vbs_boot_order_on_lsi_logic_sas() {
    let d = parse("vmware+govmomi/ovf/fixtures/external/vbs/bios-with-uuid-and-boot-order-nvram.ovf");
    assert_eq!(ctl_of(&d.vm.disks[0].controller), Some(ctl("scsi", Some("lsilogicsas"))));
    assert_eq!(boot_disk(&d.vm), (0, "boot_order", json!({"disk": "vmdisk1"})));
}

/// Without a boot order: the disk on the first controller, or the first disk when none says.
#[test]
fn fixtures_without_a_boot_order_boot_the_first_disk_by_controller() {
    let d = parse("glennmatthews+cot/COT/tests/vmware.ovf");
    assert_eq!(boot_disk(&d.vm), (0, "first_on_controller", json!({"disk": "vmdisk1", "controller": "virtio-scsi"})));
    let d = parse("glennmatthews+cot/COT/tests/ubuntu.2.0.ovf");
    assert_eq!(boot_disk(&d.vm).1, "first_on_controller");
    let d = parse("tk4terui+mdx1/ovf/00_000_essential_none_00_00/vm.ovf");
    assert_eq!(boot_disk(&d.vm).1, "first_disk");
}

#[test]
fn inspect_checks_the_descriptor_against_its_manifest() {
    use stackferry::source::SourceRef;
    let p = data("glennmatthews+cot/COT/tests/ubuntu.2.0.ovf");
    let src: SourceRef = stackferry::native::FileSource::open(&p).unwrap();
    let files = stackferry::native::DirFiles::default();
    let ins = ovf::inspect(src, &files).unwrap();
    assert_eq!(ins.vm.as_ref().unwrap().name, "ubuntu");
    assert!(ins.missing.is_empty(), "{:?}", ins.missing);
    assert_eq!(ins.disks.len(), 1);
    assert!(ins.disks[0].files.iter().any(|f| f.name.ends_with("ubuntu.2.0-disk1.vmdk") && f.present));
    // Read from the VMDK itself (streamOptimized, 8 GiB), not from the descriptor.
    assert_eq!((ins.disks[0].subformat.as_str(), ins.disks[0].virtual_size), ("streamOptimized", 8 << 30));
    assert_eq!(
        ins.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
        vec![format!("{}: manifest digests of the disks are checked during conversion", p.display())]
    );
    // Information, not a warning: the page shows it as such.
    assert_eq!(ins.warnings[0].code, stackferry::NoticeCode::Warn(stackferry::WarnCode::ManifestChecked));
    assert!(ins.warnings[0].is_info());
    assert!(
        !ins.warnings.iter().any(|w| w.to_string().contains("does not match") || w.to_string().contains("no manifest")),
        "{:?}",
        ins.warnings
    );

    // vmware.ovf has no manifest; blank.vmdk is not referenced; input.vmdk is present.
    let p = data("glennmatthews+cot/COT/tests/vmware.ovf");
    let ins = ovf::inspect(stackferry::native::FileSource::open(&p).unwrap(), &files).unwrap();
    assert!(ins.warnings.iter().any(|w| w.to_string().contains("no manifest")), "{:?}", ins.warnings);
    let no_mf = ins.warnings.iter().find(|w| w.code == stackferry::NoticeCode::Warn(stackferry::WarnCode::NoManifest));
    assert_eq!(no_mf.and_then(|w| w.args.name.as_deref()), Some("vmware.mf"), "{:?}", ins.warnings);
    assert!(!no_mf.unwrap().is_info());
    assert!(ins.missing.is_empty());

    // govmomi fixtures ship without their disks: listed as missing, not an error.
    let p = data("vmware+govmomi/ovf/fixtures/external/PhotonOS/photon.ovf");
    let ins = stackferry::input::inspect(stackferry::native::FileSource::open(&p).unwrap(), &files).unwrap();
    assert_eq!(ins.missing, vec!["photon-disk1.vmdk"]);
    assert_eq!(ins.disks[0].virtual_size, 16 * GIB);
    assert_eq!(ins.suggestion.as_ref().unwrap().get("hw_disk_bus"), Some("virtio"));
    let e = ovf::open(stackferry::native::FileSource::open(&p).unwrap(), &files).err().unwrap();
    assert_eq!(e.kind, stackferry::ErrorKind::MissingFile);
    assert!(e.message.contains("photon-disk1.vmdk"), "{e}");
}
