#!/usr/bin/env bash
# Serve the built page (web/dist) on http://127.0.0.1:${PORT:-8787}/ (npm start ends here).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f web/dist/index.html ] || bash web/build.sh
exec node web/serve.mjs web/dist
