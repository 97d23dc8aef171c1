#!/usr/bin/env bash
# `npm start` (after scripts/build.sh): the page and the API from the edge worker at
# http://127.0.0.1:${PORT:-8787}, talking to the OpenStack named by OS_AUTH_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
exec bash edge-worker/serve.sh
