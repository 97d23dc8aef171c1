#!/usr/bin/env bash
# A/B benchmark: two builds of `stackferry convert` on the bench disks, runs interleaved
# (A B, then B A, …) so that both see the same machine load, outputs compared byte for byte.
# Each run starts after `sync` with the other outputs deleted: otherwise the second of a pair
# pays for writing back the first one's 2 GiB (measured: +40% wall, +15% CPU). For
# "did this change make conversion slower?" on a busy machine; the comparison with qemu-img is
# `npm run bench` (bench/run.sh), whose inputs this reuses (run it once first).
#
# usage: bash bench/ab.sh A_BINARY B_BINARY
#   BENCH_OUT=DIR     where bench/run.sh left its disks (default bench/out)
#   BENCH_RUNS=3      timed runs of each binary per case (after one untimed warm-up each)
#   BENCH_CASES=stream:qcow2,stream:qcow2c,sparse:qcow2
#   BENCH_BALLAST=0   before each run, write this many copies of the monolithicSparse VMDK
#                     (2.3 GiB each; synced, removed after the run): the output's page cache
#                     then cannot come from memory just freed, as on a machine in use (here:
#                     buffered writes of 2.3 GiB cost 4-7 CPU s with 2 copies, 1.2 without)
# Prints a Markdown table: median wall and CPU (user + system) seconds, peak RSS, B/A ratios.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -eq 2 ] || { sed -n 2,16p "$0" >&2; exit 2; }
A=$1 B=$2
OUT=${BENCH_OUT:-$here/out}
RUNS=${BENCH_RUNS:-3}
CASES=${BENCH_CASES:-stream:qcow2,stream:qcow2c,sparse:qcow2}
BALLAST=${BENCH_BALLAST:-0}
stream=$(ls "$OUT"/disk-*-streamOptimized.vmdk 2>/dev/null | head -1)
sparse=$(ls "$OUT"/disk-*-monolithicSparse.vmdk 2>/dev/null | head -1)
[ -n "$stream" ] && [ -n "$sparse" ] || { echo "no bench disks in $OUT: run bench/run.sh first" >&2; exit 1; }
work=$(mktemp -d "$OUT/ab.XXXXXX")
trap 'rm -rf "$work"' EXIT

# One run: prints "wall cpu rss_kib".
one() {
    local out=$1; shift
    rm -f "$work"/*.qcow2
    for k in $(seq "$BALLAST"); do cp "$sparse" "$work/ballast.$k"; done
    sync
    /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$@" -o "$out" >/dev/null 2>"$work/err" \
        || { cat "$work/err" >&2; exit 1; }
    rm -f "$work"/ballast.*
    awk '{ printf "%s %.2f %d\n", $1, $2 + $3, $4 }' "$work/time"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "A: $A ($(stat -c %y "$A" | cut -d. -f1))"
echo "B: $B ($(stat -c %y "$B" | cut -d. -f1))"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); $RUNS runs each, interleaved; ballast $BALLAST"
echo
echo "| case | A wall s | B wall s | B/A wall | A CPU s | B CPU s | B/A CPU | peak RSS MiB A / B | outputs |"
echo "|---|---|---|---|---|---|---|---|---|"
IFS=, read -ra cases <<<"$CASES"
for c in "${cases[@]}"; do
    in=${c%%:*} fmt=${c##*:}
    src=$stream; [ "$in" = sparse ] && src=$sparse
    flag=(); [ "$fmt" = qcow2c ] && flag=(-c)
    : >"$work/a" ; : >"$work/b"
    one "$work/a.qcow2" "$A" convert "$src" "${flag[@]}" >/dev/null
    one "$work/b.qcow2" "$B" convert "$src" "${flag[@]}" >/dev/null
    for i in $(seq "$RUNS"); do
        if [ $((i % 2)) = 1 ]; then
            one "$work/a.qcow2" "$A" convert "$src" "${flag[@]}" >>"$work/a"
            one "$work/b.qcow2" "$B" convert "$src" "${flag[@]}" >>"$work/b"
        else
            one "$work/b.qcow2" "$B" convert "$src" "${flag[@]}" >>"$work/b"
            one "$work/a.qcow2" "$A" convert "$src" "${flag[@]}" >>"$work/a"
        fi
    done
    # The outputs, made once more side by side, byte for byte.
    "$A" convert "$src" "${flag[@]}" -o "$work/a.qcow2" >/dev/null 2>&1
    "$B" convert "$src" "${flag[@]}" -o "$work/b2.qcow2" >/dev/null 2>&1
    same=differ; cmp -s "$work/a.qcow2" "$work/b2.qcow2" && same=identical
    rm -f "$work"/*.qcow2
    aw=$(cut -d' ' -f1 "$work/a" | median) bw=$(cut -d' ' -f1 "$work/b" | median)
    ac=$(cut -d' ' -f2 "$work/a" | median) bc=$(cut -d' ' -f2 "$work/b" | median)
    ar=$(cut -d' ' -f3 "$work/a" | sort -n | tail -1) br=$(cut -d' ' -f3 "$work/b" | sort -n | tail -1)
    awk -v c="$in -> $fmt" -v aw="$aw" -v bw="$bw" -v ac="$ac" -v bc="$bc" -v ar="$ar" -v br="$br" -v s="$same" \
        'BEGIN { printf "| %s | %.2f | %.2f | %.2f | %.1f | %.1f | %.2f | %d / %d | %s |\n", c, aw, bw, bw / aw, ac, bc, bc / ac, ar / 1024, br / 1024, s }'
    echo "  runs A: $(cut -d' ' -f1 "$work/a" | tr '\n' ' ')| B: $(cut -d' ' -f1 "$work/b" | tr '\n' ' ')" >&2
done
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
