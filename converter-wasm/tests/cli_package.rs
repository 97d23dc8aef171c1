//! The CLI on OVF packages and OVAs (one and several disks, `--disk`), `inspect`, and
//! interruption: Ctrl-C leaves no partial output behind.

mod common;
use common::*;
use std::path::Path;

/// An OVF 1.0 envelope in VMware's dialect with one disk per file name.
fn ovf(files: &[(&str, u64, u64)]) -> String {
    let mut refs = String::new();
    let mut disks = String::new();
    let mut items = String::new();
    for (i, (name, size, capacity)) in files.iter().enumerate() {
        refs += &format!(r#"<File ovf:href="{name}" ovf:id="file{i}" ovf:size="{size}"/>"#);
        disks += &format!(
            r#"<Disk ovf:capacity="{capacity}" ovf:diskId="vmdisk{i}" ovf:fileRef="file{i}" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>"#
        );
        items += &format!(
            r#"<Item><rasd:AddressOnParent>{i}</rasd:AddressOnParent><rasd:ElementName>Hard disk {i}</rasd:ElementName><rasd:HostResource>ovf:/disk/vmdisk{i}</rasd:HostResource><rasd:InstanceID>{}</rasd:InstanceID><rasd:Parent>3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>"#,
            10 + i
        );
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Envelope vmw:buildId="build-1" xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData" xmlns:vmw="http://www.vmware.com/schema/ovf">
<References>{refs}</References>
<DiskSection><Info>Virtual disk information</Info>{disks}</DiskSection>
<NetworkSection><Info>networks</Info><Network ovf:name="VM Network"><Description>VM Network</Description></Network></NetworkSection>
<VirtualSystem ovf:id="cli-test-vm"><Info>A virtual machine</Info><Name>cli-test-vm</Name>
<OperatingSystemSection ovf:id="101" vmw:osType="ubuntu64Guest"><Info>os</Info><Description>Ubuntu Linux (64-bit)</Description></OperatingSystemSection>
<VirtualHardwareSection><Info>hw</Info><System><vssd:ElementName>Virtual Hardware Family</vssd:ElementName><vssd:InstanceID>0</vssd:InstanceID><vssd:VirtualSystemType>vmx-19</vssd:VirtualSystemType></System>
<Item><rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits><rasd:ElementName>2 virtual CPU(s)</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>2</rasd:VirtualQuantity></Item>
<Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ElementName>2048MB of memory</rasd:ElementName><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>2048</rasd:VirtualQuantity></Item>
<Item><rasd:Address>0</rasd:Address><rasd:ElementName>SCSI controller 0</rasd:ElementName><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceSubType>lsilogic</rasd:ResourceSubType><rasd:ResourceType>6</rasd:ResourceType></Item>
{items}
<Item><rasd:AddressOnParent>7</rasd:AddressOnParent><rasd:AutomaticAllocation>true</rasd:AutomaticAllocation><rasd:Connection>VM Network</rasd:Connection><rasd:ElementName>Network adapter 1</rasd:ElementName><rasd:InstanceID>20</rasd:InstanceID><rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType><rasd:ResourceType>10</rasd:ResourceType></Item>
</VirtualHardwareSection></VirtualSystem></Envelope>
"#
    )
}

fn sha256_hex(path: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

/// Two stream-optimized disks, an OVF, a manifest and the OVA of all of them, in `dir`.
/// Tar the package's four files in `dir` into `dir/name` (ustar, in the order ovftool writes).
fn pack_ova(dir: &Path, name: &str) {
    let o = run(
        "tar",
        &[
            "-C",
            p(dir),
            "--format=ustar",
            "-cf",
            p(&dir.join(name)),
            "vm.ovf",
            "vm-disk1.vmdk",
            "vm-disk2.vmdk",
            "vm.mf",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
}

fn package(dir: &Path) -> [std::path::PathBuf; 2] {
    let mut vmdks = Vec::new();
    for (i, size) in [(1, 3 * 1048576 + 512u64), (2, 2 * 1048576)] {
        let raw = dir.join(format!("d{i}.raw"));
        write_raw(&raw, size, Pattern::Sparse, 40 + i);
        let vmdk = dir.join(format!("vm-disk{i}.vmdk"));
        make_vmdk(&raw, &vmdk, "streamOptimized");
        vmdks.push((vmdk, size));
    }
    let files: Vec<(&str, u64, u64)> = vec![
        ("vm-disk1.vmdk", std::fs::metadata(&vmdks[0].0).unwrap().len(), vmdks[0].1),
        ("vm-disk2.vmdk", std::fs::metadata(&vmdks[1].0).unwrap().len(), vmdks[1].1),
    ];
    std::fs::write(dir.join("vm.ovf"), ovf(&files)).unwrap();
    let mf = format!(
        "SHA256(vm.ovf)= {}\nSHA256(vm-disk1.vmdk)= {}\nSHA256(vm-disk2.vmdk)= {}\n",
        sha256_hex(&dir.join("vm.ovf")),
        sha256_hex(&vmdks[0].0),
        sha256_hex(&vmdks[1].0)
    );
    std::fs::write(dir.join("vm.mf"), mf).unwrap();
    pack_ova(dir, "vm.ova");
    [vmdks[0].0.clone(), vmdks[1].0.clone()]
}

#[test]
fn ova_with_two_disks_converts_each_to_numbered_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let vmdks = package(d);
    let out = d.join("out").join("vm.qcow2");
    std::fs::create_dir(d.join("out")).unwrap();
    let o = stackferry(&["convert", p(&d.join("vm.ova")), "-o", p(&out)]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!out.exists(), "several disks go to numbered files");
    for (i, vmdk) in vmdks.iter().enumerate() {
        assert_identical(
            vmdk,
            "vmdk",
            &d.join("out").join(format!("vm-{}.qcow2", i + 1)),
            "qcow2",
            &format!("disk {}", i + 1),
        );
    }
    // --disk picks one, written to OUT itself; the OVF + files given directly work the same.
    let one = d.join("two.raw");
    let o = stackferry(&[
        "convert",
        p(&d.join("vm.ovf")),
        p(&vmdks[0]),
        p(&vmdks[1]),
        "--disk",
        "2",
        "-O",
        "raw",
        "-o",
        p(&one),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_identical(&vmdks[1], "vmdk", &one, "raw", "--disk 2 from the OVF");
    let o = stackferry(&["convert", p(&d.join("vm.ova")), "--disk", "3", "-o", p(&one)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn ova_manifest_mismatch_fails_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    package(d);
    // Flip one byte inside the first disk's grain data (the disk's second half), then re-tar.
    let v = d.join("vm-disk1.vmdk");
    let mut b = std::fs::read(&v).unwrap();
    let at = b.len() / 2;
    b[at] ^= 0xff;
    std::fs::write(&v, &b).unwrap();
    pack_ova(d, "bad.ova");
    let out = d.join("bad.qcow2");
    let o = stackferry(&["convert", p(&d.join("bad.ova")), "--disk", "1", "-o", p(&out)]);
    let msg = text(&o);
    assert_ne!(o.status.code(), Some(0), "{msg}");
    assert!(msg.contains("vm-disk1.vmdk"), "names the member: {msg}");
    assert!(!out.exists() && !d.join(".bad.qcow2.part").exists());
}

/// Each disk's conversion checks its own files against the manifest: a bad second disk
/// fails only when that disk is converted (and converting the first does not read it).
#[test]
fn manifest_is_checked_per_disk() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let vmdks = package(d);
    // A byte of disk 2 where no reader looks (the descriptor area after its text, NUL-padded).
    let mut b = std::fs::read(&vmdks[1]).unwrap();
    let at = 512 + 8000;
    assert_eq!(b[at], 0, "descriptor padding");
    b[at] = 0xff;
    std::fs::write(&vmdks[1], &b).unwrap();
    pack_ova(d, "bad2.ova");
    let one = d.join("one.qcow2");
    let o = stackferry(&["convert", p(&d.join("bad2.ova")), "--disk", "1", "-o", p(&one)]);
    assert!(o.status.success(), "disk 1 is intact: {}", text(&o));
    assert_identical(&vmdks[0], "vmdk", &one, "qcow2", "disk 1 of a package whose disk 2 is damaged");
    let two = d.join("two.qcow2");
    let o = stackferry(&["convert", p(&d.join("bad2.ova")), "--disk", "2", "-o", p(&two)]);
    assert_eq!(o.status.code(), Some(4), "checksum exit status: {}", text(&o));
    assert!(
        text(&o).contains("vm-disk2.vmdk") && text(&o).contains("vm.mf"),
        "names the member and the manifest: {}",
        text(&o)
    );
    assert!(!two.exists());
    // In the library: each disk carries its check; disk 1's lists the descriptor and disk 1 only.
    let open = || {
        let src = stackferry::native::FileSource::open(&d.join("bad2.ova")).unwrap();
        stackferry::input::open(src, &stackferry::native::DirFiles::default()).unwrap()
    };
    let o = open();
    let names = o.disks[0].check.as_ref().unwrap().finish().unwrap();
    assert!(
        names.iter().any(|n| n.ends_with("vm-disk1.vmdk")) && !names.iter().any(|n| n.ends_with("vm-disk2.vmdk")),
        "{names:?}"
    );
    assert_eq!(o.disks[1].check.as_ref().unwrap().finish().unwrap_err().kind, stackferry::ErrorKind::Checksum);
    // The serial driver runs the check too: disk 2 fails as the manifest mismatch it is, with
    // its last bytes unwritten; disk 1 converts.
    for (disk, damaged) in open().disks.into_iter().zip([false, true]) {
        let plan = stackferry::plan::plan(&disk, &Default::default(), &|| false).unwrap();
        let planned = plan.output_len().unwrap();
        let mut written = 0u64;
        let r = stackferry::driver::convert_serial(disk, plan, &mut |b: &[u8]| {
            written += b.len() as u64;
            Ok(())
        });
        if damaged {
            let e = r.unwrap_err();
            assert_eq!(e.kind, stackferry::ErrorKind::Checksum, "{e}");
            assert!(e.file.ends_with("vm-disk2.vmdk") && e.message.contains("vm.mf"), "{e}");
            assert!(written < planned, "the output stays incomplete");
        } else {
            assert_eq!(r.unwrap().output_len, planned);
        }
    }
}

#[test]
fn inspect_shows_vm_and_names_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    package(d);
    let o = stackferry(&["inspect", "--json", p(&d.join("vm.ova"))]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let ins = &v[0];
    assert_eq!(ins["kind"], "ova");
    assert_eq!(ins["disks"].as_array().unwrap().len(), 2);
    assert_eq!(ins["disks"][0]["virtual_size"], 3 * 1048576 + 512);
    assert_eq!(ins["disks"][0]["subformat"], "streamOptimized");
    // Both disks on SCSI 0, no boot order: the first (unit 0) is the boot disk.
    assert_eq!(ins["vm"]["boot_disk"]["index"], 0, "{}", ins["vm"]);
    assert_eq!(ins["vm"]["boot_disk"]["reason"]["code"], "first_on_controller");
    let roles: Vec<&str> = ins["vm"]["disks"].as_array().unwrap().iter().map(|d| d["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["boot", "data"]);
    let all = serde_json::to_string(ins).unwrap();
    for needle in ["cli-test-vm", "ubuntu64Guest", "vmxnet3", "lsilogic", "hw_disk_bus"] {
        assert!(all.to_lowercase().contains(&needle.to_lowercase()), "inspect mentions {needle}: {all}");
    }
    // The OVF alone: both disks are named as missing, and the human output says so.
    let lone = tempfile::tempdir().unwrap();
    std::fs::copy(d.join("vm.ovf"), lone.path().join("vm.ovf")).unwrap();
    let o = stackferry(&["inspect", p(&lone.path().join("vm.ovf"))]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("missing: vm-disk1.vmdk") && t.contains("missing: vm-disk2.vmdk"), "{t}");
    assert_eq!(t.matches("(boot disk)").count(), 1, "{t}");
    assert!(t.contains("file vm-disk1.vmdk (boot disk)"), "{t}");
    let o = stackferry(&["convert", p(&lone.path().join("vm.ovf")), "-o", p(&lone.path().join("x.qcow2"))]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
}

#[test]
fn interrupt_removes_partial_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let raw = d.join("big.raw");
    write_raw(&raw, 4 << 30, Pattern::AllZero, 1);
    let vmdk = d.join("big.vmdk");
    make_vmdk(&raw, &vmdk, "monolithicFlat");
    let out = d.join("big.qcow2");
    // No zero scan: 4 GiB of data to write, far more than the 300 ms before the signal.
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_stackferry"))
        .args(["convert", p(&vmdk), "-o", p(&out), "--no-zero-scan"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(run("kill", &["-INT", &child.id().to_string()]).status.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", text(&o));
    assert!(text(&o).contains("cancelled"));
    let left: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("qcow2"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}
