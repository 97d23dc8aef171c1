#!/usr/bin/env bash
# `npm test`: every test suite of the project, installing what each needs first. `lint` (rustfmt
# and clippy, native and wasm32: scripts/lint.sh) runs first, as it is the fastest to fail.
# With arguments, only those suites: lint rust web worker e2e, or `large` (`npm run test:large`:
# the staged uploads alone, the worker's and the page's, which web and worker also run). Ends with
# `suites: N passed, M failed` (each suite's own closing line comes before it).
#
# One OpenStack for all suites: when a suite that needs it is asked for and none runs, the
# packages and the kit are installed and the stack started in the background while lint and the
# Rust tests compile (scripts/openstack-stack.sh stack_prepare); web, worker and e2e find it up
# and leave it up; it is stopped here at the end. Then the one test that needs no OpenStack
# running (`npm start` starting its own: tests/e2e/start.test.mjs) runs last.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/suite.sh
. scripts/openstack-stack.sh
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(lint rust web worker e2e)
suite_begin suites
prep_log=
tools_log=
needs_stack=0
for s in "${suites[@]}"; do case "$s" in web | worker | e2e | large) needs_stack=1 ;; esac; done
# The build tools the browser suites need (npm packages, wasm-bindgen-cli, worker-build: minutes
# of downloads and compiles on a fresh machine) are installed in the background too, beside lint
# and the Rust tests; scripts/ensure.sh waits for this job before installing any of them itself.
# The Rust toolchain's parts come first, in the foreground: lint needs them at once, and two
# rustup runs must not change the toolchain at the same time.
if [ "$needs_stack" = 1 ]; then
  suite_run ensure-toolchain bash scripts/ensure.sh lint
  tools_log=$(mktemp "${TMPDIR:-/tmp}/stackferry-tools-prep.XXXXXX.log")
  export TOOLS_PREP_LOCK
  TOOLS_PREP_LOCK=$(mktemp "${TMPDIR:-/tmp}/stackferry-tools-prep.XXXXXX")
  exec 9>"$TOOLS_PREP_LOCK"
  flock 9
  ( TOOLS_PREP_LOCK='' suite_bg_step "npm install" bash scripts/ensure.sh node 9>&- \
      && TOOLS_PREP_LOCK='' suite_bg_step "wasm-bindgen-cli, worker-build" bash scripts/ensure.sh wasm worker 9>&-
    echo "tools_prepare: exit $?" ) >"$tools_log" 2>&1 &
  exec 9>&-
fi
if [ "$needs_stack" = 1 ] && [ "${STACK_SHARED:-1}" != 0 ]; then
  prep_log=$(mktemp "${TMPDIR:-/tmp}/stackferry-stack-prep.XXXXXX.log")
  stack_prepare "$prep_log"
  export STACK_SHARED=$STACK_STARTED
  trap 'stack_stop; exit 130' INT TERM
fi
for s in "${suites[@]}"; do
  case "$s" in
    lint)   suite_run lint bash scripts/lint.sh ;;
    rust)
      suite_run ensure-rust bash scripts/ensure.sh rust format-inspector
      suite_run cargo-test cargo test --workspace --locked ;;
    web)    [ -f web/test.sh ] && suite_run web bash web/test.sh ;;
    worker) [ -f edge-worker/test.sh ] && suite_run worker bash edge-worker/test.sh ;;
    e2e)    [ -f tests/e2e.sh ] && suite_run e2e bash tests/e2e.sh ;;
    large)
      suite_run worker-staged bash edge-worker/test.sh edge-worker/tests/staged.test.mjs
      suite_run web-staged bash web/test.sh "osweb staged" ;;
    *) echo "unknown suite $s"; exit 2 ;;
  esac
done
if [ -n "$tools_log" ]; then
  echo "--- build tools (installed in the background): $tools_log"
  tail -n 5 "$tools_log"
fi
if [ "$STACK_STARTED" = 1 ]; then
  echo "--- OpenStack (background preparation, then shared by the suites): $prep_log"
  tail -n 5 "$prep_log"
  suite_run openstack-stop stack_stop
  trap - INT TERM
  # e2e skipped its cold `npm start` test while the shared stack ran: it runs now.
  if [[ " ${suites[*]} " == *" e2e "* ]] && [ "${E2E_START_TEST:-1}" != 0 ]; then
    suite_run npm-start-cold node tests/e2e/start.test.mjs
  fi
fi
rm -f ${prep_log:+"$prep_log"} ${STACK_PREP_LOCK:+"$STACK_PREP_LOCK"} ${tools_log:+"$tools_log"} ${TOOLS_PREP_LOCK:+"$TOOLS_PREP_LOCK"}
suite_end
