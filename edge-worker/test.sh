#!/usr/bin/env bash
# The edge worker's suite (`npm test` runs it through scripts/test.sh): installs and starts the
# OpenStack of tests/openstack (real Keystone, Glance, Placement, Nova with the fake driver,
# Neutron, Cinder on 127.0.0.1), builds the worker, and runs edge-worker/tests/*.test.mjs,
# which start workerd themselves. Stops what it started: workerd (the tests, by PID) and OpenStack
# (tests/openstack/stop.sh, by pidfile) unless OpenStack was already running before.
# Output ends with "worker: N passed, M failed". Prints how long each step took.
# Arguments: test files to run instead of all (`npm run test:large`: the staged uploads). The
# files pick their runtime: staged.test.mjs runs `wrangler dev` (its local R2) itself, the
# others workerd unless WORKER_RUNTIME says otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/suite.sh
. scripts/openstack-stack.sh
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false DO_NOT_TRACK=1 CLOUDFLARE_CF_FETCH_ENABLED=false
suite_begin worker
step() { # NAME CMD...: run and time a set-up step; stop the suite on failure
  local name=$1
  shift
  echo "--- worker: $name"
  suite_timed "$name" "$@" || { suite_fail "step '$name'"; finish; }
}
finish() { # stops what this suite started, prints the closing line, exits with its status
  trap - INT TERM
  if [ "$STACK_STARTED" = 1 ]; then suite_timed "openstack stop" stack_stop; fi
  suite_end
  exit $?
}
trap 'suite_fail interrupted; finish' INT TERM
files=("$@")
# All of them: two files at a time, the longest first (expiry.test.mjs spends minutes waiting for a
# token to expire), then load.test.mjs alone (it restarts Glance and Keystone under everything
# running). Files named on the command line: one at a time, in order.
concurrency=1
alone=()
if [ ${#files[@]} -eq 0 ]; then
  concurrency=2
  files=(edge-worker/tests/expiry.test.mjs)
  for f in edge-worker/tests/*.test.mjs; do
    case "$f" in */expiry.test.mjs) ;; */load.test.mjs) alone=("$f") ;; *) files+=("$f") ;; esac
  done
fi

step "ensure node" bash scripts/ensure.sh node
step "openstack install" stack_install
step "worker build" bash scripts/build.sh --if-stale worker
step "openstack start" stack_start worker
mkdir -p web/dist
# run_files LABEL CONCURRENCY FILE...: the files under node --test, counted and timed.
run_files() {
  local label=$1 n=$2 tap t0=$SECONDS rc=0
  shift 2
  tap="$(mktemp)"
  node --test --test-concurrency="$n" --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tap" "$@" || rc=$?
  suite_time "$label" $((SECONDS - t0))
  suite_add_tap "$tap" "$rc"
  rm -f "$tap"
}
run_files tests "$concurrency" "${files[@]}"
[ ${#alone[@]} -gt 0 ] && run_files "tests alone (${alone[*]##*/})" 1 "${alone[@]}"
finish
