#!/usr/bin/env bash
# Builds small fake guest disks (raw, sparse) for the guest-inspection tests (issue 11), and
# OUTDIR/<name>.json stating what was put in each (see README.md for the schema), so tests
# assert against what the builder says, not against values copied into the test.
#
# Usage: tests/guests/build.sh OUTDIR [NAME...]     (root; Debian 12)
# Without NAME, builds every guest. A guest whose image and JSON exist and whose recipe hash
# (this script, guests.sh, manifest.py, lvm_thin.py, hive.py and the guest's name) matches is
# skipped.
#
# No file system is mounted except NTFS (ntfs-3g, FUSE: no Debian tool creates NTFS
# directories offline). LVM needs a loop device for pvcreate/vgcreate/lvcreate; it runs with
# --driverloaded n (no device-mapper: LVs are never activated) and the LV contents are written
# at the extents LVM allocated. Every loop device and mount is released on exit, even on failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export PATH="$PATH:/usr/sbin:/sbin"
export LC_ALL=C
die() { echo "guests/build.sh: $*" >&2; exit 1; }
log() { echo "[guests] $*" >&2; }
MiB=$((1024 * 1024))
# The system's python3 (a version manager's shim on PATH can cost half a second a call).
PYTHON=/usr/bin/python3; [ -x "$PYTHON" ] || PYTHON=python3

# shellcheck source=guests.sh
. "$here/guests.sh"

# --- tools -----------------------------------------------------------------------------------
# command → Debian package. Installed with apt-get only when missing.
declare -A PACKAGE_OF=(
  [losetup]=mount [blkid]=util-linux [mkswap]=util-linux [sfdisk]=fdisk [sgdisk]=gdisk
  [pvcreate]=lvm2 [mkfs.xfs]=xfsprogs [xfs_db]=xfsprogs [mke2fs]=e2fsprogs [debugfs]=e2fsprogs
  [mkntfs]=ntfs-3g [ntfs-3g]=ntfs-3g [ntfsls]=ntfs-3g [ntfslabel]=ntfs-3g
  [mkfs.vfat]=dosfstools [mcopy]=mtools [mdir]=mtools
  [cpio]=cpio [zstd]=zstd [xz]=xz-utils [gzip]=gzip [lz4]=lz4 [python3]=python3
  [cryptsetup]=cryptsetup-bin [hivexregedit]=libwin-hivex-perl [hivexget]=libhivex-bin [iconv]=libc-bin
)
need_tools() {
  local cmd missing=()
  for cmd in "$@"; do command -v "$cmd" >/dev/null || missing+=("${PACKAGE_OF[$cmd]:-$cmd}"); done
  [ ${#missing[@]} -eq 0 ] && return
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=900 "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update -q -o DPkg::Lock::Timeout=900 >/dev/null &&
      apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=900 "${missing[@]}" >/dev/null; } ||
    die "apt-get install ${missing[*]} failed"
}

# --- resources released on exit --------------------------------------------------------------
LOOPS=(); MOUNTS=(); TEMPS=()
cleanup() {
  local m l t
  for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null || true; done
  for t in "${TEMPS[@]}"; do rm -rf "$t"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# attach FILE OFFSET SIZE → REPLY: a loop device over that byte range.
attach() {
  REPLY=$(losetup -f --show -o "$2" --sizelimit "$3" "$1") || die "losetup $1 at $2 failed"
  LOOPS+=("$REPLY")
}
detach() {
  losetup -d "$1"
  local keep=() l
  for l in "${LOOPS[@]}"; do [ "$l" = "$1" ] || keep+=("$l"); done
  LOOPS=("${keep[@]}")
}

# Loop devices are needed for LVM only; say plainly when the machine has none.
check_loop() {
  [ "$(id -u)" = 0 ] || die "run as root (loop devices for LVM, FUSE for NTFS)"
  [ -e /dev/loop-control ] || die "no /dev/loop-control: loop devices are not available (modprobe loop; in a container, pass the loop devices in)"
  local f; f=$(mktemp); TEMPS+=("$f"); truncate -s 1M "$f"
  local dev; dev=$(losetup -f --show "$f" 2>&1) || die "loop devices do not work here: $dev"
  losetup -d "$dev"
}
check_fuse() {
  [ -c /dev/fuse ] || die "no /dev/fuse: ntfs-3g cannot mount the NTFS image (modprobe fuse; in a container, pass /dev/fuse in)"
}

# --- facts: what build.sh states about a guest (turned into JSON by manifest.py) -------------
# fact OP ARG...: one tab-separated line in the guest's facts file.
fact() { local IFS=$'\t'; printf '%s\n' "$*" >> "$FACTS"; }

# A deterministic UUID (and MBR id, FAT serial) per guest and purpose, so a rebuild writes the
# same identifiers and fstab lines.
uuid_for() { "$PYTHON" -c 'import sys,uuid; print(uuid.uuid5(uuid.NAMESPACE_URL, "stackferry-guest:" + sys.argv[1]))' "$GUEST:$1"; }
hex_for() { uuid_for "$1" | tr -d - | cut -c "1-$2"; }

# --- disk and partitions ---------------------------------------------------------------------
# disk_new RAW LABEL SIZE_MIB SPEC...   SPEC = SIZE_MIB|rest : sfdisk type [: boot] [: GPT name]
# 1 MiB aligned from 1 MiB; the last MiB stays free (GPT backup header). Sets P_OFF[i],
# P_SIZE[i] in bytes (i from 1). MBR type 5 is an extended partition: the SPECs after it are
# logical partitions inside it (numbered from 5), each after a 1 MiB gap for its EBR.
disk_new() {
  local raw=$1 label=$2 size_mib=$3 start=1 i=0 sz type flag name extended=; shift 3
  rm -f "$raw"; truncate -s "${size_mib}M" "$raw"
  local script="label: $label"$'\n'
  if [ "$label" = dos ]; then script+="label-id: 0x$(hex_for disk 8)"$'\n'
  else script+="label-id: $(uuid_for disk)"$'\n'; fi
  P_OFF=(); P_SIZE=()
  for spec in "$@"; do
    IFS=: read -r sz type flag name <<< "$spec"
    i=$((i + 1))
    [ "$sz" = rest ] && sz=$((size_mib - start - 1))
    script+="start=$((start * 2048)), size=$((sz * 2048)), type=$type"
    [ "$flag" = boot ] && script+=", bootable"
    [ -n "$name" ] && script+=", name=\"$name\""
    script+=$'\n'
    [ $((start + sz)) -lt "$size_mib" ] || die "$GUEST: partition $i does not fit in $size_mib MiB"
    P_OFF[i]=$((start * MiB)); P_SIZE[i]=$((sz * MiB))
    if [ "$type" = 5 ]; then extended=1 start=$((start + 1)) i=4
    elif [ -n "$extended" ]; then start=$((start + sz + 1))
    else start=$((start + sz)); fi
  done
  sfdisk -q --no-reread --no-tell-kernel "$raw" <<< "$script" >/dev/null
  fact set . virtual_size:=$((size_mib * MiB)) label="$label"
}

# part_fact INDEX ARG...: the partition as the JSON lists it (fs, mount, uuid, label...).
part_fact() { local i=$1; shift; fact add partitions index:="$i" offset:="${P_OFF[i]}" size:="${P_SIZE[i]}" "$@"; }

# quiet CMD ARG...: run CMD, showing its output only when it fails (mkfs tools warn about what
# is intended here: XFS v4, a FAT size smaller than the file).
quiet() { local out; out=$("$@" 2>&1) || { printf '%s\n' "$out" >&2; die "$GUEST: $1 failed"; }; }

# place FILE RAW OFFSET: copy a file-system image into the disk, keeping holes; FILE is removed.
place() { dd if="$1" of="$2" bs=1M seek="$3" oflag=seek_bytes conv=sparse,notrunc status=none; rm -f "$1"; }

# --- file systems ----------------------------------------------------------------------------
# mkxfs OUT SIZE TREE UUID VERSION LABEL: XFS (v4 or v5) holding TREE, made from a protofile.
# mkfs.xfs refuses file systems under 300 MB unless it believes it runs under fstests (the
# TEST_DIR/TEST_DEV/QA_CHECK_FS variables), which is what these small guests need.
mkxfs() {
  local out=$1 size=$2 tree=$3 uuid=$4 version=$5 label=$6 meta="uuid=$4"
  [ "$version" = 4 ] && meta+=",crc=0"
  "$PYTHON" "$here/manifest.py" proto "$tree" > "$WORK/proto"
  rm -f "$out"; truncate -s "$size" "$out"
  TEST_DIR=1 TEST_DEV=1 QA_CHECK_FS=1 quiet mkfs.xfs -q -f -m "$meta" -L "$label" -p "$WORK/proto" "$out"
}

# mkext4 RAW OFFSET SIZE TREE UUID LABEL: ext4 written in place (mke2fs -d, no mount).
mkext4() {
  quiet mke2fs -q -F -t ext4 -U "$5" -L "$6" -d "$4" -E offset="$2" "$1" "$(($3 / 1024))k"
}

# mkfat RAW OFFSET SIZE TREE SERIAL LABEL: FAT32 written in place, filled with mcopy.
mkfat() {
  quiet mkfs.vfat -F 32 -s 1 -i "$5" -n "$6" --offset=$(($2 / 512)) "$1" $(($3 / 1024))
  MTOOLS_SKIP_CHECK=1 quiet mcopy -s -Q -i "$1@@$2" "$4"/* ::/
}

# mkntfs_part OUT SIZE TREE SERIAL LABEL START_SECTOR: NTFS holding TREE (mounted with ntfs-3g
# to create directories; ntfscp writes files only). The only mount build.sh makes.
mkntfs_part() {
  local out=$1 mnt="$WORK/ntfs-mnt"
  rm -f "$out"; truncate -s "$2" "$out"
  quiet mkntfs -F -Q -q -s 512 -p "$6" -H 255 -S 63 -L "$5" "$out"
  quiet ntfslabel -q --new-serial="$4" "$out"
  mkdir -p "$mnt"
  ntfs-3g "$out" "$mnt" || die "$GUEST: ntfs-3g could not mount $out"
  MOUNTS+=("$mnt")
  cp -R "$3"/. "$mnt"/
  umount "$mnt"; MOUNTS=()
}

# mkluks OUT SIZE UUID LABEL: a LUKS2 header and key slot (passphrase "stackferry", cheap
# PBKDF2 so it takes no time); the data area stays unwritten (opening it needs device-mapper).
mkluks() {
  rm -f "$1"; truncate -s "$2" "$1"
  printf stackferry | quiet cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
    --uuid "$3" --label "$4" --key-file - "$1"
}

# mkhive OUT REGFILE: a registry hive holding what REGFILE (.reg syntax) says: an empty hive
# from hive.py, filled by hivex's hivexregedit.
mkhive() { "$PYTHON" "$here/hive.py" "$1" ROOT; quiet hivexregedit --merge "$1" "$2"; }

# mkswap_file OUT SIZE UUID LABEL
mkswap_file() { rm -f "$1"; truncate -s "$2" "$1"; quiet mkswap -q -U "$3" -L "$4" "$1"; }

# --- LVM2 ------------------------------------------------------------------------------------
# Real LVM tools, no device-mapper: --driverloaded n keeps every command from activating, so
# nothing appears in /dev/mapper; no backup/archive files are left in /etc/lvm.
LVM_CONFIG='devices { obtain_device_list_from_udev=0 use_devicesfile=0 } activation { udev_sync=0 udev_rules=0 monitoring=0 } backup { backup=0 archive=0 }'
lvm_on() { local dev=$1 cmd=$2; shift 2; LVM_SUPPRESS_FD_WARNINGS=1 "$cmd" --driverloaded n --config "$LVM_CONFIG" --devices "$dev" "$@" 2>>"$WORK/lvm.log" || { cat "$WORK/lvm.log" >&2; die "$GUEST: $cmd $* failed"; }; }

# lvm_new RAW PART VG EXTENT_MIB NAME:SIZE_MIB|rest...: a PV on partition PART, a VG, linear LVs.
# Sets LV_OFF[name], LV_SIZE[name] (disk byte offsets), LV_UUID[name].
declare -A LV_OFF=() LV_SIZE=() LV_UUID=()
lvm_new() {
  local raw=$1 part=$2 vg=$3 ext=$4; shift 4
  LV_OFF=(); LV_SIZE=(); LV_UUID=()
  attach "$raw" "${P_OFF[part]}" "${P_SIZE[part]}"; local dev=$REPLY
  lvm_on "$dev" pvcreate -q "$dev" >/dev/null
  lvm_on "$dev" vgcreate -q -s "${ext}M" "$vg" "$dev" >/dev/null
  local spec name size
  for spec in "$@"; do
    IFS=: read -r name size <<< "$spec"
    if [ "$size" = rest ]; then lvm_on "$dev" lvcreate -q -an -Zn -n "$name" -l 100%FREE "$vg" >/dev/null
    else lvm_on "$dev" lvcreate -q -an -Zn -n "$name" -L "${size}M" "$vg" >/dev/null; fi
  done
  local pe_start pv_uuid vg_uuid
  read -r pe_start pv_uuid vg_uuid < <(lvm_on "$dev" pvs --noheadings --units b --nosuffix -o pe_start,pv_uuid,vg_uuid "$dev")
  [ -n "$vg_uuid" ] || die "$GUEST: pvs does not see the new PV (see above)"
  fact set lvm vg="$vg" vg_uuid="$vg_uuid" pv_uuid="$pv_uuid" pv_partition:="$part" \
    extent_size:=$((ext * MiB)) pe_start:="$pe_start"
  local lv start_pe seg_size uuid
  while read -r lv start_pe seg_size uuid; do
    # One linear segment each: the PV range "dev:first-last".
    start_pe=${start_pe##*:}; start_pe=${start_pe%-*}
    LV_OFF[$lv]=$((P_OFF[part] + pe_start + start_pe * ext * MiB)); LV_SIZE[$lv]=$seg_size; LV_UUID[$lv]=$uuid
  done < <(lvm_on "$dev" lvs --noheadings --units b --nosuffix -o lv_name,seg_pe_ranges,lv_size,lv_uuid "$vg")
  [ ${#LV_OFF[@]} = $# ] || die "$GUEST: lvs lists ${#LV_OFF[@]} LVs in $vg, $# were created"
  detach "$dev"
}
# lv_fact NAME ARG...: a linear LV as the JSON lists it.
lv_fact() { local lv=$1; shift; fact add lvm.lvs name="$lv" segtype=linear lv_uuid="${LV_UUID[$lv]}" offset:="${LV_OFF[$lv]}" size:="${LV_SIZE[$lv]}" "$@"; }

# lvm_thin RAW PART VG DATA_LV META_LV POOL THIN THIN_MIB: make linear DATA_LV and META_LV a thin
# pool POOL holding a thin LV THIN, in the VG metadata only (lvm_thin.py says why and how).
lvm_thin() {
  local raw=$1 part=$2 vg=$3 data=$4 meta=$5 pool=$6 thin=$7 thin_mib=$8
  attach "$raw" "${P_OFF[part]}" "${P_SIZE[part]}"; local dev=$REPLY
  lvm_on "$dev" vgcfgbackup -q -f "$WORK/vg.txt" "$vg" >/dev/null
  local ext; ext=$(lvm_on "$dev" vgs --noheadings --units b --nosuffix -o vg_extent_size "$vg")
  "$PYTHON" "$here/lvm_thin.py" "$WORK/vg.txt" "$data" "$meta" "$pool" "$thin" $((thin_mib * MiB / ext))
  lvm_on "$dev" vgcfgrestore -q --force -f "$WORK/vg.txt" "$vg" >/dev/null
  local name uuid size
  while read -r name uuid size; do
    case "$name" in
      "$pool") fact add lvm.lvs name="$pool" segtype=thin-pool lv_uuid="$uuid" size:="$size" \
                 data="${pool}_tdata" metadata="${pool}_tmeta" offset:="${LV_OFF[$data]}" ;;
      "$thin") fact add lvm.lvs name="$thin" segtype=thin lv_uuid="$uuid" size:="$size" pool="$pool" offset:=null ;;
    esac
  done < <(lvm_on "$dev" lvs --noheadings --units b --nosuffix -o lv_name,lv_uuid,lv_size "$vg")
  detach "$dev"
}

# --- kernels and initramfs -------------------------------------------------------------------
# Where each module lives under lib/modules/<v>/kernel/ (as in the distributions' kernels).
declare -A MODULE_DIR=(
  [virtio_blk]=drivers/block [virtio_scsi]=drivers/scsi [virtio_net]=drivers/net
  [virtio_pci]=drivers/virtio [virtio]=drivers/virtio [virtio_ring]=drivers/virtio
  [ahci]=drivers/ata [libahci]=drivers/ata [ata_piix]=drivers/ata [ata_generic]=drivers/ata
  [sd_mod]=drivers/scsi [vmw_pvscsi]=drivers/scsi [mptspi]=drivers/message/fusion
  [mptscsih]=drivers/message/fusion [mptbase]=drivers/message/fusion
  [vmxnet3]=drivers/net/vmxnet3 [e1000]=drivers/net/ethernet/intel/e1000
  [e1000e]=drivers/net/ethernet/intel/e1000e [xfs]=fs/xfs [ext4]=fs/ext4 [dm_mod]=drivers/md
  [crc32c_generic]=crypto [i8042]=drivers/input/serio [sha256_generic]=crypto
)

# modules_tree DIR KVER EXT BUILTIN_CSV MODULE...: DIR/<kver>/ as depmod leaves it: placeholder
# modules (compressed as EXT says: .ko, .ko.xz, .ko.zst), modules.builtin, modules.dep/order.
modules_tree() {
  local dir=$1/$2 kver=$2 ext=$3 builtin=$4 m path; shift 4
  mkdir -p "$dir"
  : > "$dir/modules.dep"; : > "$dir/modules.order"; : > "$dir/modules.builtin"
  local IFS=,
  for m in $builtin; do echo "kernel/${MODULE_DIR[$m]:?unknown module $m}/$m.ko" >> "$dir/modules.builtin"; done
  unset IFS
  for m in "$@"; do
    path="kernel/${MODULE_DIR[$m]:?unknown module $m}/$m.ko"
    mkdir -p "$dir/$(dirname "$path")"
    printf 'stackferry placeholder for the %s module of %s\n' "$m" "$kver" > "$dir/$path"
    case "$ext" in
      .ko) ;;
      .ko.xz) xz --check=crc32 "$dir/$path" ;;
      .ko.zst) zstd -q --rm "$dir/$path" ;;
      *) die "unknown module extension $ext" ;;
    esac
    echo "$path$ext:" >> "$dir/modules.dep"; echo "$path" >> "$dir/modules.order"
  done
}

# newc DIR: an uncompressed newc cpio of DIR on stdout, as dracut and mkinitramfs make it
# (sorted, owner root, the "." entry included).
newc() { (cd "$1" && find . -print0 | sort -z | cpio --null -o -H newc -R 0:0 --reproducible --quiet); }

# compress KIND: stdin → stdout with the options dracut / mkinitramfs use.
compress() {
  case "$1" in
    none) cat ;;
    gzip) gzip -n -6 ;;
    zstd) zstd -q -3 -c ;;
    xz) xz --check=crc32 --lzma2=dict=1MiB -c ;;
    lz4) lz4 -q -9 -l -c ;;   # the legacy frame format, the one the kernel unpacks
    *) die "unknown compression $1" ;;
  esac
}

# initramfs OUT LAYOUT MODULE_EXT EARLY COMPRESSION KVER BUILTIN_CSV MODULE...
#   LAYOUT dracut: usr/lib/modules/<v>/..., usr/lib/dracut/, init → systemd, lib → usr/lib
#   LAYOUT initramfs-tools: lib/modules/<v>/..., conf/, scripts/, init (a shell script)
#   MODULE_EXT: .ko, .ko.xz or .ko.zst, as the distribution's kernel package has them.
#   EARLY yes: an uncompressed cpio with kernel/x86/microcode/*.bin first (early microcode).
initramfs() {
  local out=$1 layout=$2 ext=$3 early=$4 comp=$5 kver=$6 builtin=$7; shift 7
  local d="$WORK/initramfs" e="$WORK/early"
  rm -rf "$d" "$e"; mkdir -p "$d"
  case "$layout" in
    dracut)
      mkdir -p "$d"/usr/{bin,sbin,lib/dracut,lib/systemd} "$d"/etc "$d"/{dev,proc,sys,run,sysroot}
      ln -s usr/lib "$d/lib"; ln -s usr/bin "$d/bin"; ln -s usr/sbin "$d/sbin"
      echo 'placeholder: systemd' > "$d/usr/lib/systemd/systemd"; chmod 755 "$d/usr/lib/systemd/systemd"
      ln -s usr/lib/systemd/systemd "$d/init"
      printf '%s\n' bash systemd systemd-initrd kernel-modules lvm fs-lib rootfs-block \
        dracut-systemd usrmount base fs-lib shutdown > "$d/usr/lib/dracut/modules.txt"
      echo " --kver '$kver' -f" > "$d/usr/lib/dracut/build-parameter.txt"
      echo 'NAME="stackferry initrd"' > "$d/etc/initrd-release"
      modules_tree "$d/usr/lib/modules" "$kver" "$ext" "$builtin" "$@"
      ;;
    initramfs-tools)
      mkdir -p "$d"/{bin,conf,etc,scripts/local-top,scripts/init-top,lib/modules,run}
      printf '#!/bin/sh\n# placeholder: initramfs-tools init\n' > "$d/init"; chmod 755 "$d/init"
      echo 'placeholder: busybox' > "$d/bin/busybox"; chmod 755 "$d/bin/busybox"
      printf 'MODULES=most\nBUSYBOX=auto\nCOMPRESS=%s\n' "$comp" > "$d/conf/initramfs.conf"
      echo 'ARCH="amd64"' > "$d/conf/arch.conf"
      echo '# placeholder: local' > "$d/scripts/local"
      modules_tree "$d/lib/modules" "$kver" "$ext" "$builtin" "$@"
      ;;
    *) die "unknown initramfs layout $layout" ;;
  esac
  local layers='none'
  if [ "$early" = yes ]; then
    mkdir -p "$e/kernel/x86/microcode"
    echo 1 > "$e/early_cpio"
    echo 'placeholder: Intel microcode' > "$e/kernel/x86/microcode/GenuineIntel.bin"
    [ "$layout" = initramfs-tools ] && echo 'placeholder: AMD microcode' > "$e/kernel/x86/microcode/AuthenticAMD.bin"
    newc "$e" > "$out"
    layers="none,$comp"
  else
    : > "$out"; layers=$comp
  fi
  newc "$d" | compress "$comp" >> "$out"
  local mods; mods=$(IFS=,; echo "$*")
  local moddir=lib/modules/$kver
  [ "$layout" = dracut ] && moddir=usr/lib/modules/$kver
  REPLY="layout=$layout compression=$comp layers@=$layers module_dir=$moddir module_ext=$ext modules@=$mods builtin@=$builtin"
}

# seconds_since NANOSECONDS: elapsed seconds with one decimal.
seconds_since() { local ds=$((($(date +%s%N) - $1) / 100000000)); echo "$((ds / 10)).$((ds % 10))"; }

# --- the build of one guest ------------------------------------------------------------------
recipe_hash() {
  cat "$here/build.sh" "$here/guests.sh" "$here/manifest.py" "$here/lvm_thin.py" "$here/hive.py" | { cat; echo "$1"; } | sha256sum | cut -c1-64
}

build_one() {
  GUEST=$1
  local raw="$OUTDIR/$GUEST.raw" json="$OUTDIR/$GUEST.json" hash t0
  hash=$(recipe_hash "$GUEST")
  if [ -f "$raw" ] && [ "$("$PYTHON" "$here/manifest.py" get "$json" recipe raw 2>/dev/null)" = "$hash"$'\n'"$raw" ]; then
    printf '%-22s cached\n' "$GUEST"; return
  fi
  t0=$(date +%s%N)
  WORK=$(mktemp -d); TEMPS+=("$WORK")
  FACTS="$WORK/facts"; : > "$FACTS"
  rm -f "$json"
  fact set . name="$GUEST" raw="$raw"
  "guest_${GUEST//-/_}" "$raw"
  fact set . recipe="$hash"
  sfdisk -J "$raw" > "$WORK/sfdisk.json"
  fact sfdisk "$WORK/sfdisk.json"
  "$PYTHON" "$here/manifest.py" json "$FACTS" "$json"
  rm -rf "$WORK"
  printf '%-22s %s s  %s (%s MiB allocated)\n' "$GUEST" "$(seconds_since "$t0")" \
    "$raw" "$(( $(stat -c %b "$raw") * 512 / MiB ))"
}

[ $# -ge 1 ] || die "usage: build.sh OUTDIR [NAME...]   (guests: ${ALL_GUESTS[*]})"
OUTDIR=$1; shift
names=("$@"); [ ${#names[@]} -gt 0 ] || names=("${ALL_GUESTS[@]}")
for n in "${names[@]}"; do
  declare -F "guest_${n//-/_}" >/dev/null || die "unknown guest $n (guests: ${ALL_GUESTS[*]})"
done
mkdir -p "$OUTDIR"; OUTDIR=$(cd "$OUTDIR" && pwd)
# One build at a time per OUTDIR (test binaries run in parallel; they share the images).
exec 9>"$OUTDIR/.build.lock"
flock 9
need_tools "${!PACKAGE_OF[@]}"
check_loop
check_fuse
t_all=$(date +%s%N)
for n in "${names[@]}"; do build_one "$n"; done
printf 'all %d guests: %s s\n' "${#names[@]}" "$(seconds_since "$t_all")"
