#!/usr/bin/env bash
# Boots a disk image under qemu (TCG, no KVM) and waits for "Hello World" on the serial console.
#
# Usage: tests/e2e/boot-check.sh IMAGE FORMAT --disk-bus BUS --nic-model MODEL
#          [--firmware bios|efi] [--timeout SECONDS] [--scsi-model MODEL] [--log FILE]
#          [--expect TEXT ...] [--fail-on TEXT] [--machine pc|q35] [--data IMAGE:FORMAT ...]
#   FORMAT      qcow2 | raw | vmdk | anything qemu reads
#   BUS         virtio (virtio-blk) | scsi (virtio-scsi unless --scsi-model) | sata (AHCI) | ide
#               (the values of Glance's hw_disk_bus)
#   MODEL       virtio (virtio-net-pci) | e1000 | e1000e | vmxnet3 | rtl8139 | ne2k_pci
#               (the values of Glance's hw_vif_model); the NIC is attached to nothing
#   --scsi-model  virtio-scsi (default) | lsilogic (lsi53c895a) | lsisas1068 (mptsas1068) |
#               vmpvscsi (pvscsi)   (the values of Glance's hw_scsi_model)
#               (lsisas1068: Debian's mptsas finds no disk on qemu's mptsas1068; the boot fails)
#   --data IMAGE:FORMAT  a data disk after the boot disk, on the same bus (repeatable; never
#               written either): what a volume attached to the server holds
#   --expect TEXT  repeatable: every TEXT must appear
#   --fail-on TEXT  stop early (failure) when TEXT appears and the expected text has not: the
#               guest's "e2e-guest: end of message.txt" line, for negative tests
# Exit 0 when TEXT (default "Hello World") appears on the serial console within the timeout
# (default 120 s), 1 otherwise (the tail of the log is printed), 2 on a usage error. Prints one
# JSON object on stdout: {"ok", "seconds", "log", "disk_bus", "nic_model", "firmware"}.
# The image is opened with snapshot=on (never written). The qemu started here is always
# stopped, by its PID.
set -uo pipefail
die() { echo "boot-check: $*" >&2; exit 2; }

args=(); bus=; nic=; firmware=bios; timeout=120; scsi_model=virtio-scsi; log=; expects=(); fail_on=; machine=pc; data=()
while [ $# -gt 0 ]; do
  case "$1" in
    --disk-bus) bus=${2:-}; shift 2 ;;
    --nic-model) nic=${2:-}; shift 2 ;;
    --firmware) firmware=${2:-}; shift 2 ;;
    --timeout) timeout=${2:-}; shift 2 ;;
    --scsi-model) scsi_model=${2:-}; shift 2 ;;
    --log) log=${2:-}; shift 2 ;;
    --expect) expects+=("${2:-}"); shift 2 ;;
    --data) data+=("${2:-}"); shift 2 ;;
    --fail-on) fail_on=${2:-}; shift 2 ;;
    --machine) machine=${2:-}; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) args+=("$1"); shift ;;
  esac
done
[ ${#args[@]} -eq 2 ] || die "usage: boot-check.sh IMAGE FORMAT --disk-bus BUS --nic-model MODEL [--firmware bios|efi] [--timeout S]"
image=${args[0]}; format=${args[1]}
[ -f "$image" ] || die "no such file: $image"
[[ "$timeout" =~ ^[0-9]+$ ]] || die "--timeout must be whole seconds"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (run tests/e2e/install.sh)"
[[ "$image" != *,* ]] || die "image path must not contain a comma"
[ ${#expects[@]} -gt 0 ] || expects=("Hello World")
drive="file=$image,format=$format,if=none,id=d0,snapshot=on,cache=unsafe"
case "$bus" in
  virtio) disk=(-device virtio-blk-pci,drive=d0,bootindex=0) ;;
  scsi)
    case "$scsi_model" in
      virtio-scsi) hba=virtio-scsi-pci ;;
      lsilogic) hba=lsi53c895a ;;
      lsisas1068) hba=mptsas1068 ;;
      vmpvscsi) hba=pvscsi ;;
      *) die "unknown --scsi-model $scsi_model" ;;
    esac
    disk=(-device "$hba,id=hba0" -device scsi-hd,drive=d0,bus=hba0.0,bootindex=0) ;;
  sata) disk=(-device ahci,id=ahci0 -device ide-hd,drive=d0,bus=ahci0.0,bootindex=0) ;;
  ide) disk=(-device ide-hd,drive=d0,bus=ide.0,unit=0,bootindex=0) ;;
  *) die "--disk-bus must be virtio, scsi, sata or ide (got '$bus')" ;;
esac
# Data disks: drives d1, d2, ... on the boot disk's bus, after it.
drives=(-drive "$drive")
n=0
for d in ${data[@]+"${data[@]}"}; do
  n=$((n + 1)); dimg=${d%:*}; dfmt=${d##*:}
  [ -f "$dimg" ] || die "no such file: $dimg"
  [[ "$dimg" != *,* ]] || die "data disk path must not contain a comma"
  drives+=(-drive "file=$dimg,format=$dfmt,if=none,id=d$n,snapshot=on,cache=unsafe")
  case "$bus" in
    virtio) disk+=(-device "virtio-blk-pci,drive=d$n") ;;
    scsi) disk+=(-device "scsi-hd,drive=d$n,bus=hba0.0") ;;
    sata) disk+=(-device "ide-hd,drive=d$n,bus=ahci0.$n") ;;
    ide) [ "$n" -le 3 ] || die "ide takes 3 data disks at most"
         disk+=(-device "ide-hd,drive=d$n,bus=ide.$((n / 2)),unit=$((n % 2))") ;;
  esac
done
case "$nic" in
  virtio) nicdev=virtio-net-pci ;;
  e1000|e1000e|vmxnet3|rtl8139|ne2k_pci) nicdev=$nic ;;
  *) die "--nic-model must be virtio, e1000, e1000e, vmxnet3, rtl8139 or ne2k_pci (got '$nic')" ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/boot-check.XXXXXX")
[ -n "$log" ] || log="$work/serial.log"
: > "$log"
fw=()
case "$firmware" in
  bios) ;;
  efi)
    code=/usr/share/OVMF/OVMF_CODE_4M.fd; vars=/usr/share/OVMF/OVMF_VARS_4M.fd
    [ -f "$code" ] || { code=/usr/share/OVMF/OVMF_CODE.fd; vars=/usr/share/OVMF/OVMF_VARS.fd; }
    [ -f "$code" ] || die "OVMF not installed (run tests/e2e/install.sh)"
    cp "$vars" "$work/vars.fd"
    fw=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$code" -drive "if=pflash,format=raw,unit=1,file=$work/vars.fd") ;;
  *) die "--firmware must be bios or efi" ;;
esac

qemu_pid=
cleanup() {
  if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
    kill "$qemu_pid" 2>/dev/null
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$qemu_pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$qemu_pid" 2>/dev/null
    wait "$qemu_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The NIC hangs off a hub port with no peer: the guest has no network at all. romfile= keeps
# the firmware from trying a network boot.
start=$(date +%s.%N); SECONDS=0
qemu-system-x86_64 -machine "$machine" -accel tcg -m 256 -smp 1 -nographic -no-reboot \
  -monitor none -serial "file:$log" \
  "${fw[@]}" "${drives[@]}" "${disk[@]}" \
  -netdev hubport,id=n0,hubid=0 -device "$nicdev,netdev=n0,romfile=" \
  </dev/null >"$work/qemu.out" 2>&1 &
qemu_pid=$!

# seen_all: every expected text is in the serial log.
seen_all() {
  local x
  for x in "${expects[@]}"; do grep -aqF -- "$x" "$log" 2>/dev/null || return 1; done
}
ok=false
while :; do
  if seen_all; then ok=true; break; fi
  if [ -n "$fail_on" ] && grep -aqF -- "$fail_on" "$log" 2>/dev/null; then
    seen_all && ok=true
    break
  fi
  if ! kill -0 "$qemu_pid" 2>/dev/null; then
    seen_all && ok=true
    break
  fi
  [ "$SECONDS" -ge "$timeout" ] && break
  sleep 0.5
done
secs=$(python3 -c "import sys,time; print(round(time.time()-float(sys.argv[1]),1))" "$start")
exited=false; kill -0 "$qemu_pid" 2>/dev/null || exited=true
desc="disk $bus$([ "$bus" = scsi ] && echo "/$scsi_model")$([ $n -gt 0 ] && echo " + $n data"), nic $nic, $firmware"
expect=$(printf "'%s' " "${expects[@]}")
if $ok; then
  echo "boot-check: ${expect}after ${secs} s ($desc)" >&2
else
  why="not seen within ${timeout} s"; $exited && why="not seen; qemu exited after ${secs} s"
  [ -n "$fail_on" ] && grep -aqF -- "$fail_on" "$log" 2>/dev/null && why="not seen; '$fail_on' after ${secs} s"
  echo "boot-check: ${expect}$why ($desc). Serial log tail:" >&2
  # printable tail: no NULs, no terminal escapes, and a final newline
  tail -c 3000 "$log" | tr -d '\000\r' | sed 's/\x1b\[[0-9;?=]*[A-Za-z]//g; s/\x1b[c()][0-9A-Za-z]\{0,1\}//g' | tail -n 40 >&2
  echo >&2
  said=$(grep -v 'hub 0 is not connected to host network' "$work/qemu.out" | tail -n 20)
  [ -n "$said" ] && printf 'boot-check: qemu said:\n%s\n' "$said" >&2
fi
# The log path is reported only when the caller chose it (the default one goes with the work dir).
[ "$log" = "$work/serial.log" ] && log=
python3 -c "import json,sys; print(json.dumps({'ok': sys.argv[1] == 'true', 'seconds': float(sys.argv[2]), 'log': sys.argv[3] or None, 'disk_bus': sys.argv[4], 'nic_model': sys.argv[5], 'firmware': sys.argv[6]}))" \
  "$ok" "$secs" "$log" "$bus" "$nic" "$firmware"
$ok
