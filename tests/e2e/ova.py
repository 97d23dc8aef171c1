#!/usr/bin/env python3
"""Packages a raw guest disk the way an ESXi "Export OVF Template" / ovftool does, and finds or
corrupts single grains of such a VMDK for the end-to-end test's negative control.

Subcommands (each prints one JSON object on stdout):
  vmdk RAW OUT.vmdk [--adapter lsilogic] [--hw-version 13]
      streamOptimized VMDK in ovftool's layout (below).
  ovf OUT.ovf --name NAME --vmdk DISK.vmdk --capacity BYTES --populated BYTES
      [--firmware bios|efi] [--cpus N] [--memory-mib N] [--hw-version N] [--os-type ID]
      VMware-style OVF 1.0 envelope, modeled on an ESXi 6.5+ export.
  pack OUTDIR NAME [--keep-mf] [--mf-second]
      NAME.mf (SHA256 lines for NAME.ovf and the disk files it references) and NAME.ova
      (ustar: OVF first, then the disks, then the manifest; --mf-second puts the manifest right
      after the OVF instead, the order DSP0243 prescribes and ovftool writes). --keep-mf packs
      an existing .mf unchanged (a stale manifest, for negative tests).
  locate VMDK GUEST_OFFSET
      finds the grain holding GUEST_OFFSET through the footer's grain directory and grain table.
  corrupt VMDK GUEST_OFFSET [--count N]
      locate, then flips N bytes (default 16) in the middle of that grain's compressed data.

streamOptimized layout written (VMware "Virtual Disk Format 5.0", as ovftool writes it):
  sector 0      sparse extent header, version 3, flags 0x30001 (valid newline test, compressed
                grains, markers), gdOffset = GD_AT_END (all ones), compressAlgorithm 1 (deflate)
  sector 1..    the text descriptor (createType="streamOptimized")
  overHead (128) onward, one grain table's span (512 grains = 32 MiB) at a time:
                each non-zero grain as a grain marker (u64 LBA, u32 compressed size) + zlib data,
                padded to a sector; then, if the span had any grain, a GT marker + the grain table
  then          GD marker + grain directory, footer marker + footer (the header again with the
                real gdOffset), end-of-stream marker (one zero sector).
All-zero grains are not written (the grain table entry stays 0), as ovftool does.
qemu-img writes streamOptimized differently (grain directory in the header, no footer, no GT/GD
markers, no end-of-stream marker), so this writer is used instead of qemu-img.
"""
import argparse
import datetime
import hashlib
import json
import os
import random
import struct
import sys
import tarfile
import time
import xml.sax.saxutils as sx
import zlib

SECTOR = 512
GRAIN_SECTORS = 128          # 64 KiB grains, the VMware default
GTES_PER_GT = 512            # grain table entries per table (fixed by the format)
OVERHEAD_SECTORS = 128       # first grain at 64 KiB, as ovftool writes
GD_AT_END = 0xFFFFFFFFFFFFFFFF
FLAGS = 0x1 | 0x10000 | 0x20000
MARKER_EOS, MARKER_GT, MARKER_GD, MARKER_FOOTER = 0, 1, 2, 3
HEADER_FMT = "<4sIIQQQQIQQQB4sH"   # SparseExtentHeader up to compressAlgorithm (79 bytes)


def header(capacity, desc_sectors, gd_offset):
    h = struct.pack(HEADER_FMT, b"KDMV", 3, FLAGS, capacity, GRAIN_SECTORS, 1, desc_sectors,
                    GTES_PER_GT, 0, gd_offset, OVERHEAD_SECTORS, 0, b"\n \r\n", 1)
    return h.ljust(SECTOR, b"\0")


def meta_marker(num_sectors, mtype):
    return struct.pack("<QII", num_sectors, 0, mtype).ljust(SECTOR, b"\0")


def pad(b):
    return b + b"\0" * (-len(b) % SECTOR)


def descriptor(capacity, name, adapter, hw_version):
    cid = random.getrandbits(32) | 1
    long_cid = "%032x" % random.getrandbits(128)
    heads, secs = (16, 63) if adapter == "ide" else (255, 63)
    cyls = max(1, min(65535, capacity // (heads * secs)))
    uuid = " ".join("%02x" % b for b in os.urandom(8)) + "-" + " ".join("%02x" % b for b in os.urandom(8))
    text = f"""# Disk DescriptorFile
version=1
encoding="UTF-8"
CID={cid:08x}
parentCID=ffffffff
createType="streamOptimized"

# Extent description
RDONLY {capacity} SPARSE "{name}"

# The Disk Data Base
#DDB

ddb.adapterType = "{adapter}"
ddb.geometry.cylinders = "{cyls}"
ddb.geometry.heads = "{heads}"
ddb.geometry.sectors = "{secs}"
ddb.longContentID = "{long_cid}"
ddb.toolsInstallType = "4"
ddb.toolsVersion = "12352"
ddb.uuid = "{uuid}"
ddb.virtualHWVersion = "{hw_version}"
"""
    return text.encode()


def write_vmdk(raw, out, adapter="lsilogic", hw_version=13):
    size = os.path.getsize(raw)
    if size % SECTOR:
        raise SystemExit(f"{raw}: size {size} is not a multiple of {SECTOR}")
    capacity = size // SECTOR
    grain_bytes = GRAIN_SECTORS * SECTOR
    num_grains = (capacity + GRAIN_SECTORS - 1) // GRAIN_SECTORS
    num_gts = (num_grains + GTES_PER_GT - 1) // GTES_PER_GT
    desc = descriptor(capacity, os.path.basename(out), adapter, hw_version)
    desc_sectors = (len(desc) + SECTOR - 1) // SECTOR
    if 1 + desc_sectors > OVERHEAD_SECTORS:
        raise SystemExit("descriptor too large")
    gd = [0] * num_gts
    populated = 0
    grains = 0
    zero = bytes(grain_bytes)
    with open(raw, "rb") as src, open(out, "wb") as dst:
        dst.write(header(capacity, desc_sectors, GD_AT_END))
        dst.write(pad(desc))
        dst.write(b"\0" * ((OVERHEAD_SECTORS - 1 - desc_sectors) * SECTOR))
        for t in range(num_gts):
            gt = [0] * GTES_PER_GT
            for i in range(GTES_PER_GT):
                g = t * GTES_PER_GT + i
                if g >= num_grains:
                    break
                src.seek(g * grain_bytes)
                data = src.read(grain_bytes)
                if data == zero[:len(data)]:
                    continue
                comp = zlib.compress(data, 6)
                gt[i] = dst.tell() // SECTOR
                dst.write(pad(struct.pack("<QI", g * GRAIN_SECTORS, len(comp)) + comp))
                populated += len(data)
                grains += 1
            if any(gt):
                dst.write(meta_marker(GTES_PER_GT * 4 // SECTOR, MARKER_GT))
                gd[t] = dst.tell() // SECTOR
                dst.write(pad(struct.pack("<%dI" % GTES_PER_GT, *gt)))
        gd_bytes = pad(struct.pack("<%dI" % num_gts, *gd))
        dst.write(meta_marker(len(gd_bytes) // SECTOR, MARKER_GD))
        gd_offset = dst.tell() // SECTOR
        dst.write(gd_bytes)
        dst.write(meta_marker(1, MARKER_FOOTER))
        dst.write(header(capacity, desc_sectors, gd_offset))
        dst.write(bytes(SECTOR))   # end-of-stream marker
    return {"vmdk": os.path.abspath(out), "virtual_size": size, "vmdk_size": os.path.getsize(out),
            "populated_size": populated, "grains": grains, "grain_tables": sum(1 for x in gd if x)}


def locate(vmdk, guest_offset):
    """Guest offset -> the grain's marker and compressed data, via footer -> GD -> GT."""
    with open(vmdk, "rb") as f:
        f.seek(0, 2)
        size = f.tell()
        f.seek(0)
        hdr = struct.unpack(HEADER_FMT, f.read(79))
        if hdr[0] != b"KDMV":
            raise SystemExit(f"{vmdk}: not a sparse VMDK")
        gd_offset = hdr[9]
        if gd_offset == GD_AT_END:
            f.seek(size - 3 * SECTOR)
            mk = struct.unpack("<QII", f.read(16))
            if mk[2] != MARKER_FOOTER:
                raise SystemExit(f"{vmdk}: no footer marker at offset {size - 3 * SECTOR}")
            f.seek(size - 2 * SECTOR)
            footer = struct.unpack(HEADER_FMT, f.read(79))
            gd_offset = footer[9]
        capacity, grain_sectors, gtes = hdr[3], hdr[4], hdr[7]
        if guest_offset >= capacity * SECTOR:
            raise SystemExit(f"offset {guest_offset} beyond the disk ({capacity * SECTOR})")
        g = guest_offset // (grain_sectors * SECTOR)
        f.seek(gd_offset * SECTOR + 4 * (g // gtes))
        (gt_sector,) = struct.unpack("<I", f.read(4))
        if gt_sector == 0:
            return {"grain": g, "allocated": False}
        f.seek(gt_sector * SECTOR + 4 * (g % gtes))
        (grain_sector,) = struct.unpack("<I", f.read(4))
        if grain_sector == 0:
            return {"grain": g, "allocated": False}
        f.seek(grain_sector * SECTOR)
        lba, csize = struct.unpack("<QI", f.read(12))
        if lba != g * grain_sectors:
            raise SystemExit(f"{vmdk}: grain marker at sector {grain_sector} has LBA {lba}, expected {g * grain_sectors}")
        return {"grain": g, "allocated": True, "grain_lba": lba, "gd_offset": gd_offset * SECTOR,
                "gt_offset": gt_sector * SECTOR, "marker_offset": grain_sector * SECTOR,
                "data_offset": grain_sector * SECTOR + 12, "compressed_size": csize}


def corrupt(vmdk, guest_offset, count=16):
    loc = locate(vmdk, guest_offset)
    if not loc["allocated"]:
        raise SystemExit(f"{vmdk}: the grain holding offset {guest_offset} is not allocated")
    count = max(1, min(count, loc["compressed_size"] - 8))
    at = loc["data_offset"] + loc["compressed_size"] // 2 - count // 2
    with open(vmdk, "r+b") as f:
        f.seek(at)
        b = f.read(count)
        f.seek(at)
        f.write(bytes(x ^ 0xFF for x in b))
    loc.update({"flipped_at": at, "flipped_bytes": count})
    return loc


# --- OVF ----------------------------------------------------------------------------------------
OS_TYPES = {  # vmw:osType -> CIM OperatingSystem id, as ESXi exports them
    "other4xLinux64Guest": 101, "other3xLinux64Guest": 101, "otherLinux64Guest": 101,
    "other26xLinux64Guest": 100,
}


def capacity_units(capacity):
    """`ovf:capacity` and its units as ESXi writes them: the largest power of two that divides."""
    if capacity % (1 << 30) == 0:
        return capacity >> 30, "byte * 2^30"
    if capacity % (1 << 20) == 0:
        return capacity >> 20, "byte * 2^20"
    return capacity, "byte"


def write_ovf(out, name, vmdks, capacities, populated, firmware="bios", cpus=1, memory_mib=256,
              hw_version=13, os_type="other4xLinux64Guest"):
    """One VM whose disks (VMDK paths, capacities and populated sizes, in order) hang off SCSI
    controller 0 at units 0, 1, ... as ESXi numbers them; the first is the boot disk."""
    e = sx.escape
    q = sx.quoteattr
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    os_id = OS_TYPES.get(os_type, 102)
    files, disks, items = [], [], []
    for i, (vmdk, capacity, pop) in enumerate(zip(vmdks, capacities, populated), 1):
        cap, unit = capacity_units(capacity)
        files.append(f'    <File ovf:href={q(os.path.basename(vmdk))} ovf:id="file{i}" ovf:size="{os.path.getsize(vmdk)}"/>')
        disks.append(f'    <Disk ovf:capacity="{cap}" ovf:capacityAllocationUnits="{unit}" ovf:diskId="vmdisk{i}" ovf:fileRef="file{i}" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized" ovf:populatedSize="{pop}"/>')
        # InstanceIDs as ESXi gives them: the first disk 9 (before the NIC's 10), later ones after.
        items.append(f"""      <Item>
        <rasd:AddressOnParent>{i - 1}</rasd:AddressOnParent>
        <rasd:ElementName>Hard disk {i}</rasd:ElementName>
        <rasd:HostResource>ovf:/disk/vmdisk{i}</rasd:HostResource>
        <rasd:InstanceID>{9 if i == 1 else 9 + i}</rasd:InstanceID>
        <rasd:Parent>3</rasd:Parent>
        <rasd:ResourceType>17</rasd:ResourceType>
        <vmw:Config ovf:required="false" vmw:key="backing.writeThrough" vmw:value="false"/>
      </Item>""")
    files, disks = "\n".join(files), "\n".join(disks)
    first_disk, more_disks = items[0], "".join("\n" + it for it in items[1:])
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<!--Generated by VMware ESX Server, User: root, UTC time: {now}-->
<Envelope vmw:buildId="build-17325551" xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vmw="http://www.vmware.com/schema/ovf" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <References>
{files}
  </References>
  <DiskSection>
    <Info>Virtual disk information</Info>
{disks}
  </DiskSection>
  <NetworkSection>
    <Info>The list of logical networks</Info>
    <Network ovf:name="VM Network">
      <Description>The VM Network network</Description>
    </Network>
  </NetworkSection>
  <VirtualSystem ovf:id={q(name)}>
    <Info>A virtual machine</Info>
    <Name>{e(name)}</Name>
    <OperatingSystemSection ovf:id="{os_id}" vmw:osType={q(os_type)}>
      <Info>The kind of installed guest operating system</Info>
    </OperatingSystemSection>
    <VirtualHardwareSection>
      <Info>Virtual hardware requirements</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemIdentifier>{e(name)}</vssd:VirtualSystemIdentifier>
        <vssd:VirtualSystemType>vmx-{hw_version}</vssd:VirtualSystemType>
      </System>
      <Item>
        <rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits>
        <rasd:Description>Number of Virtual CPUs</rasd:Description>
        <rasd:ElementName>{cpus} virtual CPU(s)</rasd:ElementName>
        <rasd:InstanceID>1</rasd:InstanceID>
        <rasd:ResourceType>3</rasd:ResourceType>
        <rasd:VirtualQuantity>{cpus}</rasd:VirtualQuantity>
        <vmw:CoresPerSocket ovf:required="false">1</vmw:CoresPerSocket>
      </Item>
      <Item>
        <rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>
        <rasd:Description>Memory Size</rasd:Description>
        <rasd:ElementName>{memory_mib}MB of memory</rasd:ElementName>
        <rasd:InstanceID>2</rasd:InstanceID>
        <rasd:ResourceType>4</rasd:ResourceType>
        <rasd:VirtualQuantity>{memory_mib}</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:Address>0</rasd:Address>
        <rasd:Description>SCSI Controller</rasd:Description>
        <rasd:ElementName>SCSI controller 0</rasd:ElementName>
        <rasd:InstanceID>3</rasd:InstanceID>
        <rasd:ResourceSubType>lsilogic</rasd:ResourceSubType>
        <rasd:ResourceType>6</rasd:ResourceType>
        <vmw:Config ovf:required="false" vmw:key="slotInfo.pciSlotNumber" vmw:value="16"/>
      </Item>
      <Item>
        <rasd:Address>1</rasd:Address>
        <rasd:Description>IDE Controller</rasd:Description>
        <rasd:ElementName>IDE 1</rasd:ElementName>
        <rasd:InstanceID>4</rasd:InstanceID>
        <rasd:ResourceType>5</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:Address>0</rasd:Address>
        <rasd:Description>IDE Controller</rasd:Description>
        <rasd:ElementName>IDE 0</rasd:ElementName>
        <rasd:InstanceID>5</rasd:InstanceID>
        <rasd:ResourceType>5</rasd:ResourceType>
      </Item>
      <Item ovf:required="false">
        <rasd:AutomaticAllocation>false</rasd:AutomaticAllocation>
        <rasd:ElementName>Video card</rasd:ElementName>
        <rasd:InstanceID>6</rasd:InstanceID>
        <rasd:ResourceType>24</rasd:ResourceType>
        <vmw:Config ovf:required="false" vmw:key="enable3DSupport" vmw:value="false"/>
        <vmw:Config ovf:required="false" vmw:key="useAutoDetect" vmw:value="false"/>
        <vmw:Config ovf:required="false" vmw:key="videoRamSizeInKB" vmw:value="4096"/>
      </Item>
      <Item ovf:required="false">
        <rasd:AutomaticAllocation>false</rasd:AutomaticAllocation>
        <rasd:ElementName>VMCI device</rasd:ElementName>
        <rasd:InstanceID>7</rasd:InstanceID>
        <rasd:ResourceSubType>vmware.vmci</rasd:ResourceSubType>
        <rasd:ResourceType>1</rasd:ResourceType>
        <vmw:Config ovf:required="false" vmw:key="allowUnrestrictedCommunication" vmw:value="false"/>
        <vmw:Config ovf:required="false" vmw:key="slotInfo.pciSlotNumber" vmw:value="32"/>
      </Item>
      <Item ovf:required="false">
        <rasd:AddressOnParent>0</rasd:AddressOnParent>
        <rasd:AutomaticAllocation>false</rasd:AutomaticAllocation>
        <rasd:ElementName>CD/DVD drive 1</rasd:ElementName>
        <rasd:InstanceID>8</rasd:InstanceID>
        <rasd:Parent>4</rasd:Parent>
        <rasd:ResourceSubType>vmware.cdrom.remotepassthrough</rasd:ResourceSubType>
        <rasd:ResourceType>15</rasd:ResourceType>
        <vmw:Config ovf:required="false" vmw:key="backing.exclusive" vmw:value="false"/>
      </Item>
{first_disk}
      <Item>
        <rasd:AddressOnParent>7</rasd:AddressOnParent>
        <rasd:AutomaticAllocation>true</rasd:AutomaticAllocation>
        <rasd:Connection>VM Network</rasd:Connection>
        <rasd:Description>VmxNet3 ethernet adapter on &quot;VM Network&quot;</rasd:Description>
        <rasd:ElementName>Network adapter 1</rasd:ElementName>
        <rasd:InstanceID>10</rasd:InstanceID>
        <rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType>
        <rasd:ResourceType>10</rasd:ResourceType>
        <vmw:Config ovf:required="false" vmw:key="slotInfo.pciSlotNumber" vmw:value="160"/>
        <vmw:Config ovf:required="false" vmw:key="wakeOnLanEnabled" vmw:value="true"/>
      </Item>{more_disks}
      <vmw:Config ovf:required="false" vmw:key="cpuHotAddEnabled" vmw:value="false"/>
      <vmw:Config ovf:required="false" vmw:key="cpuHotRemoveEnabled" vmw:value="false"/>
      <vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="{firmware}"/>
      <vmw:Config ovf:required="false" vmw:key="virtualICH7MPresent" vmw:value="false"/>
      <vmw:Config ovf:required="false" vmw:key="virtualSMCPresent" vmw:value="false"/>
      <vmw:Config ovf:required="false" vmw:key="memoryHotAddEnabled" vmw:value="false"/>
      <vmw:Config ovf:required="false" vmw:key="nestedHVEnabled" vmw:value="false"/>
      <vmw:Config ovf:required="false" vmw:key="powerOpInfo.powerOffType" vmw:value="soft"/>
      <vmw:Config ovf:required="false" vmw:key="powerOpInfo.resetType" vmw:value="soft"/>
      <vmw:Config ovf:required="false" vmw:key="powerOpInfo.standbyAction" vmw:value="checkpoint"/>
      <vmw:Config ovf:required="false" vmw:key="powerOpInfo.suspendType" vmw:value="hard"/>
      <vmw:Config ovf:required="false" vmw:key="tools.afterPowerOn" vmw:value="true"/>
      <vmw:Config ovf:required="false" vmw:key="tools.afterResume" vmw:value="true"/>
      <vmw:Config ovf:required="false" vmw:key="tools.beforeGuestShutdown" vmw:value="true"/>
      <vmw:Config ovf:required="false" vmw:key="tools.beforeGuestStandby" vmw:value="true"/>
      <vmw:Config ovf:required="false" vmw:key="tools.syncTimeWithHost" vmw:value="false"/>
      <vmw:Config ovf:required="false" vmw:key="tools.toolsUpgradePolicy" vmw:value="manual"/>
    </VirtualHardwareSection>
    <AnnotationSection ovf:required="false">
      <Info>A human-readable annotation</Info>
      <Annotation>stackferry end-to-end test guest: prints /home/user/message.txt on the serial console</Annotation>
    </AnnotationSection>
  </VirtualSystem>
</Envelope>
"""
    with open(out, "w", encoding="utf-8") as f:
        f.write(xml)
    return {"ovf": os.path.abspath(out)}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def referenced_files(ovf):
    import xml.etree.ElementTree as ET
    ns = "{http://schemas.dmtf.org/ovf/envelope/1}"
    root = ET.parse(ovf).getroot()
    return [f.get(ns + "href") for f in root.iter(ns + "File")]


def pack(outdir, name, keep_mf=False, mf_second=False):
    ovf = f"{name}.ovf"
    mf = f"{name}.mf"
    files = referenced_files(os.path.join(outdir, ovf))
    if not keep_mf:
        with open(os.path.join(outdir, mf), "w") as f:
            for n in [ovf] + files:   # ovftool's manifest syntax
                f.write(f"SHA256({n})= {sha256(os.path.join(outdir, n))}\n")
    ova = os.path.join(outdir, f"{name}.ova")
    mtime = int(time.time())
    with tarfile.open(ova, "w", format=tarfile.USTAR_FORMAT) as tar:
        # OVF always first (DSP0243); the manifest after the disks, or second when asked
        for n in ([ovf, mf] + files) if mf_second else ([ovf] + files + [mf]):
            ti = tar.gettarinfo(os.path.join(outdir, n), arcname=n)
            ti.uid = ti.gid = 64
            ti.uname = ti.gname = ""
            ti.mode = 0o644
            ti.mtime = mtime
            with open(os.path.join(outdir, n), "rb") as f:
                tar.addfile(ti, f)
    return {"ova": os.path.abspath(ova), "ovf": os.path.abspath(os.path.join(outdir, ovf)),
            "mf": os.path.abspath(os.path.join(outdir, mf)),
            "disks": [os.path.abspath(os.path.join(outdir, n)) for n in files],
            "ova_size": os.path.getsize(ova)}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("vmdk"); a.add_argument("raw"); a.add_argument("out")
    a.add_argument("--adapter", default="lsilogic"); a.add_argument("--hw-version", type=int, default=13)
    a = sub.add_parser("ovf"); a.add_argument("out"); a.add_argument("--name", required=True)
    # One --vmdk, --capacity and --populated per disk, in the VM's order (the first boots).
    a.add_argument("--vmdk", action="append", required=True)
    a.add_argument("--capacity", type=int, action="append", required=True)
    a.add_argument("--populated", type=int, action="append", required=True)
    a.add_argument("--firmware", choices=["bios", "efi"], default="bios")
    a.add_argument("--cpus", type=int, default=1); a.add_argument("--memory-mib", type=int, default=256)
    a.add_argument("--hw-version", type=int, default=13); a.add_argument("--os-type", default="other4xLinux64Guest")
    a = sub.add_parser("pack"); a.add_argument("outdir"); a.add_argument("name")
    a.add_argument("--keep-mf", action="store_true"); a.add_argument("--mf-second", action="store_true")
    a = sub.add_parser("locate"); a.add_argument("vmdk"); a.add_argument("offset", type=int)
    a = sub.add_parser("corrupt"); a.add_argument("vmdk"); a.add_argument("offset", type=int)
    a.add_argument("--count", type=int, default=16)
    o = p.parse_args()
    if o.cmd == "vmdk":
        r = write_vmdk(o.raw, o.out, o.adapter, o.hw_version)
    elif o.cmd == "ovf":
        if not len(o.vmdk) == len(o.capacity) == len(o.populated):
            p.error("one --capacity and one --populated per --vmdk")
        r = write_ovf(o.out, o.name, o.vmdk, o.capacity, o.populated, o.firmware, o.cpus,
                      o.memory_mib, o.hw_version, o.os_type)
    elif o.cmd == "pack":
        r = pack(o.outdir, o.name, o.keep_mf, o.mf_second)
    elif o.cmd == "locate":
        r = locate(o.vmdk, o.offset)
    else:
        r = corrupt(o.vmdk, o.offset, o.count)
    print(json.dumps(r))


if __name__ == "__main__":
    main()
