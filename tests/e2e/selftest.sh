#!/usr/bin/env bash
# Self-test of the end-to-end test's two ends, without the browser/OpenStack middle:
# build the guest -> package it as an ESXi-style OVA -> convert with the native CLI -> boot the
# QCOW2 under qemu (TCG) on virtio and on SCSI until "Hello World" shows; then the negative
# controls: one corrupted grain must make the conversion fail or the boot miss "Hello World";
# the same with the OVA's stale manifest must fail the conversion; a guest whose message.txt
# says something else must not pass the boot check. The EFI guest gets the same positive path.
#
# Usage: tests/e2e/selftest.sh [--firmware bios|efi|both] [--all-buses] [--keep]
# Environment: E2E_WORK (work dir, default a temp dir, removed unless --keep), E2E_BOOT_TIMEOUT
# (seconds, default 180: the machine is shared), STACKFERRY_BIN (default: cargo build --release).
# Ends with "e2e-selftest: N passed, N failed"; exit status 0 only if none failed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
firmwares=(bios efi); all_buses=false; keep=false
while [ $# -gt 0 ]; do
  case "$1" in
    --firmware) case "${2:-}" in both) firmwares=(bios efi) ;; bios|efi) firmwares=("$2") ;; *) echo "bad --firmware" >&2; exit 2 ;; esac; shift 2 ;;
    --all-buses) all_buses=true; shift ;;
    --keep) keep=true; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "selftest: unknown argument $1" >&2; exit 2 ;;
  esac
done
boot_timeout=${E2E_BOOT_TIMEOUT:-180}
work=${E2E_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/e2e-selftest.XXXXXX")}
mkdir -p "$work"
. "$repo/scripts/lib/suite.sh"
suite_begin e2e-selftest
now() { date +%s.%N; }
since() { python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 1))" "$1" "$(now)"; }
jget() { python3 -c "import json,sys; v=json.loads(sys.argv[1]); print(v[sys.argv[2]])" "$1" "$2"; }
finish() {
  if $keep; then echo "work dir kept: $work"; else rm -rf "$work"; fi
  suite_end
}

# --- packages ----------------------------------------------------------------------------------
t=$(now)
if bash "$here/install.sh"; then suite_pass install; suite_time "package install (or check)" "$(since "$t")"
else suite_fail install "tests/e2e/install.sh failed"; finish; exit 1; fi

# --- converter ---------------------------------------------------------------------------------
if [ -n "${STACKFERRY_BIN:-}" ]; then sf=$STACKFERRY_BIN
else
  t=$(now)
  (cd "$repo" && cargo build -q --release --bin stackferry) || { suite_fail cli-build "cargo build --release --bin stackferry"; finish; exit 1; }
  sf="$repo/target/release/stackferry"
  suite_time "cargo build --release --bin stackferry" "$(since "$t")"
fi
# convert OVA OUT.qcow2: the native CLI on the OVA; its status. Errors go to OUT.err.
convert() {
  rm -f "$2"
  "$sf" convert "$1" -o "$2" >"$2.out" 2>"$2.err"
}

# --- checks of the package layout --------------------------------------------------------------
check_package() { # PKG_JSON FIRMWARE
  python3 - "$1" "$2" <<'PY'
import hashlib, json, struct, sys, tarfile, xml.etree.ElementTree as ET
p, fw = json.loads(sys.argv[1]), sys.argv[2]
err = []
with tarfile.open(p["ova"]) as t:
    members = t.getmembers()
names = [m.name for m in members]
base = lambda x: x.rsplit("/", 1)[-1]
want = [base(p["ovf"]), base(p["vmdk"]), base(p["mf"])]
if names != want: err.append(f"ova members {names}, want {want}")
raw = open(p["ova"], "rb").read(512)
if raw[257:263] != b"ustar\x00": err.append("ova is not ustar")
mf = dict()
for line in open(p["mf"]):
    k, v = line.strip().split("= ")
    mf[k[len("SHA256("):-1]] = v
for f in (p["ovf"], p["vmdk"]):
    if mf.get(base(f)) != hashlib.sha256(open(f, "rb").read()).hexdigest(): err.append(f"mf line for {base(f)} wrong")
d = open(p["vmdk"], "rb").read()
F = "<4sIIQQQQIQQQB4sH"
h = struct.unpack_from(F, d, 0)
if h[0] != b"KDMV" or h[1] != 3 or h[2] != 0x30001: err.append(f"header magic/version/flags {h[:3]}")
if h[9] != 0xFFFFFFFFFFFFFFFF: err.append("header gdOffset is not GD_AT_END")
n = len(d)
if d[n-512:] != bytes(512): err.append("no end-of-stream marker")
if struct.unpack_from("<QII", d, n-1536)[2] != 3: err.append("no footer marker")
foot = struct.unpack_from(F, d, n-1024)
if foot[0] != b"KDMV" or foot[9] in (0, 0xFFFFFFFFFFFFFFFF): err.append("footer has no gdOffset")
elif struct.unpack_from("<QII", d, foot[9]*512 - 512)[2] != 2: err.append("no GD marker before the grain directory")
if b'createType="streamOptimized"' not in d[512:4096]: err.append("descriptor createType")
ns = {"ovf": "http://schemas.dmtf.org/ovf/envelope/1", "rasd": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData",
      "vssd": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData", "vmw": "http://www.vmware.com/schema/ovf"}
r = ET.parse(p["ovf"]).getroot()
if not r.find(".//vssd:VirtualSystemType", ns).text.startswith("vmx-"): err.append("VirtualSystemType")
if r.find(".//ovf:OperatingSystemSection", ns).get("{%s}osType" % ns["vmw"]) != "other4xLinux64Guest": err.append("osType")
subs = {(i.findtext("rasd:ResourceType", None, ns), i.findtext("rasd:ResourceSubType", None, ns)) for i in r.iter("{%s}Item" % ns["ovf"])}
if ("6", "lsilogic") not in subs: err.append("no LSI Logic controller")
if ("10", "VmxNet3") not in subs: err.append("no vmxnet3 NIC")
cfg = {c.get("{%s}key" % ns["vmw"]): c.get("{%s}value" % ns["vmw"]) for c in r.iter("{%s}Config" % ns["vmw"])}
if cfg.get("firmware") != fw: err.append(f"firmware {cfg.get('firmware')}, want {fw}")
fe = r.find(".//ovf:References/ovf:File", ns)
import os
if int(fe.get("{%s}size" % ns["ovf"])) != os.path.getsize(p["vmdk"]): err.append("File ovf:size")
de = r.find(".//ovf:DiskSection/ovf:Disk", ns)
if int(de.get("{%s}populatedSize" % ns["ovf"])) != p["populated_size"]: err.append("populatedSize")
print("; ".join(err))
sys.exit(1 if err else 0)
PY
}

boot() { # NAME IMAGE FORMAT BUS NIC FIRMWARE [extra boot-check args]
  local name=$1 img=$2 fmt=$3 bus=$4 nic=$5 fw=$6; shift 6
  local r
  r=$(bash "$here/boot-check.sh" "$img" "$fmt" --disk-bus "$bus" --nic-model "$nic" --firmware "$fw" \
      --timeout "$boot_timeout" --fail-on "e2e-guest: end of message.txt" "$@")
  local rc=$?
  echo "$r"
  return $rc
}

for fw in "${firmwares[@]}"; do
  d="$work/$fw"; mkdir -p "$d"
  # 1. guest
  t=$(now)
  if ! g=$(bash "$here/build-guest.sh" "$d" --firmware "$fw"); then
    suite_fail "build-guest-$fw"; continue
  fi
  suite_pass "build-guest-$fw"; suite_time "guest build ($fw)" "$(since "$t")"
  raw=$(jget "$g" raw); msg_off=$(jget "$g" message_offset)
  # 2. package
  t=$(now)
  if ! p=$(bash "$here/package-ova.sh" "$raw" "$d/pkg" "e2e-$fw" --firmware "$fw"); then
    suite_fail "package-ova-$fw"; continue
  fi
  suite_time "packaging ($fw)" "$(since "$t")"
  if why=$(check_package "$p" "$fw"); then suite_pass "package-layout-$fw"; else suite_fail "package-layout-$fw" "$why"; fi
  ova=$(jget "$p" ova); vmdk=$(jget "$p" vmdk)
  # 3. convert
  qcow="$d/e2e-$fw.qcow2"
  t=$(now)
  if convert "$ova" "$qcow"; then
    suite_time "conversion ($fw)" "$(since "$t")"
    if qemu-img check -q "$qcow" && qemu-img compare -q -f raw -F qcow2 "$raw" "$qcow"; then
      suite_pass "convert-$fw"
    else suite_fail "convert-$fw" "output differs from the guest disk or fails qemu-img check"; continue; fi
  else
    suite_fail "convert-$fw" "$(tail -n 3 "$qcow.err")"; continue
  fi
  # 4. boot the QCOW2 on the buses an image's properties may name
  buses=("virtio virtio" "scsi vmxnet3")
  $all_buses && buses+=("sata e1000" "ide e1000e")
  for bn in "${buses[@]}"; do
    set -- $bn
    if r=$(boot "boot-$fw-$1" "$qcow" qcow2 "$1" "$2" "$fw"); then
      suite_pass "boot-$fw-$1-$2"; suite_time "boot to Hello World ($fw, disk $1, nic $2)" "$(jget "$r" seconds)"
    else suite_fail "boot-$fw-$1-$2"; fi
  done

  [ "$fw" = bios ] || continue
  # 5. negative controls (BIOS guest)
  # 5a. A guest whose message.txt says something else must not pass the boot check.
  neg="$d/neg"; mkdir -p "$neg"
  cp --sparse=always "$raw" "$neg/jello.raw"
  printf 'J' | dd of="$neg/jello.raw" bs=1 seek="$msg_off" conv=notrunc status=none
  if r=$(boot boot-negative "$neg/jello.raw" raw virtio virtio bios); then
    suite_fail "boot-check-negative" "boot-check passed on a guest without Hello World"
  else suite_pass "boot-check-negative"; fi
  # 5b. One corrupted grain (the one holding message.txt), manifest regenerated to match:
  #     the conversion must fail, or the converted guest must not show Hello World.
  cp "$d/pkg/e2e-$fw.ovf" "$neg/e2e-bad.ovf"
  cp "$vmdk" "$neg/e2e-$fw-disk1.vmdk"
  c=$(python3 "$here/ova.py" corrupt "$neg/e2e-$fw-disk1.vmdk" "$msg_off") || { suite_fail corrupt-grain "ova.py corrupt failed"; continue; }
  echo "  corrupted grain: $c"
  pk=$(python3 "$here/ova.py" pack "$neg" e2e-bad) || { suite_fail corrupt-grain "ova.py pack failed"; continue; }
  bad="$neg/bad.qcow2"
  if convert "$neg/e2e-bad.ova" "$bad"; then
    echo "  conversion of the corrupted disk succeeded; the boot must not show Hello World"
    if r=$(boot boot-corrupt "$bad" qcow2 virtio virtio bios); then
      suite_fail "corrupt-grain" "converted and booted to Hello World despite the corrupted grain"
    else suite_pass "corrupt-grain: boot shows no Hello World"; fi
  else
    suite_pass "corrupt-grain: conversion failed: $(tail -n1 "$bad.err")"
  fi
  # 5c. A disk changed where no reader looks (padding after the descriptor) under the original,
  #     now stale, manifest: only the manifest check can see it, and the conversion must fail
  #     with the checksum exit status (4).
  st="$d/stale"; mkdir -p "$st"
  cp "$d/pkg/e2e-$fw.ovf" "$d/pkg/e2e-$fw.mf" "$vmdk" "$st/"
  printf 'x' | dd of="$st/$(basename "$vmdk")" bs=1 seek=$((64 * 1024 - 1)) conv=notrunc status=none
  python3 "$here/ova.py" pack "$st" "e2e-$fw" --keep-mf >/dev/null
  "$sf" convert "$st/e2e-$fw.ova" -o "$st/stale.qcow2" >/dev/null 2>"$st/stale.err"; rc=$?
  if [ $rc -eq 4 ]; then suite_pass "stale-manifest: $(tail -n1 "$st/stale.err")"
  else suite_fail "stale-manifest" "exit status $rc, want 4 (checksum): $(tail -n1 "$st/stale.err")"; fi
done
finish
