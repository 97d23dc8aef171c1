#!/usr/bin/env bash
# Serves the page (web/dist) and the API at http://$HOST:$PORT (default 127.0.0.1:8787) with the
# built worker: self-hosted workerd (edge-worker/workerd.dev.capnp) by default, `wrangler dev` with
# STACKFERRY_RUNTIME=wrangler. Settings come from the environment (see edge-worker/README.md);
# OS_AUTH_URL defaults to the test cloud of tests/openstack. Runs in the foreground.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8787}
export OS_AUTH_URL=${OS_AUTH_URL:-http://127.0.0.1:5000/v3}
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false DO_NOT_TRACK=1 CLOUDFLARE_CF_FETCH_ENABLED=false
mkdir -p web/dist
[ -f edge-worker/build/index.js ] || bash edge-worker/build.sh
SETTINGS=(OS_AUTH_URL ALLOWED_AUTH_URLS OS_REGION_NAME OS_INTERFACE ALLOWED_ORIGINS UPLOAD_MAX_BYTES
          LOGIN_MAX_ATTEMPTS LOGIN_WINDOW_SECONDS CLIENT_IP_HEADER)
case "${STACKFERRY_RUNTIME:-workerd}" in
  workerd)
    if [ -z "${SESSION_KEY:-}" ]; then
      SESSION_KEY=$(head -c 32 /dev/urandom | base64)
      echo "serve: SESSION_KEY is not set; using a random key (sessions end when this process stops)" >&2
    fi
    export SESSION_KEY
    echo "stackferry: http://$HOST:$PORT  (workerd; OpenStack at $OS_AUTH_URL)" >&2
    # the shipped configuration plus this host's loopback, where the test cloud listens
    exec "$ROOT/node_modules/.bin/workerd" serve "$ROOT/edge-worker/workerd.dev.capnp" \
      --socket-addr "http=$HOST:$PORT" --directory-path "assets=$ROOT/web/dist" ;;
  wrangler)
    cd edge-worker
    # the secret goes into .dev.vars (gitignored, mode 600), not onto the command line
    if [ -n "${SESSION_KEY:-}" ]; then
      (umask 077; printf 'SESSION_KEY=%s\n' "$SESSION_KEY" > .dev.vars)
    elif ! grep -qs '^SESSION_KEY=' .dev.vars; then
      (umask 077; printf 'SESSION_KEY=%s\n' "$(head -c 32 /dev/urandom | base64)" > .dev.vars)
    fi
    vars=()
    for v in "${SETTINGS[@]}"; do [ -n "${!v:-}" ] && vars+=(--var "$v:${!v}"); done
    exec "$ROOT/node_modules/.bin/wrangler" dev --ip "$HOST" --port "$PORT" --show-interactive-dev-session=false "${vars[@]}" ;;
  *) echo "serve: STACKFERRY_RUNTIME must be workerd or wrangler" >&2; exit 2 ;;
esac
