#!/usr/bin/env bash
# `npm start`: build everything and run the product.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
if [ -f scripts/serve.sh ]; then exec bash scripts/serve.sh; fi
echo
echo "stackferry CLI built: target/release/stackferry"
target/release/stackferry --help
