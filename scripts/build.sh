#!/usr/bin/env bash
# `npm run build`: the native CLI (release), the page (web/dist) and the edge worker
# (edge-worker/build). With arguments, only those: cli web worker. `--if-stale` first: only the
# parts whose output is missing or older than a source (`npm start` and the e2e suite: the page
# and the worker; the CLI is for admins and scripts, `stackferry inspect|convert|ls|cat`).
set -euo pipefail
cd "$(dirname "$0")/.."
if_stale=0
[ "${1:-}" = --if-stale ] && { if_stale=1; shift; }
parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(cli web worker)
core=(Cargo.toml Cargo.lock converter-wasm/Cargo.toml converter-wasm/src)
# needed OUTPUT SOURCE...: always, or with --if-stale when OUTPUT is missing or a file under a
# SOURCE is newer.
needed() {
  local out=$1
  shift
  [ "$if_stale" = 0 ] || [ ! -e "$out" ] || [ -n "$(find "$@" -newer "$out" -print -quit)" ] && return 0
  echo "build.sh: $out is up to date"
  return 1
}
for p in "${parts[@]}"; do
  case "$p" in
    cli)
      if needed target/release/stackferry "${core[@]}"; then
        bash scripts/ensure.sh rust
        cargo build --release --locked --bin stackferry
      fi ;;
    web)
      if needed web/dist/index.html "${core[@]}" web/src web/build.sh; then bash web/build.sh; fi ;;
    worker)
      if needed edge-worker/build/index.js "${core[@]}" edge-worker/Cargo.toml edge-worker/src edge-worker/build.sh; then
        bash edge-worker/build.sh
      fi ;;
    *) echo "build.sh: unknown part '$p' (cli web worker)" >&2; exit 2 ;;
  esac
done
