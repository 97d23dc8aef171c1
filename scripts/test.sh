#!/usr/bin/env bash
# `npm test`: every test suite of the project, installing what each needs first. `lint` (rustfmt
# and clippy, native and wasm32: scripts/lint.sh) runs first, as it is the fastest to fail.
# With arguments, only those suites: lint rust web worker e2e. Ends with
# `suites: N passed, M failed` (each suite's own closing line comes before it).
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/suite.sh
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(lint rust web worker e2e)
suite_begin suites
for s in "${suites[@]}"; do
  case "$s" in
    lint)   suite_run lint bash scripts/lint.sh ;;
    rust)
      suite_run ensure-rust bash scripts/ensure.sh rust
      suite_run cargo-test cargo test --workspace --locked ;;
    web)    [ -f web/test.sh ] && suite_run web bash web/test.sh ;;
    worker) [ -f edge-worker/test.sh ] && suite_run worker bash edge-worker/test.sh ;;
    e2e)    [ -f tests/e2e.sh ] && suite_run e2e bash tests/e2e.sh ;;
    *) echo "unknown suite $s"; exit 2 ;;
  esac
done
suite_end
