#!/usr/bin/env bash
# `npm start`: build (scripts/build.sh web worker: the page, the edge worker) unless every output
# is newer than its sources, then run the product (scripts/serve.sh: with no OS_AUTH_URL,
# against a local OpenStack it starts; Ctrl-C stops what it started). `npm run build` rebuilds.
set -euo pipefail
cd "$(dirname "$0")/.."
export STACKFERRY_START_T0=${STACKFERRY_START_T0:-$(date +%s.%N)}
# stale OUTPUT SOURCE...: OUTPUT is missing or a file under a SOURCE is newer
stale() { local out=$1; shift; [ ! -e "$out" ] || [ -n "$(find "$@" -newer "$out" -print -quit)" ]; }
core=(Cargo.toml Cargo.lock converter-wasm/Cargo.toml converter-wasm/src)
bash scripts/ensure.sh node
if stale web/dist/index.html "${core[@]}" web/src web/build.sh \
   || stale edge-worker/build/index.js "${core[@]}" edge-worker/Cargo.toml edge-worker/src edge-worker/build.sh; then
  bash scripts/build.sh web worker
  echo "[start] built in $(awk -v a="$STACKFERRY_START_T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s" >&2
else
  echo "[start] web/dist and the edge worker are up to date" >&2
fi
exec bash scripts/serve.sh
