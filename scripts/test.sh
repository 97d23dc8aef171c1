#!/usr/bin/env bash
# `npm test`: every test suite of the project, installing what each needs first.
# With arguments, only those suites: rust web worker e2e.
set -uo pipefail
cd "$(dirname "$0")/.."
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(rust web worker e2e)
passed=0; failed=0; failed_names=()
run() { # name command...
  local name=$1; shift
  echo "=== $name: $*"
  if "$@"; then passed=$((passed+1)); else failed=$((failed+1)); failed_names+=("$name"); fi
}
for s in "${suites[@]}"; do
  case "$s" in
    rust)
      run ensure-rust bash scripts/ensure.sh rust
      run cargo-test cargo test --workspace --locked ;;
    web)    [ -f web/test.sh ] && run web bash web/test.sh ;;
    worker) [ -f edge-worker/test.sh ] && run worker bash edge-worker/test.sh ;;
    e2e)    [ -f tests/e2e.sh ] && run e2e bash tests/e2e.sh ;;
    *) echo "unknown suite $s"; exit 2 ;;
  esac
done
echo
[ $failed -gt 0 ] && echo "failed suites: ${failed_names[*]}"
echo "suites: $passed passed, $failed failed"
[ $failed -eq 0 ]
