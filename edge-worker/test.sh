#!/usr/bin/env bash
# The edge worker's suite (`npm test` runs it through scripts/test.sh): installs and starts the
# OpenStack of tests/openstack (real Keystone, Glance, Placement, Nova with the fake driver,
# Neutron on 127.0.0.1), builds the worker, and runs edge-worker/tests/*.test.mjs, which start
# workerd themselves. Stops what it started: workerd (the tests, by PID) and OpenStack
# (tests/openstack/stop.sh, by pidfile) unless OpenStack was already running before.
# Output ends with "worker: N passed, N failed". Prints how long each step took.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
. scripts/openstack-stack.sh
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false DO_NOT_TRACK=1 CLOUDFLARE_CF_FETCH_ENABLED=false
times=()
step() { # NAME CMD...: run, time, stop the suite on failure
  local name=$1 t0=$SECONDS; shift
  echo "--- worker: $name"
  if ! "$@"; then
    echo "worker: step '$name' failed"
    finish 1
  fi
  times+=("$name $((SECONDS - t0)) s")
}
finish() {
  if [ "$STACK_STARTED" = 1 ]; then
    local t0=$SECONDS
    stack_stop
    times+=("openstack stop $((SECONDS - t0)) s")
  fi
  echo "worker timings: $(IFS=';'; echo "${times[*]}")"
  if [ "${passed:-}" = "" ]; then echo "worker: 0 passed, 1 failed"; exit 1; fi
  echo "worker: $passed passed, $failed failed"
  [ "$failed" = 0 ] && [ "$1" = 0 ]
  exit $?
}
trap 'finish 130' INT TERM

step "ensure node" bash scripts/ensure.sh node
step "openstack install" stack_install
step "worker build" bash edge-worker/build.sh
step "openstack start" stack_start worker
mkdir -p web/dist
tap="$(mktemp)"
t0=$SECONDS
node --test --test-concurrency=1 --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" edge-worker/tests/*.test.mjs
rc=$?
times+=("tests $((SECONDS - t0)) s")
passed=$(awk '/^# pass /{print $3}' "$tap" | tail -1)
failed=$(awk '/^# fail /{print $3}' "$tap" | tail -1)
passed=${passed:-0}; failed=${failed:-0}
[ "$rc" != 0 ] && [ "$failed" = 0 ] && failed=1
rm -f "$tap"
finish "$rc"
