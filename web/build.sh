#!/usr/bin/env bash
# Builds the page into web/dist/: a self-contained static site (HTML, ES modules, .wasm) that
# works from any static file server under any path. No bundler: plain ES modules.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure.sh wasm node
# The wasm build leaves out the `native` feature (std::fs and threads).
cargo build -q --locked -p stackferry --lib --target wasm32-unknown-unknown --no-default-features --release
rm -rf web/dist.tmp
mkdir -p web/dist.tmp/pkg
wasm-bindgen --target web --no-typescript --out-dir web/dist.tmp/pkg \
  target/wasm32-unknown-unknown/release/stackferry.wasm
# Optional: shrink and speed up the module with binaryen's wasm-opt when npm installed it.
if [ -x node_modules/.bin/wasm-opt ] && [ "${STACKFERRY_NO_WASM_OPT:-}" = "" ]; then
  node_modules/.bin/wasm-opt -O3 --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    web/dist.tmp/pkg/stackferry_bg.wasm -o web/dist.tmp/pkg/stackferry_bg.opt.wasm
  mv web/dist.tmp/pkg/stackferry_bg.opt.wasm web/dist.tmp/pkg/stackferry_bg.wasm
fi
cp -r web/src/. web/dist.tmp/
rm -rf web/dist
mv web/dist.tmp web/dist
echo "web: built web/dist ($(du -sh web/dist | cut -f1))"
