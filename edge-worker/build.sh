#!/usr/bin/env bash
# Builds the edge worker into edge-worker/build/ (index.js + index_bg.wasm) with worker-build,
# offline: wasm-bindgen, esbuild and wasm-opt come from what scripts/ensure.sh installed
# (worker-build would otherwise download them from GitHub, which these machines cannot reach).
set -euo pipefail
cd "$(dirname "$0")"
ROOT="$(cd .. && pwd)"
bash "$ROOT/scripts/ensure.sh" wasm worker node
export WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
export ESBUILD_BIN="$ROOT/node_modules/@esbuild/linux-x64/bin/esbuild"
[ -x "$ESBUILD_BIN" ] || { echo "edge-worker/build.sh: no esbuild at $ESBUILD_BIN (npm install)" >&2; exit 1; }
opt=(--no-opt)
if [ -x "$ROOT/node_modules/.bin/wasm-opt" ]; then
  export WASM_OPT_BIN="$ROOT/node_modules/.bin/wasm-opt"; opt=()
fi
T0=$(date +%s)
worker-build --release "${opt[@]}"
echo "edge-worker: built build/index.js + $(du -k build/index_bg.wasm | cut -f1) KiB wasm in $(( $(date +%s) - T0 )) s" >&2
