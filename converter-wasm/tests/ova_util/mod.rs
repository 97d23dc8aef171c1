//! Helpers for the OVA/OVF tests: random disks made into VMDKs by qemu-img, OVF text, tar
//! archives written by Python's tarfile (ustar, pax, GNU), manifests.
#![allow(dead_code)]

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Deterministic pseudo-random bytes.
pub fn rand_bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A raw disk of `size` bytes: random 64 KiB runs at scattered places, zeros elsewhere.
pub fn make_raw(dir: &Path, name: &str, size: usize, seed: u64) -> PathBuf {
    let mut d = vec![0u8; size];
    let r = rand_bytes(seed, size / 4);
    let mut i = 0;
    let mut k = 0usize;
    while i + 65536 <= size {
        if k % 3 != 1 {
            let n = 65536 - (k * 4099) % 30000;
            d[i..i + n].copy_from_slice(&r[(k * 7919) % (r.len() - 65536)..][..n]);
        }
        i += 65536 * (1 + k % 4);
        k += 1;
    }
    let p = dir.join(name);
    std::fs::write(&p, d).unwrap();
    p
}

pub fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// `qemu-img convert -O vmdk -o subformat=streamOptimized raw out`.
pub fn stream_vmdk(raw: &Path, out: &Path) {
    run(Command::new("qemu-img")
        .args(["convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized"])
        .arg(raw)
        .arg(out));
}

/// qemu-img's raw reading of any image.
pub fn qemu_raw(img: &Path, out: &Path) -> Vec<u8> {
    run(Command::new("qemu-img").args(["convert", "-O", "raw"]).arg(img).arg(out));
    std::fs::read(out).unwrap()
}

pub fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// A VMware-style OVF 1.0 for one disk file.
pub struct OvfSpec<'a> {
    pub name: &'a str,
    pub href: &'a str,
    pub file_size: Option<u64>,
    pub capacity: u64,
    pub compression: Option<&'a str>,
    pub chunk: Option<u64>,
    pub os_type: &'a str,
    pub firmware: &'a str,
}

pub fn ovf_text(s: &OvfSpec) -> String {
    let size = s.file_size.map(|v| format!(r#" ovf:size="{v}""#)).unwrap_or_default();
    let comp = s.compression.map(|v| format!(r#" ovf:compression="{v}""#)).unwrap_or_default();
    let chunk = s.chunk.map(|v| format!(r#" ovf:chunkSize="{v}""#)).unwrap_or_default();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Envelope vmw:buildId="build-1" xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vmw="http://www.vmware.com/schema/ovf" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData">
  <References>
    <File ovf:href="{href}" ovf:id="file1"{size}{comp}{chunk}/>
  </References>
  <DiskSection>
    <Info>Virtual disk information</Info>
    <Disk ovf:capacity="{cap}" ovf:capacityAllocationUnits="byte" ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <NetworkSection><Info>nets</Info><Network ovf:name="VM Network"><Description>n</Description></Network></NetworkSection>
  <VirtualSystem ovf:id="{name}">
    <Info>A virtual machine</Info>
    <Name>{name}</Name>
    <OperatingSystemSection ovf:id="101" vmw:osType="{os}"><Info>os</Info></OperatingSystemSection>
    <VirtualHardwareSection>
      <Info>hw</Info>
      <System><vssd:ElementName>Virtual Hardware Family</vssd:ElementName><vssd:InstanceID>0</vssd:InstanceID><vssd:VirtualSystemType>vmx-19</vssd:VirtualSystemType></System>
      <Item><rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits><rasd:ElementName>2 virtual CPU(s)</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>2</rasd:VirtualQuantity></Item>
      <Item><rasd:AllocationUnits>byte * 2^30</rasd:AllocationUnits><rasd:ElementName>mem</rasd:ElementName><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>4</rasd:VirtualQuantity></Item>
      <Item><rasd:Address>0</rasd:Address><rasd:ElementName>SCSI controller 0</rasd:ElementName><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceSubType>VirtualSCSI</rasd:ResourceSubType><rasd:ResourceType>6</rasd:ResourceType></Item>
      <Item><rasd:AddressOnParent>0</rasd:AddressOnParent><rasd:ElementName>Hard disk 1</rasd:ElementName><rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource><rasd:InstanceID>4</rasd:InstanceID><rasd:Parent>3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>
      <Item><rasd:AddressOnParent>7</rasd:AddressOnParent><rasd:Connection>VM Network</rasd:Connection><rasd:ElementName>Network adapter 1</rasd:ElementName><rasd:InstanceID>5</rasd:InstanceID><rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType><rasd:ResourceType>10</rasd:ResourceType></Item>
      <vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="{fw}"/>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
"#,
        href = s.href,
        cap = s.capacity,
        name = s.name,
        os = s.os_type,
        fw = s.firmware
    )
}

/// One member as laid out by Python's tarfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TarMember {
    pub name: String,
    /// Offset of the first header block (extended headers included).
    pub offset: u64,
    pub offset_data: u64,
    pub size: u64,
}

/// Write a tar archive with Python's tarfile in `format` ("ustar", "pax", "gnu") from
/// `(member name, content)` pairs (names are written exactly as given) plus `pax_headers` for
/// the archive; returns the members as tarfile reads them back.
pub fn build_tar(dir: &Path, out: &Path, format: &str, members: &[(&str, &[u8])], extra: &str) -> Vec<TarMember> {
    let mut spec = Vec::new();
    for (i, (name, content)) in members.iter().enumerate() {
        let p = dir.join(format!("member-{i}.bin"));
        std::fs::write(&p, content).unwrap();
        spec.push(serde_json::json!({"name": name, "path": p}));
    }
    let spec_path = dir.join("tar-spec.json");
    std::fs::write(&spec_path, serde_json::to_vec(&spec).unwrap()).unwrap();
    let script = r#"
import json, sys, tarfile
spec = json.load(open(sys.argv[1]))
fmt = {"ustar": tarfile.USTAR_FORMAT, "pax": tarfile.PAX_FORMAT, "gnu": tarfile.GNU_FORMAT}[sys.argv[3]]
extra = sys.argv[4]
with tarfile.open(sys.argv[2], "w", format=fmt) as t:
    for m in spec:
        ti = tarfile.TarInfo(m["name"])
        data = open(m["path"], "rb").read()
        ti.size = len(data)
        ti.mode = 0o644
        if extra.startswith("comment="):
            ti.pax_headers = {"comment": "x" * int(extra[8:])}
        with open(m["path"], "rb") as f:
            t.addfile(ti, f)
    if extra.startswith("many="):
        for i in range(int(extra[5:])):
            ti = tarfile.TarInfo("f%d" % i)
            t.addfile(ti)
out = []
if not extra.startswith("many="):
    with tarfile.open(sys.argv[2]) as t:
        for ti in t.getmembers():
            out.append({"name": ti.name, "offset": ti.offset, "offset_data": ti.offset_data, "size": ti.size})
print(json.dumps(out))
"#;
    let stdout = run(Command::new("python3").arg("-c").arg(script).arg(&spec_path).arg(out).arg(format).arg(extra));
    let v: Vec<serde_json::Value> = serde_json::from_slice(&stdout).unwrap();
    v.iter()
        .map(|m| TarMember {
            name: m["name"].as_str().unwrap().to_string(),
            offset: m["offset"].as_u64().unwrap(),
            offset_data: m["offset_data"].as_u64().unwrap(),
            size: m["size"].as_u64().unwrap(),
        })
        .collect()
}

/// A manifest with SHA256 lines for `(name, content)`.
pub fn manifest(files: &[(&str, &[u8])]) -> Vec<u8> {
    files.iter().map(|(n, c)| format!("SHA256({n})= {}\n", sha256_hex(c))).collect::<String>().into_bytes()
}
