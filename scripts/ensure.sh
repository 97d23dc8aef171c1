#!/usr/bin/env bash
# Installs what the build and tests need, each step skipped when already done, so it is cheap
# to call before every build or test run on a developer's machine and complete on a fresh one.
# Usage: scripts/ensure.sh [rust] [lint] [wasm] [chromium] [node] [worker] [openstack] ...
# Only the registries these machines reach are used (crates.io, npm, Debian, PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen crate pinned in Cargo.lock
WORKER_BUILD_VERSION=0.8.7
log() { printf '[ensure] %s\n' "$*" >&2; }
# cargo_install CRATE VERSION: the build tools are compiled once per machine. One target dir for
# both (they share clap, serde, anyhow...), and a release profile that compiles faster: they
# process one small wasm file per build, so opt-level 1 costs nothing measurable at run time.
cargo_install() {
  CARGO_TARGET_DIR="${CARGO_HOME:-$HOME/.cargo}/stackferry-tools-target" CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    CARGO_PROFILE_RELEASE_DEBUG=0 CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install -q "$1" --version "$2"
}
apt_install() {
  local missing=()
  # Fully installed only: another job (scripts/test.sh prepares OpenStack in the background) may
  # be half-way through installing it.
  for p in "$@"; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  local o=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=900)
  apt-get install "${o[@]}" "${missing[@]}" >/dev/null \
    || { apt-get update -q -o DPkg::Lock::Timeout=900 >/dev/null && apt-get install "${o[@]}" "${missing[@]}" >/dev/null; }
}
wasm_target() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown && return 0
  log "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
}
# scripts/test.sh may be installing the build tools in the background (TOOLS_PREP_LOCK held by
# that job): wait for it rather than compile the same crates beside it.
if [ -n "${TOOLS_PREP_LOCK:-}" ] && [ -e "$TOOLS_PREP_LOCK" ] && [[ " $* " =~ \ (wasm|worker|node)\  ]]; then
  log "waiting for the build tools being installed in the background"
  flock "$TOOLS_PREP_LOCK" true
fi
for what in "$@"; do
  case "$what" in
    rust)
      command -v qemu-img >/dev/null || apt_install qemu-utils ;;
    lint)
      for c in rustfmt clippy; do
        rustup component list --installed | grep -q "^$c" || { log "rustup component add $c"; rustup component add "$c"; }
      done
      wasm_target ;;
    wasm)
      wasm_target
      if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
        log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes)"
        cargo_install wasm-bindgen-cli "$WASM_BINDGEN_VERSION"
      fi ;;
    chromium)
      # fonts-noto-cjk: Korean text (the page's 한국어) renders in headless screenshots.
      apt_install chromium chromium-driver fonts-noto-cjk ;;
    node)
      if [ ! -d node_modules ] || [ package.json -nt node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
        log "npm install"; npm install --no-audit --no-fund --loglevel=error
      fi ;;
    worker)
      if [ "$(worker-build --version 2>/dev/null | awk '{print $NF}')" != "$WORKER_BUILD_VERSION" ]; then
        log "cargo install worker-build $WORKER_BUILD_VERSION (a few minutes)"
        cargo_install worker-build "$WORKER_BUILD_VERSION"
      fi ;;
    openstack)
      bash tests/openstack/install.sh ;;
    format-inspector)
      # OpenStack's own image check (tests/format-inspector/check.py) at the kit's pinned version;
      # its LUKS inspector imports cryptography, which oslo.utils does not declare.
      venv=target/format-inspector
      if ! "$venv/bin/python" -c 'import oslo_utils.imageutils.format_inspector' 2>/dev/null; then
        log "python venv with oslo.utils (format_inspector) in $venv"
        apt_install python3-venv
        rm -rf "$venv" && python3 -m venv "$venv"
        "$venv/bin/pip" install -q --disable-pip-version-check -c tests/openstack/constraints.txt oslo.utils cryptography
      fi ;;
    *) echo "ensure.sh: unknown component '$what'" >&2; exit 2 ;;
  esac
done
