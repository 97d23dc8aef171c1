#!/usr/bin/env bash
# The lint suite (`npm run lint`; the first suite of `npm test`): the tree is formatted
# (rustfmt.toml) and clippy finds nothing, with warnings as errors, natively for the whole
# workspace and all targets, and for wasm32 as the page and the edge worker are built (with
# the converter's wasm-only tests/wasm_bindings.rs, which native builds compile empty). Installs
# rustfmt, clippy and the wasm32 target first (scripts/ensure.sh lint). Every check runs even
# when one fails (clippy stops at the first crate with findings: fix those, then run it again).
# Ends with `lint: N passed, M failed`.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/suite.sh
suite_begin lint
if suite_timed install bash scripts/ensure.sh lint; then
  suite_run fmt cargo fmt --all --check
  suite_run clippy cargo clippy --locked --workspace --all-targets -- -D warnings
  # Both wasm32 crates in one run: their shared dependencies (web-sys, js-sys, the core) are
  # then checked once, with one feature set (two runs took 127 s cold, this one 99 s).
  suite_run clippy-wasm32 cargo clippy --locked -p stackferry -p stackferry-edge --no-default-features \
    --target wasm32-unknown-unknown --lib --test wasm_bindings --test limits --test malformed -- -D warnings
else
  suite_fail "install rustfmt, clippy, wasm32 (scripts/ensure.sh lint)"
fi
suite_end
