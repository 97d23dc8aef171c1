#!/usr/bin/env bash
# Builds the page into web/dist/: a self-contained static site (HTML, ES modules, .wasm) that
# works from any static file server under any path. No bundler: plain ES modules.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf web/dist.tmp
mkdir -p web/dist.tmp/pkg
if [ -n "${WEB_PKG:-}" ]; then
  # Page-only work: reuse a wasm-bindgen output built before (WEB_PKG=its directory).
  cp "$WEB_PKG"/stackferry.js "$WEB_PKG"/stackferry_bg.wasm web/dist.tmp/pkg/
else
  bash scripts/ensure.sh wasm node
  # The wasm build leaves out the `native` feature (std::fs and threads).
  cargo build -q --locked -p stackferry --lib --target wasm32-unknown-unknown --no-default-features --release
  wasm-bindgen --target web --no-typescript --out-dir web/dist.tmp/pkg \
    target/wasm32-unknown-unknown/release/stackferry.wasm
fi
# No wasm-opt: binaryen's -O3 (npm binaryen@132) made decoding no faster here, only smaller.
cp -r web/src/. web/dist.tmp/
rm -rf web/dist
mv web/dist.tmp web/dist
echo "web: built web/dist ($(du -sh web/dist | cut -f1))"
