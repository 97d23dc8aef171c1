#!/usr/bin/env bash
# The web suite (npm test runs it through scripts/test.sh): builds the page, runs the page's
# node unit tests (web/tests/unit/), the wasm bindings' tests in headless Chromium inside a
# dedicated worker, then the page tests
# (playwright-core driving Debian's Chromium against web/dist on a local static server), then
# the page against real OpenStack (web/tests/openstack.test.mjs: the edge worker under workerd
# and the OpenStack of tests/openstack, installed and started as edge-worker/test.sh does, via
# scripts/openstack-stack.sh, and stopped again if this suite started it; WEB_OPENSTACK=0
# skips it). Ends with `web: N passed, M failed`. Arguments: a test name filter (a filter
# starting with "osweb" runs only the OpenStack tests).
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/suite.sh
suite_begin web
suite_timed install bash scripts/ensure.sh wasm chromium node rust format-inspector || { suite_fail "install (scripts/ensure.sh)"; suite_end; exit 1; }
if suite_timed build bash web/build.sh; then suite_pass "build web/dist"; else suite_fail "build web/dist"; suite_end; exit 1; fi

# The page's modules that need no browser (the worker bridge, the printed commands, the
# OpenStack API client), under node: web/tests/unit/. Each test is counted.
log=$(mktemp)
pattern=(); [ $# -gt 0 ] && pattern=(--test-name-pattern="$1")
rc=0
suite_timed unit node --test --test-reporter=tap "${pattern[@]}" web/tests/unit/ >"$log" 2>&1 || rc=$?
grep -E '^(not )?ok ' "$log" | sed 's/^/unit: /'
[ $rc -ne 0 ] && grep -A30 -E '^not ok ' "$log" | head -80
suite_add_tap "$log" $rc
rm -f "$log"

# wasm-bindgen tests: the bindings, and the size limits and the malformed corpus in wasm32
# (where integer widths and allocation failures differ); each test is counted. In release, as
# web/build.sh builds the core: most of the wasm32 build is then shared (a debug build would
# compile every dependency again). (No -q: cargo would pass --quiet on to
# wasm-bindgen-test-runner, which refuses it.)
log=$(mktemp)
rc=0
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner CHROMEDRIVER=/usr/bin/chromedriver \
  suite_timed wasm32 cargo test --locked --release -p stackferry --no-default-features --target wasm32-unknown-unknown \
    --test wasm_bindings --test limits --test malformed >"$log" 2>&1 || rc=$?
suite_add_cargo wasm "$log" $rc
rm -f "$log"

# Page tests (they use the native CLI's `digest` as the reference content digest). Built as
# `cargo test --workspace` builds it for its own tests (nothing to do after the rust suite): a
# `cargo build` resolves other dependency features and compiled the core again (53 s).
suite_timed "build the CLI" cargo test -q --locked --workspace --no-run || suite_fail "build the CLI"
log=$(mktemp)
t0=$SECONDS
node web/tests/page.test.mjs "$@" | tee "$log"
suite_time page $((SECONDS - t0))
suite_add_result "$log" page
rm -f "$log"

# The page against real OpenStack.
if [ "${WEB_OPENSTACK:-1}" != 0 ] && { [ $# -eq 0 ] || [[ "$1" == osweb* ]]; }; then
  . scripts/openstack-stack.sh
  trap 'stack_stop; exit 130' INT TERM
  osweb_setup() { stack_install >/dev/null && bash scripts/build.sh --if-stale worker && stack_start web; }
  if suite_timed "osweb: OpenStack and the edge worker ready" osweb_setup; then
    log=$(mktemp)
    t0=$SECONDS
    node web/tests/openstack.test.mjs "$@" | tee "$log"
    suite_time "osweb: tests" $((SECONDS - t0))
    suite_add_result "$log" osweb
    rm -f "$log"
  else
    suite_fail "osweb: OpenStack or the edge worker could not be set up"
  fi
  if [ "$STACK_STARTED" = 1 ]; then suite_timed "osweb: OpenStack stop" stack_stop; fi
  trap - INT TERM
fi
suite_end
