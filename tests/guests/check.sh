#!/usr/bin/env bash
# Checks the guests build.sh made against their JSON with the system's own tools, so the
# builder is checked independently of stackferry's readers (root; read-only loop devices).
#
# Usage: tests/guests/check.sh OUTDIR [NAME...]
# Per guest: the partition table (sfdisk, sgdisk -v), every volume's type/UUID/label (blkid
# probing the byte range), XFS superblocks (xfs_db), ext4 (dumpe2fs), LVM (pvs/lvs on a
# read-only loop, LV offsets recomputed), every recorded file's text (read through the kernel's
# XFS/ext4 on read-only mounts, mtools for FAT, ntfscat for NTFS), each initramfs (cpio and the
# decompressors: layers, module set, modules.builtin), the risk evidence lines, Windows driver
# files (ntfsls) and registry values (hivexget), and that no loop device is left attached.
# Prints "ok"/"FAIL" lines; exits 1 on any FAIL.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export PATH="$PATH:/usr/sbin:/sbin" LC_ALL=C
die() { echo "guests/check.sh: $*" >&2; exit 2; }
FAILED=0
fail() { echo "FAIL $GUEST: $*"; FAILED=1; }
ok() { echo "ok   $GUEST: $*"; }
# The system's python3 (a version manager's shim on PATH can cost half a second a call).
PYTHON=/usr/bin/python3; [ -x "$PYTHON" ] || PYTHON=python3
mf() { "$PYTHON" "$here/manifest.py" "$@"; }

LOOPS=(); MOUNTS=(); TEMPS=()
cleanup() {
  local i
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do umount "${MOUNTS[i]}" 2>/dev/null || umount -l "${MOUNTS[i]}" 2>/dev/null; done
  for i in "${LOOPS[@]}"; do losetup -d "$i" 2>/dev/null; done
  for i in "${TEMPS[@]}"; do rm -rf "$i"; done
  MOUNTS=(); LOOPS=(); TEMPS=()
}
trap cleanup EXIT
# roloop FILE OFFSET SIZE → REPLY: a read-only loop device over the range.
roloop() { REPLY=$(losetup -r -f --show -o "$2" --sizelimit "$3" "$1") || die "losetup -r $1 failed"; LOOPS+=("$REPLY"); }

LVM_CONFIG='devices { obtain_device_list_from_udev=0 use_devicesfile=0 } activation { udev_sync=0 udev_rules=0 monitoring=0 } backup { backup=0 archive=0 }'
lvm_ro() { local dev=$1 cmd=$2; shift 2; LVM_SUPPRESS_FD_WARNINGS=1 "$cmd" --readonly --driverloaded n --config "$LVM_CONFIG" --devices "$dev" "$@" 2>/dev/null; }

# blkid's names for the file-system names of the JSON.
declare -A BLKID_TYPE=([xfs]=xfs [ext4]=ext4 [vfat]=vfat [ntfs]=ntfs [swap]=swap [lvm2_pv]=LVM2_member
                       [luks]=crypto_LUKS)

# xfs_version DEV: 4 or 5 from the primary superblock's versionnum (low 4 bits), 0 when unreadable.
xfs_version() {
  local n; n=$(xfs_db -r -c 'sb 0' -c 'p versionnum' "$1" 2>/dev/null | sed -n 's/^versionnum = \(0x[0-9a-f]*\)$/\1/p')
  echo $(( ${n:-0} & 0xf ))
}

# volume KIND NAME OFFSET SIZE FS UUID LABEL XFS_VERSION: the file system really is there.
volume() {
  local what="$1 $2" off=$3 size=$4 fs=$5 uuid=$6 label=$7 xver=$8 probe type got_uuid got_label
  probe=$(blkid -p -o export -O "$off" -S "$size" "$RAW" 2>/dev/null)
  type=$(sed -n 's/^TYPE=//p' <<< "$probe"); got_uuid=$(sed -n 's/^UUID=//p' <<< "$probe")
  got_label=$(sed -n 's/^LABEL=//p' <<< "$probe" | sed 's/\\ / /g')
  [ "$type" = "${BLKID_TYPE[$fs]:-?}" ] || { fail "$what: blkid says TYPE=$type, JSON says $fs"; return; }
  if [ "$fs" != lvm2_pv ]; then
    [ "${got_uuid,,}" = "${uuid,,}" ] || fail "$what: blkid says UUID=$got_uuid, JSON says $uuid"
    [ "$label" = - ] || [ "$got_label" = "$label" ] || fail "$what: blkid says LABEL=$got_label, JSON says $label"
  fi
  case "$fs" in
    xfs)
      roloop "$RAW" "$off" "$size"
      local v; v=$(xfs_version "$REPLY")
      [ "$v" = "$xver" ] || fail "$what: xfs_db says XFS v$v, JSON says v$xver"
      xfs_db -r -c 'sb 0' -c 'p uuid' "$REPLY" 2>/dev/null | grep -qx "uuid = $uuid" || fail "$what: xfs_db uuid differs"
      xfs_repair -n "$REPLY" >/dev/null 2>&1 || fail "$what: xfs_repair -n finds problems"
      ;;
    ext4)
      e2fsck -fn "$RAW?offset=$off" >/dev/null 2>&1 || fail "$what: e2fsck -fn finds problems"
      ;;
    ntfs)
      roloop "$RAW" "$off" "$size"
      ntfsinfo -m "$REPLY" >/dev/null 2>&1 || fail "$what: ntfsinfo cannot read it"
      ;;
    vfat)
      MTOOLS_SKIP_CHECK=1 mdir -i "$RAW@@$off" ::/ >/dev/null 2>&1 || fail "$what: mdir cannot read it"
      ;;
  esac
  ok "$what: $fs ${uuid}"
}

# partitions: the table on disk is the one the JSON describes.
partitions() {
  local table; table=$(mktemp); TEMPS+=("$table")
  sfdisk -J "$RAW" > "$table" || { fail "sfdisk cannot read the partition table"; return; }
  local label; label=$(mf get "$JSON" label)
  "$PYTHON" - "$JSON" "$table" <<'EOF' || fail "sfdisk's table differs from the JSON"
import json, sys
doc = json.load(open(sys.argv[1])); t = json.load(open(sys.argv[2]))["partitiontable"]
got = [(p["start"] * 512, p["size"] * 512, p["type"]) for p in t["partitions"]]
want = [(p["offset"], p["size"], p["type"]) for p in doc["partitions"]]
sys.exit(0 if t["label"] == doc["label"] and got == want else 1)
EOF
  if [ "$label" = gpt ]; then
    sgdisk -v "$RAW" 2>&1 | grep -q 'No problems found' || fail "sgdisk -v finds problems"
  fi
  ok "$label partition table: $(mf rows "$JSON" partitions index | wc -l) partitions"
  local idx off size fs uuid label_ xver
  while IFS=$'\t' read -r idx off size fs uuid label_ xver; do
    [ "$fs" = extended ] && continue   # a container of logical partitions: nothing to probe
    volume partition "$idx" "$off" "$size" "$fs" "$uuid" "$label_" "$xver"
  done < <(mf rows "$JSON" partitions index offset size fs uuid label xfs_version)
}

# lvm: pvs/lvs on a read-only loop over the PV find the VG and LVs where the JSON says.
lvm() {
  local vg part; vg=$(mf get "$JSON" lvm.vg); [ -n "$vg" ] || return 0
  part=$(mf get "$JSON" lvm.pv_partition)
  local poff psize; read -r poff psize < <(mf rows "$JSON" partitions index offset size | awk -v p="$part" '$1 == p {print $2, $3}')
  roloop "$RAW" "$poff" "$psize"; local dev=$REPLY
  local pe_start ext; read -r pe_start ext < <(lvm_ro "$dev" pvs --noheadings --units b --nosuffix -o pe_start,vg_extent_size "$dev")
  [ -n "$pe_start" ] || { fail "pvs finds no PV on partition $part"; return; }
  local name segtype range size
  declare -A got=()
  while IFS='|' read -r name segtype range size; do
    name=${name##* }; range=${range##*:}
    # A linear LV's disk offset; a thin pool's is that of its data LV (range "pool_tdata:0-7").
    case "$segtype" in
      linear) got[$name]="$segtype $((poff + pe_start + ${range%-*} * ext)) $size" ;;
      *) got[$name]="$segtype - $size" ;;
    esac
  done < <(lvm_ro "$dev" lvs --noheadings --separator '|' --units b --nosuffix -o lv_name,segtype,seg_pe_ranges,lv_size "$vg")
  local lv off fs uuid label xver
  while IFS=$'\t' read -r lv segtype off size fs uuid label xver; do
    [ "$segtype" = linear ] || off=-
    [ "${got[$lv]:-}" = "$segtype $off $size" ] || { fail "LV $vg/$lv: lvs says ${got[$lv]:-nothing}, JSON says $segtype $off $size"; continue; }
    ok "LV $vg/$lv: $segtype$([ "$off" = - ] || echo " at $off") ($size bytes)"
    [ "$fs" = - ] || volume LV "$vg/$lv" "$off" "$size" "$fs" "$uuid" "$label" "$xver"
  done < <(mf rows "$JSON" lvm.lvs name segtype offset size fs uuid label xfs_version)
}

# xfs_cat DEV PATH: a regular file of an XFS the kernel will not mount (v4 when the kernel is
# built without it), read with xfs_db: its extents (bmap), each converted to a byte offset.
xfs_cat() {
  local dev=$1 info size bs
  info=$(xfs_db -r -c "path $2" -c 'p core.size' -c 'bmap' "$dev" 2>&1) || return 1
  size=$(sed -n 's/^core.size = //p' <<< "$info"); [ -n "$size" ] || return 1
  bs=$(xfs_db -r -c 'sb 0' -c 'p blocksize' "$dev" | sed -n 's/^blocksize = //p')
  local word rest start count byte
  while read -r word rest; do
    [ "$word" = data ] || continue
    start=$(sed -n 's/.*startblock \([0-9]*\) .*/\1/p' <<< "$rest"); count=$(sed -n 's/.*count \([0-9]*\) .*/\1/p' <<< "$rest")
    byte=$(xfs_db -r -c "convert fsblock $start byte" "$dev" | sed -n 's/.*(\([0-9]*\)).*/\1/p')
    dd if="$dev" bs=1M skip="$byte" count=$((count * bs)) iflag=skip_bytes,count_bytes status=none
  done <<< "$info" | head -c "$size"
}

# mount_linux: the guest's ext4/XFS volumes mounted read-only at their mount points under $ROOT;
# an XFS the kernel refuses is read with xfs_db instead (XFS_DB[mount point] = its loop device).
declare -A XFS_DB=()
mount_linux() {
  ROOT=$(mktemp -d); TEMPS+=("$ROOT"); XFS_DB=()
  local off size fs mnt
  while IFS=$'\t' read -r off size fs mnt; do
    case "$fs" in xfs|ext4) ;; *) continue ;; esac
    roloop "$RAW" "$off" "$size"
    mkdir -p "$ROOT$mnt" 2>/dev/null
    if mount -t "$fs" -o ro"$([ "$fs" = ext4 ] && echo ,noload || echo ,norecovery)" "$REPLY" "$ROOT$mnt" 2>/dev/null; then
      MOUNTS+=("$ROOT$mnt")
    elif [ "$fs" = xfs ] && [ "$(xfs_version "$REPLY")" = 4 ]; then
      XFS_DB[$mnt]=$REPLY; ok "the kernel will not mount the XFS v4 at $mnt: its files are read with xfs_db"
    else
      fail "the kernel cannot mount $fs at $mnt"
    fi
  done < <({ mf rows "$JSON" partitions offset size fs mount; mf rows "$JSON" lvm.lvs offset size fs mount; } |
           awk -F'\t' '$4 ~ /^\// {print length($4) "\t" $0}' | sort -n | cut -f2-)
}

# read_guest PATH: the file's bytes on stdout, read by the system's tools.
read_guest() {
  local path=$1 best= boff bsize bfs bmnt off size fs mnt
  while IFS=$'\t' read -r off size fs mnt; do
    [ "$mnt" = - ] && continue
    [ "$mnt" = C: ] && mnt=/   # a Windows volume: guest paths are relative to C:
    case "$path" in "$mnt"|"${mnt%/}/"*) ;; *) continue ;; esac
    [ ${#mnt} -gt ${#best} ] || continue
    best=$mnt boff=$off bsize=$size bfs=$fs bmnt=$mnt
  done < <({ mf rows "$JSON" partitions offset size fs mount; mf rows "$JSON" lvm.lvs offset size fs mount; })
  case "${bfs:-}" in
    xfs|ext4)
      if [ -n "${XFS_DB[$bmnt]:-}" ]; then xfs_cat "${XFS_DB[$bmnt]}" "/${path#"${bmnt%/}/"}"; return; fi
      local real; real=$(readlink -f "$ROOT$path") || return 1
      case "$real" in "$ROOT"/*) cat "$real" ;; *) return 1 ;; esac ;;
    vfat) MTOOLS_SKIP_CHECK=1 mtype -i "$RAW@@$boff" "::${path#"${bmnt%/}"}" ;;
    ntfs) roloop "$RAW" "$boff" "$bsize"; ntfscat "$REPLY" "${path#"${bmnt%/}"}" 2>/dev/null ;;
    *) return 1 ;;
  esac
}

files() {
  local d; d=$(mktemp -d); TEMPS+=("$d")
  local n path
  while IFS=$'\t' read -r n path; do
    if read_guest "$path" > "$d/got" && cmp -s "$d/got" "$d/$n"; then ok "file $path"
    else fail "file $path: what the tools read differs from the JSON"; fi
  done < <(mf files "$JSON" "$d")
}

# initramfs: each kernel's initramfs has the layers and modules the JSON says.
initramfs() {
  local d; d=$(mktemp -d); TEMPS+=("$d")
  local ver img initrd layers modules builtin
  while IFS=$'\t' read -r ver img initrd layers modules builtin; do
    read_guest "$img" >/dev/null || fail "kernel $ver: no $img"
    read_guest "$initrd" > "$d/img" || { fail "kernel $ver: cannot read $initrd"; continue; }
    local rest="$d/img" got_layers=()
    if [ "$(head -c 6 "$rest" | tr -d '\0')" = 070701 ]; then
      # An uncompressed cpio first: GNU cpio stops at its trailer and says how many 512-byte
      # blocks it read, which is where the next archive starts (dracut pads to 512).
      local blocks; blocks=$(cpio -t < "$rest" 2>&1 >/dev/null | sed -n 's/^\([0-9]*\) blocks*$/\1/p')
      if [ "$(stat -c %s "$rest")" -gt $((blocks * 512)) ]; then
        got_layers+=(none); tail -c +$((blocks * 512 + 1)) "$rest" > "$d/rest"; rest="$d/rest"
      fi
    fi
    local magic; magic=$(head -c 6 "$rest" | od -An -tx1 | tr -d ' \n')
    case "$magic" in
      1f8b*) got_layers+=(gzip); gzip -dc "$rest" > "$d/main" ;;
      28b52ffd*) got_layers+=(zstd); zstd -qdc "$rest" > "$d/main" ;;
      fd377a585a00) got_layers+=(xz); xz -dc "$rest" > "$d/main" ;;
      02214c18*) got_layers+=(lz4); lz4 -qdc "$rest" > "$d/main" ;;
      303730373031) got_layers+=(none); cp "$rest" "$d/main" ;;
      *) fail "kernel $ver: $initrd: unknown compression (magic $magic)"; continue ;;
    esac
    local want_layers; want_layers=$(IFS=,; echo "${got_layers[*]}")
    [ "$want_layers" = "$layers" ] || fail "kernel $ver: layers $want_layers, JSON says $layers"
    local listed; listed=$(cpio -t --quiet < "$d/main") || { fail "kernel $ver: cpio cannot list the main archive"; continue; }
    local mods; mods=$(grep -E "(^|/)lib/modules/$ver/kernel/.*\.ko(\.xz|\.zst)?$" <<< "$listed" | sed 's|.*/||; s|\.ko.*||' | sort | paste -sd,)
    [ "$mods" = "$(tr , '\n' <<< "$modules" | sort | paste -sd,)" ] || fail "kernel $ver: modules $mods, JSON says $modules"
    local bpath; bpath=$(grep -E "(^|/)lib/modules/$ver/modules.builtin$" <<< "$listed" | head -n1)
    local got_builtin; got_builtin=$(cd "$d" && cpio -i --quiet --to-stdout "$bpath" < main | sed 's|.*/||; s|\.ko$||' | sort | paste -sd,)
    [ "$got_builtin" = "$(tr , '\n' <<< "$builtin" | sort | paste -sd,)" ] || fail "kernel $ver: modules.builtin $got_builtin, JSON says $builtin"
    ok "kernel $ver: $initrd ($layers; ${modules:-no modules})"
  done < <(mf rows "$JSON" kernels version image initramfs layers modules builtin)
}

# risks: each evidence line is in the file at that line.
risks() {
  local code file line text name
  while IFS=$'\t' read -r code file line text name; do
    if [ "$line" = - ]; then ok "risk $code ($file)"; continue; fi
    # Compared with white space runs as one space: the rows are tab-separated.
    if [ "$(read_guest "$file" | sed -n "${line}p" | tr -s '[:space:]' ' ' | sed 's/^ //; s/ $//')" = "$(tr -s '[:space:]' ' ' <<< "$text" | sed 's/ $//')" ]; then
      ok "risk $code: $file line $line"
    else fail "risk $code: $file line $line is not '$text'"; fi
  done < <(mf rows "$JSON" expect.risk_evidence code file line text name)
}

# windows: the driver files (ntfsls) and the hives (ntfscat, then hivex's hivexget): version in
# SOFTWARE, each service's Start in SYSTEM's ControlSet001.
windows() {
  local drivers; drivers=$(mf get "$JSON" windows.drivers); [ -n "$drivers" ] || return 0
  local c; read -r c < <(mf rows "$JSON" partitions offset size mount | awk -F'\t' '$3 == "C:" {print $1 "\t" $2}')
  roloop "$RAW" "$(cut -f1 <<< "$c")" "$(cut -f2 <<< "$c")"; local dev=$REPLY
  local got; got=$(ntfsls "$dev" -p /Windows/System32/drivers 2>/dev/null | grep -v '^\.\.*$' | sed 's/\.sys$//' | sort | paste -sd,)
  local want; want=$("$PYTHON" -c 'import json,sys; print(",".join(sorted(json.loads(sys.argv[1]))))' "$drivers")
  [ "$got" = "$want" ] && ok "Windows drivers: $got" || fail "Windows drivers: ntfsls lists $got, JSON says $want"
  local d; d=$(mktemp -d); TEMPS+=("$d")
  ntfscat "$dev" "$(mf get "$JSON" windows.software)" > "$d/SOFTWARE" 2>/dev/null &&
    ntfscat "$dev" "$(mf get "$JSON" windows.system)" > "$d/SYSTEM" 2>/dev/null || { fail "cannot read the hives"; return; }
  local cv='\Microsoft\Windows NT\CurrentVersion' product version
  product=$(hivexget "$d/SOFTWARE" "$cv" ProductName 2>/dev/null)
  version="$(hivexget "$d/SOFTWARE" "$cv" CurrentMajorVersionNumber 2>/dev/null).$(hivexget "$d/SOFTWARE" "$cv" CurrentMinorVersionNumber 2>/dev/null)"
  if [ "$product" = "$(mf get "$JSON" windows.product_name)" ] && [ "$version" = "$(mf get "$JSON" windows.version)" ]; then
    ok "SOFTWARE: $product $version"
  else fail "SOFTWARE says '$product' $version, the JSON differs"; fi
  local name start
  while IFS=$'\t' read -r name start; do
    got=$(hivexget "$d/SYSTEM" "\\ControlSet001\\Services\\$name" Start 2>/dev/null)
    [ "$got" = "$start" ] && ok "SYSTEM: service $name Start=$got" || fail "SYSTEM: service $name Start=$got, JSON says $start"
  done < <(mf rows "$JSON" windows.services name start)
}

[ $# -ge 1 ] || die "usage: check.sh OUTDIR [NAME...]"
OUTDIR=$(cd "$1" && pwd) || die "no directory $1"; shift
[ "$(id -u)" = 0 ] || die "run as root (read-only loop devices)"
for tool in sfdisk sgdisk blkid losetup xfs_db xfs_repair e2fsck pvs lvs ntfscat ntfsls ntfsinfo mdir mtype cpio zstd xz gzip \
  lz4 hivexget; do
  command -v "$tool" >/dev/null || die "no $tool here: run build.sh first (it installs the tools it and check.sh use)"
done
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for j in "$OUTDIR"/*.json; do [ -e "$j" ] && names+=("$(basename "$j" .json)"); done
fi
[ ${#names[@]} -gt 0 ] || die "no guest JSON in $OUTDIR"
loops_before=$(losetup -a | wc -l)
for GUEST in "${names[@]}"; do
  JSON="$OUTDIR/$GUEST.json"
  [ -f "$JSON" ] || { fail "no $JSON"; continue; }
  RAW=$(mf get "$JSON" raw)
  [ -f "$RAW" ] || { fail "no image $RAW"; continue; }
  [ "$(stat -c %s "$RAW")" = "$(mf get "$JSON" virtual_size)" ] || fail "image size differs from virtual_size"
  partitions
  lvm
  mount_linux
  files
  initramfs
  risks
  windows
  cleanup
done
[ "$(losetup -a | wc -l)" = "$loops_before" ] || { GUEST=all; fail "loop devices left attached"; }
[ "$FAILED" = 0 ] && echo "check.sh: all ${#names[@]} guests ok" || echo "check.sh: FAILURES"
exit "$FAILED"
