# The prologue of the smoke tests (smoke.sh, smoke-cinder.sh). Sourced, not run:
#   . "$(dirname "${BASH_SOURCE[0]}")/lib/smoke.sh"
#   IMAGE_ID=""; cleanup() { ...delete what is still set... }
#   smoke_begin NAME 'compute latest'     # counts as suite NAME; the OpenStack-API-Version header
#   ...; ok "what worked"; [ ... ] || bad "what failed"; ...
#   smoke_end                             # `NAME: N passed, 0 failed`
# The first `bad` ends the test (`NAME: N passed, 1 failed`, exit 1) after showing the last
# response body. On exit `cleanup` (the test's own; by default nothing) runs, then $TMP goes.
# shellcheck shell=bash

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
. "$REPO_DIR/scripts/lib/suite.sh"

KS="http://127.0.0.1:$KEYSTONE_PORT/v3"
GL="http://127.0.0.1:$GLANCE_PORT"
NOVA="http://127.0.0.1:$NOVA_PORT/v2.1"
NET="http://127.0.0.1:$NEUTRON_PORT/v2.0"
CIN="http://127.0.0.1:$CINDER_PORT/v3"
# Unique per run: names of what a test creates.
SUFFIX="$(date +%s)-$$"

cleanup() { :; }

# smoke_begin NAME API_VERSION: checks the venv, makes $TMP, takes an admin token ($TOKEN).
smoke_begin() {
  suite_begin "$1"
  SMOKE_API_VERSION=$2
  [ -x "$PY" ] || die "no venv at $VENV: run install.sh first"
  TMP="$(mktemp -d)"
  trap 'set +e; cleanup; rm -rf "$TMP"' EXIT
  local auth='{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","domain":{"id":"default"},"password":"'"$ADMIN_PASSWORD"'"}}},"scope":{"project":{"name":"admin","domain":{"id":"default"}}}}}'
  TOKEN=$(curl -s --max-time 30 -D - -o "$TMP/body" -H 'Content-Type: application/json' --data "$auth" "$KS/auth/tokens" \
          | awk 'tolower($1) == "x-subject-token:" {print $2}' | tr -d '\r') || true
  [ -n "$TOKEN" ] || bad "keystone token from $KS"
}

# jget EXPR: EXPR (Python, the last response body as `d`) evaluated, printed.
jget() { "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"d": d}))' "$TMP/body" "$1"; }

ok() { suite_pass "$*"; }
bad() {
  suite_fail "$*"
  [ -s "$TMP/body" ] && { echo "----- last response body:"; head -c 2000 "$TMP/body"; echo; }
  suite_end || true
  exit 1
}

# api METHOD URL [JSON] -> HTTP code on stdout, body in $TMP/body
api() {
  local args=(-s --max-time 60 -o "$TMP/body" -w '%{http_code}' -X "$1"
              -H "X-Auth-Token: $TOKEN" -H 'Accept: application/json'
              -H "OpenStack-API-Version: $SMOKE_API_VERSION")
  [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data "$3")
  curl "${args[@]}" "$2" || echo 000
}

# upload IMAGE_ID FILE -> HTTP code of Glance's PUT of FILE as the image's data
upload() {
  curl -s --max-time 120 -o "$TMP/body" -w '%{http_code}' -X PUT -H "X-Auth-Token: $TOKEN" \
       -H 'Content-Type: application/octet-stream' -T "$2" "$GL/v2/images/$1/file" || echo 000
}

# smoke_flavor: the flavor stack.tiny (id stack-tiny) exists; FLAVOR is "created" or "exists".
smoke_flavor() {
  local code
  code=$(api GET "$NOVA/flavors/stack-tiny")
  if [ "$code" = 404 ]; then
    code=$(api POST "$NOVA/flavors" '{"flavor":{"name":"stack.tiny","id":"stack-tiny","ram":64,"vcpus":1,"disk":1}}')
    [ "$code" = 200 ] || bad "flavor create: HTTP $code"
    FLAVOR=created
  else
    [ "$code" = 200 ] || bad "flavor show: HTTP $code"
    FLAVOR=exists
  fi
}

# smoke_end: the closing line after how long the whole test took.
smoke_end() {
  log "$SUITE_NAME finished in $((SECONDS - SUITE_T0)) s"
  suite_end
}
