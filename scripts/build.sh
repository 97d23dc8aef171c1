#!/usr/bin/env bash
# Builds the native CLI and, when their build scripts exist, the page and the edge worker.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure.sh rust
cargo build --release --locked --bin stackferry
[ -f web/build.sh ] && bash web/build.sh
[ -f edge-worker/build.sh ] && bash edge-worker/build.sh
exit 0
