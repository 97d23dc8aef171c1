#!/usr/bin/env bash
# `npm run build`: the native CLI (release), the page (web/dist) and the edge worker
# (edge-worker/build). With arguments, only those: cli web worker. `npm start` builds `web worker`
# (what it serves); the CLI is for admins and scripts (`stackferry inspect|convert|ls|cat`).
set -euo pipefail
cd "$(dirname "$0")/.."
parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(cli web worker)
for p in "${parts[@]}"; do
  case "$p" in
    cli) bash scripts/ensure.sh rust && cargo build --release --locked --bin stackferry ;;
    web) bash web/build.sh ;;
    worker) bash edge-worker/build.sh ;;
    *) echo "build.sh: unknown part '$p' (cli web worker)" >&2; exit 2 ;;
  esac
done
