#!/usr/bin/env bash
# The web suite (npm test runs it through scripts/test.sh): builds the page, runs the wasm
# bindings' tests in headless Chromium inside a dedicated worker, then the page tests
# (playwright-core driving Debian's Chromium against web/dist on a local static server).
# Ends with `web: N passed, M failed`. Arguments: a page-test name filter.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure.sh wasm chromium node rust || { echo "web: 0 passed, 1 failed"; exit 1; }
passed=0; failed=0
if bash web/build.sh; then passed=$((passed+1)); echo "ok   build web/dist"; else failed=$((failed+1)); echo "FAIL build web/dist"; echo "web: $passed passed, $failed failed"; exit 1; fi

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
echo "web: $passed passed, $failed failed"
[ $failed -eq 0 ]
