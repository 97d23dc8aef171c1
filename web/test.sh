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
bash scripts/ensure.sh wasm chromium node rust || { echo "web: 0 passed, 1 failed"; exit 1; }
passed=0; failed=0
if bash web/build.sh; then passed=$((passed+1)); echo "ok   build web/dist"; else failed=$((failed+1)); echo "FAIL build web/dist"; echo "web: $passed passed, $failed failed"; exit 1; fi

# The page's modules that need no browser (the worker bridge, the printed commands, the
# OpenStack API client), under node: web/tests/unit/. Each test is counted.
log=$(mktemp)
pattern=(); [ $# -gt 0 ] && pattern=(--test-name-pattern="$1")
node --test --test-reporter=tap "${pattern[@]}" web/tests/unit/ >"$log" 2>&1
grep -E '^(not )?ok ' "$log" | sed 's/^/unit: /'
up=$(awk '/^# pass /{print $3}' "$log"); uf=$(awk '/^# fail /{print $3}' "$log")
if [ -z "$up" ] || [ -z "$uf" ]; then up=0; uf=1; tail -30 "$log"; fi
[ "$uf" -gt 0 ] && grep -A30 -E '^not ok ' "$log" | head -80
rm -f "$log"
passed=$((passed+up)); failed=$((failed+uf))

# wasm-bindgen tests: each test is counted. (No -q: cargo would pass --quiet on to
# wasm-bindgen-test-runner, which refuses it.)
log=$(mktemp)
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner CHROMEDRIVER=/usr/bin/chromedriver \
  cargo test --locked -p stackferry --no-default-features --target wasm32-unknown-unknown --test wasm_bindings >"$log" 2>&1
rc=$?
grep -E '^test .* \.\.\. ' "$log" | sed 's/^/wasm: /'
wp=$(grep -cE '^test .* \.\.\. ok$' "$log")
wf=$(grep -cE '^test .* \.\.\. FAILED$' "$log")
if [ $rc -ne 0 ] && [ "$wf" -eq 0 ]; then wf=1; tail -30 "$log"; fi
[ "$wf" -gt 0 ] && grep -A30 -E '^failures:' "$log" | head -60
rm -f "$log"
passed=$((passed+wp)); failed=$((failed+wf))

# Page tests (they use the native CLI's `digest` as the reference content digest).
cargo build -q --locked --bin stackferry || { echo "FAIL build the CLI"; failed=$((failed+1)); }
log=$(mktemp)
node web/tests/page.test.mjs "$@" | tee "$log"
line=$(grep -E '^page: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
rm -f "$log"
if [ -n "$line" ]; then
  pp=$(echo "$line" | awk '{print $2}'); pf=$(echo "$line" | awk '{print $4}')
else
  pp=0; pf=1
fi
passed=$((passed+pp)); failed=$((failed+pf))

# The page against real OpenStack.
if [ "${WEB_OPENSTACK:-1}" != 0 ] && { [ $# -eq 0 ] || [[ "$1" == osweb* ]]; }; then
  . scripts/openstack-stack.sh
  trap 'stack_stop; exit 130' INT TERM
  t0=$SECONDS
  if stack_install >/dev/null && bash edge-worker/build.sh && stack_start web; then
    echo "osweb: OpenStack and the edge worker ready in $((SECONDS - t0)) s"
    log=$(mktemp)
    t1=$SECONDS
    node web/tests/openstack.test.mjs "$@" | tee "$log"
    echo "osweb: tests took $((SECONDS - t1)) s"
    line=$(grep -E '^osweb: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
    rm -f "$log"
    if [ -n "$line" ]; then
      pp=$(echo "$line" | awk '{print $2}'); pf=$(echo "$line" | awk '{print $4}')
    else
      pp=0; pf=1
    fi
  else
    echo "FAIL osweb: OpenStack or the edge worker could not be set up"
    pp=0; pf=1
  fi
  t2=$SECONDS
  if [ "$STACK_STARTED" = 1 ]; then stack_stop; echo "osweb: OpenStack stop $((SECONDS - t2)) s"; fi
  trap - INT TERM
  passed=$((passed+pp)); failed=$((failed+pf))
fi
echo "web: $passed passed, $failed failed"
[ $failed -eq 0 ]
