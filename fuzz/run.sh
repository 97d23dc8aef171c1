#!/usr/bin/env bash
# Coverage-guided fuzzing of the converter core: `bash fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]`
# (default 600 s each, every target). Needs cargo-fuzz (`cargo install cargo-fuzz`); runs on
# stable through RUSTC_BOOTSTRAP=1. New inputs that reach new code go to fuzz/corpus/<target>
# (commit the interesting ones: `cargo test -p stackferry --test fuzz_corpus` replays them on
# stable); a crash is written to fuzz/artifacts/<target>/ — add it to the corpus once fixed.
# The input target also starts from the real fixtures in converter-wasm/tests/data (not copied).
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-600}; shift || true
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(input guest initramfs lvm2_text convert descriptor ovf manifest ova gzip qcow2)
command -v cargo-fuzz >/dev/null || { echo "fuzz/run.sh: cargo-fuzz is not installed (cargo install cargo-fuzz)" >&2; exit 2; }
export RUSTC_BOOTSTRAP=1
for t in "${targets[@]}"; do
  seeds=(); [ "$t" = input ] && seeds=(../converter-wasm/tests/data)
  # Guest disks are megabytes; the others are small.
  max=$([ "$t" = guest ] && echo 1048576 || echo 524288)
  echo "--- fuzz $t for $secs s"
  cargo fuzz run "$t" "corpus/$t" "${seeds[@]}" -- -max_total_time="$secs" -max_len="$max" -rss_limit_mb=2048 \
    -timeout=20 -print_final_stats=1 2>&1 | grep -E '^(#[0-9]+ +DONE|stat::|==[0-9]+==|SUMMARY|Done|artifact_prefix|Test unit written)' || true
  [ -z "$(ls -A "artifacts/$t" 2>/dev/null)" ] || { echo "fuzz/run.sh: $t crashed: fuzz/artifacts/$t" >&2; exit 1; }
done
