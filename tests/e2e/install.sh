#!/usr/bin/env bash
# Installs the Debian packages the end-to-end guest build and boot checks need, each skipped when
# already present, so it is cheap to call before every run and complete on a fresh machine.
#
# qemu-system-x86 must match the preinstalled qemu-utils 10.0 (a bookworm-backports build; the
# bookworm 7.2 build refuses to install beside it), and GRUB for EFI must be 2.12 (bookworm's 2.06
# EFI build runs out of memory loading a kernel), so those come from bookworm-backports. That suite
# is added through a private sources list given to apt with -o Dir::Etc::sourcelist=..., leaving
# the machine's own apt configuration untouched.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
log() { printf '[e2e-install] %s\n' "$*" >&2; }

# From bookworm itself.
BASE_PKGS=(busybox-static kmod cpio fdisk e2fsprogs dosfstools mtools ovmf python3 zstd)
# From bookworm-backports (version constraints above).
BPO_PKGS=(qemu-system-x86 seabios grub-efi-amd64-bin grub-pc-bin grub-common)

missing() { local m=(); for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || m+=("$p"); done; echo "${m[@]:-}"; }
need_bpo_version() { # grub-efi-amd64-bin must be 2.12+: an older one installed counts as missing
  local v; v=$(dpkg-query -W -f='${Version}' grub-efi-amd64-bin 2>/dev/null || true)
  [ -z "$v" ] || dpkg --compare-versions "$v" lt 2.12~
}

export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

base_missing=$(missing "${BASE_PKGS[@]}")
bpo_missing=$(missing "${BPO_PKGS[@]}")
need_bpo_version && [[ " $bpo_missing " != *" grub-efi-amd64-bin "* ]] && bpo_missing="$bpo_missing grub-efi-amd64-bin"
[ -z "${base_missing// /}" ] && [ -z "${bpo_missing// /}" ] && exit 0

t0=$(date +%s)
if [ -n "${base_missing// /}" ]; then
  log "apt-get install $base_missing"
  # shellcheck disable=SC2086
  apt-get install "${APT_OPTS[@]}" $base_missing >/dev/null \
    || { apt-get update -q -o DPkg::Lock::Timeout=600 >/dev/null && apt-get install "${APT_OPTS[@]}" $base_missing >/dev/null; }
fi
if [ -n "${bpo_missing// /}" ]; then
  # The private list names the same mirror as the machine's own bookworm entry; the machine's
  # sources.list.d stays included, so an update with this list keeps every other suite's index.
  mirror=$(grep -hoE 'https?://[^ ]+/debian/?$' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -n1 || true)
  [ -n "$mirror" ] || mirror=$(grep -hoE 'https?://[^ ]+/debian/? ' /etc/apt/sources.list 2>/dev/null | head -n1 | tr -d ' ' || true)
  [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
  list="$here/.cache/apt/backports.list"
  mkdir -p "$(dirname "$list")"
  echo "deb $mirror bookworm-backports main" > "$list"
  BPO=(-o Dir::Etc::sourcelist="$list")
  if ! apt-cache "${BPO[@]}" policy qemu-system-x86 2>/dev/null | grep -q bookworm-backports; then
    log "apt-get update (with bookworm-backports)"
    apt-get "${BPO[@]}" update -q -o DPkg::Lock::Timeout=600 >/dev/null
  fi
  log "apt-get install -t bookworm-backports $bpo_missing"
  # shellcheck disable=SC2086
  apt-get "${BPO[@]}" install "${APT_OPTS[@]}" -t bookworm-backports $bpo_missing >/dev/null
fi
log "packages installed in $(( $(date +%s) - t0 )) s"
