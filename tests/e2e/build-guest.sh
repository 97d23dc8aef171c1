#!/usr/bin/env bash
# Builds a small bootable x86-64 Linux guest disk (raw) for the end-to-end test.
#
# Usage: tests/e2e/build-guest.sh OUTDIR [--firmware bios|efi] [--drivers all|novirtio] [--size-mib N]
#          [--data-disk MIB]
# Writes OUTDIR/guest-<firmware>[-novirtio].raw and prints one JSON object on stdout:
#   {"raw": PATH, "firmware": "bios"|"efi", "drivers": "all"|"novirtio", "virtual_size": BYTES,
#    "kernel": VERSION, "root_uuid": UUID, "message_offset": BYTES, "seconds": N}
# With --data-disk, also OUTDIR/guest-<firmware>[...]-data.raw (MIB MiB): a data disk, one ext4
# over the whole disk holding data.txt = "stackferry data disk <random token>"; the guest mounts
# it by UUID on /data and prints data.txt after message.txt. The JSON adds "data_raw",
# "data_uuid", "data_text" (the line to expect on the console).
# message_offset is the guest byte offset of /home/user/message.txt's data (the negative
# control corrupts the grain holding it).
#
# The disk, using Debian packages only (no loop devices, no mounts):
#   bios: MBR, partition 1 = ext4 (bootable), GRUB 2.12 i386-pc (boot.img in the MBR, core.img in
#         the gap before the partition, as grub-install does; grub-bios-setup refuses image files).
#   efi:  GPT, partition 1 = EFI system partition (FAT) with \EFI\BOOT\BOOTX64.EFI (GRUB 2.12
#         x86_64-efi, the removable-media path OVMF boots without NVRAM entries), partition 2 = ext4.
# The ext4 root holds /boot/{vmlinuz,initrd.img,grub/grub.cfg}, a static busybox,
# /sbin/init and /home/user/message.txt ("Hello World"). The initramfs loads the disk drivers of
# every bus an image property may name (IDE/SATA/virtio-blk/virtio-scsi/LSI/PVSCSI; with
# --drivers novirtio none of the virtio ones, as a guest installed on VMware with a host-only
# dracut would have: guest inspection must then suggest SATA, and it must boot from it), mounts the
# ext4 root by UUID and switches to it; /sbin/init there prints message.txt to the serial
# console. Nothing else on the boot path contains the text "Hello World", so seeing it on the
# console proves the file's blocks came through intact.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
die() { echo "build-guest: $*" >&2; exit 1; }
log() { echo "[build-guest] $*" >&2; }

outdir=; firmware=bios; size_mib=64; drivers=all; data_mib=0
while [ $# -gt 0 ]; do
  case "$1" in
    --firmware) firmware=${2:?}; shift 2 ;;
    --firmware=*) firmware=${1#*=}; shift ;;
    --drivers) drivers=${2:?}; shift 2 ;;
    --size-mib) size_mib=${2:?}; shift 2 ;;
    --data-disk) data_mib=${2:?}; shift 2 ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) [ -z "$outdir" ] || die "one OUTDIR only"; outdir=$1; shift ;;
  esac
done
[ -n "$outdir" ] || die "usage: build-guest.sh OUTDIR [--firmware bios|efi] [--size-mib N]"
case "$firmware" in bios|efi) ;; *) die "--firmware must be bios or efi" ;; esac
case "$drivers" in all|novirtio) ;; *) die "--drivers must be all or novirtio" ;; esac
[ "$size_mib" -ge 32 ] || die "--size-mib must be at least 32"
[[ "$data_mib" =~ ^[0-9]+$ ]] && { [ "$data_mib" = 0 ] || [ "$data_mib" -ge 8 ]; } || die "--data-disk must be at least 8 (MiB)"

t_start=$(date +%s.%N)
bash "$here/install.sh"
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
cache="$here/.cache"
mkdir -p "$cache/debs"

# --- kernel: Debian's linux-image, unpacked once into the cache --------------------------------
deb=$(ls -1 "$cache"/debs/linux-image-6.1.0-*-amd64_*.deb 2>/dev/null | sort -V | tail -n1 || true)
if [ -z "$deb" ]; then
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
  [ -n "$pkg" ] || { apt-get update -q >/dev/null; pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/{print $2; exit}'); }
  [ -n "$pkg" ] || die "cannot resolve linux-image-amd64 to a kernel package"
  log "apt-get download $pkg"
  # _apt cannot write into a root-owned work tree: download into a world-writable temp dir.
  tmpd=$(mktemp -d); chmod 777 "$tmpd"
  (cd "$tmpd" && apt-get download -q "$pkg" >/dev/null 2>&1) || die "apt-get download $pkg failed"
  mv "$tmpd"/*.deb "$cache/debs/"; rmdir "$tmpd"
  deb=$(ls -1 "$cache"/debs/linux-image-6.1.0-*-amd64_*.deb | sort -V | tail -n1)
fi
kroot="$cache/kernel/$(basename "$deb" .deb)"
if [ ! -f "$kroot/.done" ]; then
  log "unpacking $(basename "$deb")"
  rm -rf "$kroot"; mkdir -p "$kroot"
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$kroot" ./boot ./lib/modules
  kver=$(ls "$kroot/lib/modules")
  depmod -b "$kroot" "$kver"
  touch "$kroot/.done"
fi
kver=$(ls "$kroot/lib/modules")
vmlinuz="$kroot/boot/vmlinuz-$kver"
[ -f "$vmlinuz" ] || die "no kernel image in $deb"

work=$(mktemp -d "$outdir/.build-XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- initramfs: busybox + disk drivers ---------------------------------------------------------
# Disk buses an image's hw_disk_bus / hw_scsi_model can name, plus ext4 and its checksum provider.
MODULES=(ata_piix ata_generic ahci sd_mod mptspi mptsas sym53c8xx vmw_pvscsi crc32c_generic ext4)
[ "$drivers" = all ] && MODULES+=(virtio_pci virtio_blk virtio_scsi virtio_net)
ird="$work/initramfs"
mkdir -p "$ird"/{bin,dev,proc,sys,newroot,etc,lib/modules}
cp /bin/busybox "$ird/bin/busybox"
: > "$ird/etc/e2e-modules"
declare -A seen=()
for m in "${MODULES[@]}"; do
  deps=$(modprobe -d "$kroot" -S "$kver" --show-depends "$m" 2>/dev/null) || { log "module $m not available, skipped"; continue; }
  while read -r kind path _; do
    [ "$kind" = insmod ] || continue
    rel=${path#*/lib/modules/$kver/}
    [ -n "${seen[$rel]:-}" ] && continue
    seen[$rel]=1
    mkdir -p "$ird/lib/modules/$(dirname "$rel")"
    case "$rel" in
      *.ko.xz) xz -dc "$path" > "$ird/lib/modules/${rel%.xz}"; rel=${rel%.xz} ;;
      *.ko.zst) zstd -qdc "$path" > "$ird/lib/modules/${rel%.zst}"; rel=${rel%.zst} ;;
      *) cp "$path" "$ird/lib/modules/$rel" ;;
    esac
    echo "$rel" >> "$ird/etc/e2e-modules"
  done <<< "$deps"
done
cat > "$ird/init" <<'EOF'
#!/bin/busybox sh
# stackferry e2e initramfs: load disk drivers, mount the ext4 root by UUID, switch to it.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
fail() { echo "e2e-initramfs: FAILED: $*"; cat /proc/partitions; sleep 1; exit 1; }
echo "e2e-initramfs: loading disk drivers"
while read -r m; do insmod "/lib/modules/$m" 2>/dev/null; done < /etc/e2e-modules
root=
for a in $(cat /proc/cmdline); do case "$a" in root=*) root=${a#root=} ;; esac; done
[ -n "$root" ] || fail "no root= on the kernel command line"
dev=; i=0
while [ $i -lt 150 ]; do
  dev=$(findfs "$root" 2>/dev/null) && [ -n "$dev" ] && break
  sleep 0.2; i=$((i+1))
done
[ -n "$dev" ] || fail "root $root not found"
echo "e2e-initramfs: root $root is $dev"
mount -t ext4 -o ro "$dev" /newroot || fail "cannot mount $dev"
mount --move /dev /newroot/dev
umount /sys /proc
exec switch_root /newroot /sbin/init
EOF
chmod 755 "$ird/init"
(cd "$ird" && find . -print0 | sort -z | cpio --null -o -H newc --quiet) | gzip -6 > "$work/initrd.img"

# --- ext4 root ---------------------------------------------------------------------------------
rootdir="$work/root"
mkdir -p "$rootdir"/{bin,sbin,boot/grub,dev,proc,sys,tmp,root,etc,home/user,data}
cp /bin/busybox "$rootdir/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$rootdir/bin/$a"; done
cat > "$rootdir/sbin/init" <<'EOF'
#!/bin/sh
# stackferry e2e guest init: print /home/user/message.txt to the console, then keep a shell there.
export PATH=/bin:/sbin
mount -t proc proc /proc 2>/dev/null
mount -t sysfs sysfs /sys 2>/dev/null
echo 1 > /proc/sys/kernel/printk   # keep kernel messages from interleaving with the file
echo "e2e-guest: $(uname -r), root $(awk '$2 == "/" {print $1}' /proc/mounts); /home/user/message.txt:"
cat /home/user/message.txt
echo "e2e-guest: end of message.txt"
# The data disk (build-guest.sh --data-disk), by UUID: whatever bus and order it came on.
if [ -f /etc/e2e-data-uuid ]; then
  u=$(cat /etc/e2e-data-uuid); d=; i=0
  while [ $i -lt 50 ]; do d=$(findfs "UUID=$u" 2>/dev/null) && [ -n "$d" ] && break; sleep 0.2; i=$((i+1)); done
  if [ -n "$d" ] && mount -t ext4 -o ro "$d" /data; then
    echo "e2e-guest: data disk $d on /data; /data/data.txt:"
    cat /data/data.txt
    echo "e2e-guest: end of data.txt"
  else
    echo "e2e-guest: data disk UUID=$u not found"; cat /proc/partitions
  fi
fi
hostname stackferry-e2e
while true; do setsid cttyhack sh -l; sleep 1; done
EOF
chmod 755 "$rootdir/sbin/init"
echo stackferry-e2e > "$rootdir/etc/hostname"
printf 'Hello World\n' > "$rootdir/home/user/message.txt"
data_uuid=
if [ "$data_mib" -gt 0 ]; then
  data_uuid=$(cat /proc/sys/kernel/random/uuid)
  echo "$data_uuid" > "$rootdir/etc/e2e-data-uuid"
fi
chown -R 1000:1000 "$rootdir/home/user"
# Named as Debian names them, with what guest inspection reads: the OS, the root by UUID, the
# kernel's built-in modules.
cp "$vmlinuz" "$rootdir/boot/vmlinuz-$kver"
cp "$work/initrd.img" "$rootdir/boot/initrd.img-$kver"
mkdir -p "$rootdir/lib/modules/$kver"
cp "$kroot/lib/modules/$kver/modules.builtin" "$rootdir/lib/modules/$kver/"
printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n' > "$rootdir/etc/os-release"
uuid=$(cat /proc/sys/kernel/random/uuid)
printf 'UUID=%s / ext4 ro 0 1\n' "$uuid" > "$rootdir/etc/fstab"
cat > "$rootdir/boot/grub/grub.cfg" <<EOF
set timeout=0
set default=0
menuentry "stackferry e2e guest" {
  linux /boot/vmlinuz-$kver root=UUID=$uuid rootfstype=ext4 ro console=tty0 console=ttyS0,115200 panic=5
  initrd /boot/initrd.img-$kver
}
EOF

# --- disk: partition table, file systems, boot loader ------------------------------------------
raw="$outdir/guest-$firmware$([ "$drivers" = all ] || echo "-$drivers").raw"
rm -f "$raw"
truncate -s "${size_mib}M" "$raw"
total_sectors=$((size_mib * 2048))
if [ "$firmware" = bios ]; then
  root_start=2048
  printf 'label: dos\nstart=%d, type=83, bootable\n' "$root_start" | sfdisk -q "$raw" >/dev/null
  root_part='(hd0,msdos1)'
else
  esp_start=2048; esp_sectors=16384   # 8 MiB FAT ESP
  root_start=$((esp_start + esp_sectors))
  printf 'label: gpt\nstart=%d, size=%d, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI System"\nstart=%d, size=%d, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="root"\n' \
    "$esp_start" "$esp_sectors" "$root_start" $((total_sectors - root_start - 34)) | sfdisk -q "$raw" >/dev/null
  root_part='(hd0,gpt2)'
fi
root_bytes=$(sfdisk -J "$raw" | python3 -c "import json,sys; p=json.load(sys.stdin)['partitiontable']['partitions']; print(p[-1]['size']*512)")
mke2fs -q -F -t ext4 -L e2e-root -U "$uuid" -d "$rootdir" -E offset=$((root_start * 512)) \
  "$raw" "$((root_bytes / 1024))k" >/dev/null

# Early config built into the GRUB image: console on serial too, find the root, read grub.cfg.
cat > "$work/early.cfg" <<EOF
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
search --no-floppy --fs-uuid --set=root $uuid
set prefix=(\$root)/boot/grub
EOF
GRUB_MODS=(normal search search_fs_uuid ext2 part_msdos part_gpt linux echo serial terminal configfile test)
if [ "$firmware" = bios ]; then
  grub-mkimage -O i386-pc -o "$work/core.img" -p "$root_part/boot/grub" -c "$work/early.cfg" \
    biosdisk "${GRUB_MODS[@]}"
  core_sectors=$(( ($(stat -c %s "$work/core.img") + 511) / 512 ))
  [ "$core_sectors" -lt "$root_start" ] || die "core.img ($core_sectors sectors) does not fit before the partition"
  # boot.img's code goes in the first 440 bytes (the partition table and signature stay); its
  # default kernel sector (1) is where core.img goes, whose own block list mkimage filled in.
  dd if=/usr/lib/grub/i386-pc/boot.img of="$raw" bs=440 count=1 conv=notrunc status=none
  dd if="$work/core.img" of="$raw" bs=512 seek=1 conv=notrunc status=none
else
  grub-mkimage -O x86_64-efi -o "$work/BOOTX64.EFI" -p "$root_part/boot/grub" -c "$work/early.cfg" \
    fat efi_gop "${GRUB_MODS[@]}"
  mkfs.fat -n ESP --offset "$esp_start" "$raw" $((esp_sectors / 2)) >/dev/null 2>&1 || die "mkfs.fat failed"
  export MTOOLS_SKIP_CHECK=1
  img="$raw@@$((esp_start * 512))"
  mmd -i "$img" ::/EFI ::/EFI/BOOT
  mcopy -i "$img" "$work/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
fi

# Where message.txt's data lives in the guest (for the negative control).
msg_block=$(debugfs -R "bmap /home/user/message.txt 0" "$raw?offset=$((root_start * 512))" 2>/dev/null | tail -n1 || true)
if ! [[ "$msg_block" =~ ^[0-9]+$ ]]; then
  # older debugfs has no ?offset=: read the partition out
  dd if="$raw" of="$work/root.img" bs=1M skip=$((root_start / 2048)) status=none
  msg_block=$(debugfs -R "bmap /home/user/message.txt 0" "$work/root.img" 2>/dev/null | tail -n1)
fi
bs=$(dumpe2fs -h "$raw?offset=$((root_start * 512))" 2>/dev/null | awk -F: '/^Block size/{gsub(/ /,"",$2); print $2}' || true)
[ -n "$bs" ] || bs=$(dumpe2fs -h "$work/root.img" 2>/dev/null | awk -F: '/^Block size/{gsub(/ /,"",$2); print $2}')
msg_off=$((root_start * 512 + msg_block * bs))
got=$(dd if="$raw" bs=1 skip="$msg_off" count=11 status=none)
[ "$got" = "Hello World" ] || die "message.txt is not at guest offset $msg_off (found '$got')"

# --- data disk: a whole-disk ext4 the guest mounts by UUID ---------------------------------------
data_raw=; data_text=
if [ "$data_mib" -gt 0 ]; then
  data_raw="${raw%.raw}-data.raw"
  data_text="stackferry data disk $(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  mkdir -p "$work/data"
  printf '%s\n' "$data_text" > "$work/data/data.txt"
  rm -f "$data_raw"
  mke2fs -q -F -t ext4 -L e2e-data -U "$data_uuid" -d "$work/data" "$data_raw" "${data_mib}M" >/dev/null
fi

secs=$(python3 -c "import sys; print(round(float(sys.argv[1])-float(sys.argv[2]),1))" "$(date +%s.%N)" "$t_start")
log "built $raw ($firmware, kernel $kver) in ${secs} s"
python3 - "$raw" "$firmware" "$drivers" "$kver" "$uuid" "$msg_off" "$secs" "$data_raw" "$data_uuid" "$data_text" <<'EOF'
import json, os, sys
raw, fw, drivers, kver, uuid, off, secs, data_raw, data_uuid, data_text = sys.argv[1:]
out = {"raw": raw, "firmware": fw, "drivers": drivers, "virtual_size": os.path.getsize(raw), "kernel": kver,
       "root_uuid": uuid, "message_offset": int(off), "seconds": round(float(secs), 1)}
if data_raw:
    out.update(data_raw=data_raw, data_uuid=data_uuid, data_text=data_text)
print(json.dumps(out))
EOF
