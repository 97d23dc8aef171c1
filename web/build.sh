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
# No wasm-opt: binaryen's -O3 (npm binaryen@132) made decoding no faster here, only smaller.
cp -r web/src/. web/dist.tmp/
rm -rf web/dist
mv web/dist.tmp web/dist
echo "web: built web/dist ($(du -sh web/dist | cut -f1))"
