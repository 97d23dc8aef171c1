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
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
    || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
}
wasm_target() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown && return 0
  log "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
}
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
        log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 6 minutes)"
        cargo install -q wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
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
        log "cargo install worker-build $WORKER_BUILD_VERSION (about 5 minutes)"
        cargo install -q worker-build --version "$WORKER_BUILD_VERSION"
      fi ;;
    openstack)
      bash tests/openstack/install.sh ;;
    *) echo "ensure.sh: unknown component '$what'" >&2; exit 2 ;;
  esac
done
