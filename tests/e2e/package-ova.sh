#!/usr/bin/env bash
# Packages a raw guest disk the way an ESXi "Export OVF Template" / ovftool does.
#
# Usage: tests/e2e/package-ova.sh RAW OUTDIR NAME [--firmware bios|efi] [--cpus N] [--memory-mib N]
#          [--mf-second] [--disk RAW2 ...]
# Writes OUTDIR/NAME-disk1.vmdk (streamOptimized, grain directory at the end + footer + GT/GD/EOS
# markers, as ovftool writes it), OUTDIR/NAME.ovf (OVF 1.0, vmx-13, vmw:osType
# other4xLinux64Guest, LSI Logic SCSI, vmxnet3, vmw:Config firmware), OUTDIR/NAME.mf (SHA256
# lines) and OUTDIR/NAME.ova (ustar: OVF, VMDK, MF; with --mf-second OVF, MF, VMDK as DSP0243
# and ovftool order them), checks that qemu-img reads the VMDK back
# identical to RAW, and prints one JSON object on stdout:
#   {"ova", "ovf", "vmdk", "mf", "name", "firmware", "virtual_size", "vmdk_size",
#    "populated_size", "grains", "ova_size", "seconds", "disks": [{"vmdk", "virtual_size"}, ...]}
# Each --disk adds a data disk (NAME-disk2.vmdk, ...) on the next SCSI unit, after the boot disk.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
die() { echo "package-ova: $*" >&2; exit 1; }
args=(); firmware=bios; cpus=1; memory=256; packopt=(); extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --firmware) firmware=${2:?}; shift 2 ;;
    --firmware=*) firmware=${1#*=}; shift ;;
    --cpus) cpus=${2:?}; shift 2 ;;
    --memory-mib) memory=${2:?}; shift 2 ;;
    --mf-second) packopt=(--mf-second); shift ;;
    --disk) extra+=("${2:?}"); shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) args+=("$1"); shift ;;
  esac
done
[ ${#args[@]} -eq 3 ] || die "usage: package-ova.sh RAW OUTDIR NAME [--firmware bios|efi]"
raw=${args[0]}; outdir=${args[1]}; name=${args[2]}
case "$firmware" in bios|efi) ;; *) die "--firmware must be bios or efi" ;; esac
[[ "$name" =~ ^[A-Za-z0-9._-]+$ ]] || die "NAME must be a plain file name"
[ -f "$raw" ] || die "no such file: $raw"
t0=$(date +%s.%N)
mkdir -p "$outdir"
get() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
ovfargs=(); vs=()
for r in "$raw" ${extra[@]+"${extra[@]}"}; do
  [ -f "$r" ] || die "no such file: $r"
  vmdk="$outdir/$name-disk$(( ${#vs[@]} + 1 )).vmdk"
  v=$(python3 "$here/ova.py" vmdk "$r" "$vmdk")
  # Independent check of the writer: qemu-img must read the VMDK back identical to the raw disk.
  qemu-img compare -q -f raw -F vmdk "$r" "$vmdk" || die "qemu-img reads $vmdk differently from $r"
  ovfargs+=(--vmdk "$vmdk" --capacity "$(get "$v" virtual_size)" --populated "$(get "$v" populated_size)")
  vs+=("$v")
done
python3 "$here/ova.py" ovf "$outdir/$name.ovf" --name "$name" "${ovfargs[@]}" \
  --firmware "$firmware" --cpus "$cpus" --memory-mib "$memory" >/dev/null
p=$(python3 "$here/ova.py" pack "$outdir" "$name" "${packopt[@]}")
python3 - "$p" "$name" "$firmware" "$t0" "$(date +%s.%N)" "${vs[@]}" <<'PY'
import json, sys
p, name, firmware, t0, t1 = sys.argv[1:6]
p, disks = json.loads(p), [json.loads(a) for a in sys.argv[6:]]
v = disks[0]   # the boot disk
out = {"ova": p["ova"], "ovf": p["ovf"], "vmdk": v["vmdk"], "mf": p["mf"], "name": name,
       "firmware": firmware, "virtual_size": v["virtual_size"], "vmdk_size": v["vmdk_size"],
       "populated_size": v["populated_size"], "grains": v["grains"], "ova_size": p["ova_size"],
       "seconds": round(float(t1) - float(t0), 1),
       "disks": [{"vmdk": d["vmdk"], "virtual_size": d["virtual_size"]} for d in disks]}
print(json.dumps(out))
PY
