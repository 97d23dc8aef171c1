#!/usr/bin/env bash
# `npm start`: build the page and the edge worker unless they are newer than their sources
# (scripts/build.sh --if-stale web worker), then run the product (scripts/serve.sh: with no OS_AUTH_URL,
# against a local OpenStack it starts; Ctrl-C stops what it started). `npm run build` rebuilds.
set -euo pipefail
cd "$(dirname "$0")/.."
export STACKFERRY_START_T0=${STACKFERRY_START_T0:-$(date +%s.%N)}
bash scripts/ensure.sh node
bash scripts/build.sh --if-stale web worker
echo "[start] ready in $(awk -v a="$STACKFERRY_START_T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s" >&2
exec bash scripts/serve.sh
