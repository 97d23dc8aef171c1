#!/usr/bin/env bash
# Benchmark: `stackferry convert` against `qemu-img convert` on the same VMDKs in the same run.
# See bench/README.md for what it measures and the environment variables.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")

DISK_GB=${BENCH_DISK_GB:-4}
DATA_GB=${BENCH_DATA_GB:-2}
RUNS=${BENCH_RUNS:-3}
CASES=${BENCH_CASES:-stream:qcow2,stream:qcow2c,sparse:qcow2}
OUT=${BENCH_OUT:-$here/out}
BUILD=${BENCH_BUILD:-1}
LOAD_MAX=${BENCH_LOAD_MAX:-1.5}
LOAD_WAIT=${BENCH_LOAD_WAIT:-600}
SF_THREADS=${BENCH_THREADS:-}
PROFILE=${BENCH_PROFILE:-0}
KEEP=${BENCH_KEEP:-0}
SF=${BENCH_STACKFERRY:-$repo/target/release/stackferry}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- tools -----------------------------------------------------------------------------------
export PATH=$PATH:/usr/sbin:/sbin
need_pkg() { # command debian-package
    command -v "$1" >/dev/null 2>&1 && return 0
    log "installing $2 (for $1)"
    if [ "$(id -u)" = 0 ]; then apt-get install -y -q "$2" >/dev/null; else sudo apt-get install -y -q "$2" >/dev/null; fi
}
need_pkg qemu-img qemu-utils
need_pkg sfdisk fdisk
need_pkg mke2fs e2fsprogs
need_pkg e2fsck e2fsprogs
[ -x /usr/bin/time ] || need_pkg /usr/bin/time time

gib() { awk -v g="$1" 'BEGIN { printf "%d", g * 1073741824 }'; }
disk_bytes=$(gib "$DISK_GB")
data_bytes=$(gib "$DATA_GB")
[ "$disk_bytes" -ge $((256 << 20)) ] || die "BENCH_DISK_GB=$DISK_GB is too small"
awk -v d="$disk_bytes" -v f="$data_bytes" 'BEGIN { exit !(f <= d * 0.8) }' \
    || die "BENCH_DATA_GB=$DATA_GB does not fit a ${DISK_GB} GiB disk (at most 80% of it)"

mkdir -p "$OUT"
# The recipe version: bump it when the way the disk is built changes, so caches are rebuilt.
key="v1-disk${DISK_GB}g-data${DATA_GB}g"
raw="$OUT/disk-$key.raw"
meta="$OUT/disk-$key.meta"

# --- 1. the disk: MBR + one ext4 partition filled with real files ------------------------------
build_disk() {
    local rootdir="$OUT/root-$key" tmp="$raw.tmp"
    log "building $raw (${DISK_GB} GiB disk, ${DATA_GB} GiB of files)"
    rm -rf "$rootdir" "$tmp"
    "$PY" "$here/mkroot.py" "$rootdir" "$data_bytes" >"$OUT/mkroot-$key.log"
    sed 's/^/  /' "$OUT/mkroot-$key.log" >&2
    truncate -s "$disk_bytes" "$tmp"
    printf 'label: dos\nstart=2048, type=83\n' | sfdisk -q "$tmp"
    local part_kib=$(( (disk_bytes - 1048576) / 1024 ))
    # -i 8192: room for many small files (the default 16 KiB per inode can run out).
    mke2fs -F -q -t ext4 -i 8192 -L stackferry-bench -d "$rootdir" -E offset=1048576 "$tmp" "${part_kib}k"
    e2fsck -fn "$tmp?offset=1048576" >"$OUT/e2fsck-$key.log" 2>&1 || { cat "$OUT/e2fsck-$key.log" >&2; die "e2fsck of the built disk failed"; }
    rm -rf "$rootdir"
    mv "$tmp" "$raw"
    rm -f "$meta"
}
if [ -f "$raw" ]; then log "cached disk $raw"; else build_disk; fi

# --- 2. the VMDKs -------------------------------------------------------------------------------
declare -A input
for sub in streamOptimized monolithicSparse; do
    short=${sub%%[A-Z]*}   # stream / monolithic
    [ "$short" = monolithic ] && short=sparse
    f="$OUT/disk-$key-$sub.vmdk"
    if [ ! -f "$f" ]; then
        log "making $sub VMDK"
        qemu-img convert -f raw -O vmdk -o subformat="$sub" "$raw" "$f.tmp.vmdk"
        mv "$f.tmp.vmdk" "$f"
    else
        log "cached $f"
    fi
    input[$short]=$f
done

# Virtual size and allocated data (what a converter must read and write), from qemu-img map.
if [ ! -f "$meta" ]; then
    qemu-img map --output=json "${input[stream]}" | "$PY" -c '
import json, sys
m = json.load(sys.stdin)
print("virtual", sum(e["length"] for e in m))
print("data", sum(e["length"] for e in m if e.get("data")))' >"$meta"
fi
virtual=$(awk '$1 == "virtual" { print $2 }' "$meta")
data=$(awk '$1 == "data" { print $2 }' "$meta")
log "virtual size $virtual, allocated data $data"

# --- the stackferry binary ------------------------------------------------------------------------
if [ "$BUILD" = 1 ] && [ -z "${BENCH_STACKFERRY:-}" ]; then
    log "cargo build --release --bin stackferry"
    (cd "$repo" && cargo build --release --bin stackferry -q)
fi
[ -x "$SF" ] || die "$SF not found (build it, or set BENCH_STACKFERRY)"

# --- timing helpers -------------------------------------------------------------------------------
work="$OUT/work"
rm -rf "$work"
mkdir -p "$work"
loads="$work/loads"   # the 1-minute load average at the start of every run
: >"$loads"

load1() { cut -d' ' -f1 /proc/loadavg; }
wait_load() {
    local waited=0
    while awk -v l="$(load1)" -v m="$LOAD_MAX" 'BEGIN { exit !(l > m) }'; do
        if [ "$waited" -ge "$LOAD_WAIT" ]; then
            log "load $(load1) still above $LOAD_MAX after ${LOAD_WAIT}s: timing anyway (busy machine)"
            return 0
        fi
        [ "$waited" = 0 ] && log "load $(load1) > $LOAD_MAX: waiting (up to ${LOAD_WAIT}s)"
        sleep 10
        waited=$((waited + 10))
    done
}

# run_one NAME OUTFILE CMD...: runs CMD once; prints "WALL_S PEAK_RSS_KIB CPU_S" (or "FAIL"),
# CPU_S = user + system time of all its threads.
run_one() {
    local name=$1 outfile=$2; shift 2
    local tf="$work/$name.time" lf="$work/$name.log"
    rm -f "$outfile" "$tf"
    sync
    load1 >>"$loads"
    local t0 t1
    t0=$(date +%s%N)
    if /usr/bin/time -f '%M %U %S' -o "$tf" "$@" >"$lf" 2>&1; then
        t1=$(date +%s%N)
        tail -n1 "$tf" | awk -v a="$t0" -v b="$t1" '{ printf "%.3f %d %.2f\n", (b - a) / 1e9, $1, $2 + $3 }'
    else
        log "FAILED: $*"
        sed 's/^/    /' "$lf" | tail -n 20 >&2
        echo FAIL
    fi
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
maxof() { tr ' ' '\n' | grep -v '^$' | sort -g | tail -n1; }

# --- 3-4. the cases --------------------------------------------------------------------------------
results="$work/results.tsv"
: >"$results"
failed=0
declare -A warm
wait_load
load_start=$(load1)
for case in ${CASES//,/ }; do
    in=${case%%:*}
    fmt=${case##*:}
    src=${input[$in]:-}
    [ -n "$src" ] || die "unknown input '$in' in BENCH_CASES (stream, sparse)"
    case $fmt in
        qcow2) sfflag=(); qflag=() ;;
        qcow2c) sfflag=(-c); qflag=(-c) ;;
        *) die "unknown output '$fmt' in BENCH_CASES (qcow2, qcow2c)" ;;
    esac
    thr=()
    [ -n "$SF_THREADS" ] && thr=(--threads "$SF_THREADS")
    sf_out="$work/$in-$fmt.stackferry.qcow2"
    q_out="$work/$in-$fmt.qemu.qcow2"
    q2_out="$work/$in-$fmt.qemu-m16W.qcow2"
    sf_cmd=("$SF" convert "$src" -o "$sf_out" "${sfflag[@]}" "${thr[@]}")
    q_cmd=(qemu-img convert -t unsafe -f vmdk -O qcow2 "${qflag[@]}" "$src" "$q_out")
    q2_cmd=(qemu-img convert -t unsafe -m 16 -W -f vmdk -O qcow2 "${qflag[@]}" "$src" "$q2_out")
    sf_ok=1
    # One untimed warm-up of each tool per input: both then read it from the page cache.
    if [ -z "${warm[$in]:-}" ]; then
        log "case $in -> $fmt: warm-up"
        [ "$(run_one "$in-$fmt-sf-warm" "$sf_out" "${sf_cmd[@]}")" = FAIL ] && sf_ok=0
        [ "$(run_one "$in-$fmt-q-warm" "$q_out" "${q_cmd[@]}")" = FAIL ] && die "qemu-img failed"
        [ "$(run_one "$in-$fmt-q2-warm" "$q2_out" "${q2_cmd[@]}")" = FAIL ] && die "qemu-img failed"
        warm[$in]=1
    fi
    sf_t=() sf_m=() sf_c=() q_t=() q_m=() q_c=() q2_t=() q2_m=() q2_c=()
    for r in $(seq 1 "$RUNS"); do
        log "case $in -> $fmt: run $r/$RUNS (load $(load1))"
        # Interleaved, so a change in machine load hits all three alike.
        if [ $sf_ok = 1 ]; then
            read -r t m c <<<"$(run_one "$in-$fmt-sf-$r" "$sf_out" "${sf_cmd[@]}")"
            if [ "$t" = FAIL ]; then sf_ok=0; else sf_t+=("$t"); sf_m+=("$m"); sf_c+=("$c"); fi
        fi
        read -r t m c <<<"$(run_one "$in-$fmt-q-$r" "$q_out" "${q_cmd[@]}")"
        [ "$t" = FAIL ] && die "qemu-img failed"
        q_t+=("$t"); q_m+=("$m"); q_c+=("$c")
        read -r t m c <<<"$(run_one "$in-$fmt-q2-$r" "$q2_out" "${q2_cmd[@]}")"
        [ "$t" = FAIL ] && die "qemu-img failed"
        q2_t+=("$t"); q2_m+=("$m"); q2_c+=("$c")
    done
    qmed=$(echo "${q_t[*]}" | median)
    q2med=$(echo "${q2_t[*]}" | median)
    # The faster qemu-img variant is the reference.
    if awk -v a="$q2med" -v b="$qmed" 'BEGIN { exit !(a < b) }'; then
        qbest=$q2med qvar="-m 16 -W" qrss=$(echo "${q2_m[*]}" | maxof) qcpu=$(echo "${q2_c[*]}" | median) qref=$q2_out
    else
        qbest=$qmed qvar="default" qrss=$(echo "${q_m[*]}" | maxof) qcpu=$(echo "${q_c[*]}" | median) qref=$q_out
    fi
    verdict=ok
    if [ $sf_ok = 1 ]; then
        sfmed=$(echo "${sf_t[*]}" | median)
        sfrss=$(echo "${sf_m[*]}" | maxof)
        sfcpu=$(echo "${sf_c[*]}" | median)
        sfsize=$(stat -c %s "$sf_out")
        if ! qemu-img compare -f qcow2 -F qcow2 "$sf_out" "$qref" >"$work/$in-$fmt.compare" 2>&1; then
            verdict="compare FAILED: $(head -c 200 "$work/$in-$fmt.compare" | tr '\n' ' ')"
            failed=1
        elif ! qemu-img check -f qcow2 "$sf_out" >"$work/$in-$fmt.check" 2>&1; then
            verdict="check FAILED: $(grep -m1 -i error "$work/$in-$fmt.check" || true)"
            failed=1
        else
            verdict="identical, check clean"
        fi
    else
        sfmed=nan sfrss=nan sfcpu=nan sfsize=nan verdict="stackferry FAILED (see $work/$in-$fmt-sf-*.log)"
        failed=1
    fi
    qsize=$(stat -c %s "$qref")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$in" "$fmt" "$sfmed" "$qbest" "$qvar" "$qmed" "$q2med" "$sfrss" "$qrss" "$sfsize" "$qsize" \
        "${sf_t[*]:-}" "${q_t[*]} | ${q2_t[*]}" "$verdict" "$sfcpu" "$qcpu" >>"$results"
    log "case $in -> $fmt: stackferry ${sfmed}s, qemu-img ${qbest}s ($qvar); $verdict"
    [ "$KEEP" = 1 ] || rm -f "$sf_out" "$q_out" "$q2_out"
done
load_end=$(load1)
load_max=$(maxof <"$loads")

# --- 5. the table -----------------------------------------------------------------------------------
sf_rev=$(cd "$repo" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
cat >"$OUT/results.md.head" <<HEAD
# stackferry vs qemu-img convert

- date: $(date -u '+%Y-%m-%d %H:%M UTC'); stackferry $sf_rev ($SF); $(qemu-img --version | head -n1)
- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM
- load average (1 min): $load_start at start, $load_end at end, $load_max highest at the start of a run (limit asked: $LOAD_MAX)
- disk: ${DISK_GB} GiB raw, MBR + one ext4 partition holding $(awk '/^total:/ { printf "%.2f GiB", $2 / 1073741824 }' "$OUT/mkroot-$key.log" 2>/dev/null || echo "?") of files; allocated data $(awk -v d="$data" 'BEGIN { printf "%.2f GiB", d / 1073741824 }')
- inputs: streamOptimized $(stat -c %s "${input[stream]}" | awk '{ printf "%.0f MiB", $1 / 1048576 }'), monolithicSparse $(stat -c %s "${input[sparse]}" | awk '{ printf "%.0f MiB", $1 / 1048576 }')
- each time: median of $RUNS runs after one untimed warm-up (inputs in the page cache), outputs written without fsync; qemu-img: the faster of \`convert -t unsafe\` and \`convert -t unsafe -m 16 -W\`
- ratio = stackferry / qemu-img wall time; CPU s = median user + system time of all threads (less sensitive to machine load than wall time); MiB/s = virtual size or allocated data / wall time; peak RSS = max over runs (GNU time %M)

HEAD
"$PY" - "$results" "$OUT/results.md" <<EOF
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
virtual, data = $virtual, $data
names = {"stream": "streamOptimized", "sparse": "monolithicSparse", "qcow2": "qcow2", "qcow2c": "qcow2 -c"}
def num(x):
    """float(x), or None for a missing value ("nan", "")."""
    try:
        v = float(x)
    except ValueError:
        return None
    return None if v != v else v
def f(x, fmt="{:.2f}"):
    v = num(x)
    return "-" if v is None else fmt.format(v)
def mib(x):
    v = num(x)
    return "-" if v is None else "{:.0f}".format(v / 1024)
def size(x):
    v = num(x)
    return "-" if v is None else "{:.0f}".format(v / 2**20)
def rate(n, t):
    v = num(t)
    return "-" if not v else "{:.0f}".format(n / 2**20 / v)
head = ["input", "output", "stackferry s", "qemu-img s", "ratio sf/qemu", "CPU s sf / qemu", "sf peak RSS MiB", "qemu peak RSS MiB",
        "sf out MiB", "qemu out MiB", "sf MiB/s virt/data", "qemu MiB/s virt/data", "verify"]
lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
targets = []
for r in rows:
    (inp, fmt, sf, q, qvar, qmed, q2med, sfrss, qrss, sfsize, qsize, sft, qt, verdict, sfcpu, qcpu) = r
    ratio = "-" if num(sf) is None or not num(q) else "{:.2f}".format(num(sf) / num(q))
    lines.append("| " + " | ".join([
        names[inp], names[fmt], f(sf), f"{f(q)} ({qvar})", ratio, f"{f(sfcpu, '{:.1f}')} / {f(qcpu, '{:.1f}')}", mib(sfrss), mib(qrss), size(sfsize), size(qsize),
        f"{rate(virtual, sf)} / {rate(data, sf)}", f"{rate(virtual, q)} / {rate(data, q)}", verdict]) + " |")
    if inp == "stream" and fmt == "qcow2":
        targets.append(("streamOptimized -> qcow2 ratio <= 0.5", ratio != "-" and float(ratio) <= 0.5, ratio))
    if num(sfrss) is not None:
        targets.append((f"{names[inp]} -> {names[fmt]} stackferry peak RSS <= 256 MiB", num(sfrss) / 1024 <= 256, mib(sfrss) + " MiB"))
detail = ["", "Per-run wall times (s), stackferry; qemu-img default | qemu-img -m 16 -W:", ""]
for r in rows:
    detail.append(f"- {names[r[0]]} -> {names[r[1]]}: stackferry [{r[11]}]; qemu-img [{r[12]}]; medians default {f(r[5])}, -m 16 -W {f(r[6])}")
tg = ["", "Targets:", ""] + [f"- {n}: {'PASS' if ok else 'FAIL'} ({v})" for n, ok, v in targets]
table = "\n".join(lines + detail + tg)
print(table)
with open(sys.argv[2], "w") as o:
    o.write(open(sys.argv[2] + ".head").read() + table + "\n")
EOF
rm -f "$OUT/results.md.head"

# --- profile (optional) -------------------------------------------------------------------------------
if [ "$PROFILE" = 1 ]; then
    need_pkg perf linux-perf
    for in in stream sparse; do
        log "profiling stackferry convert $in -> qcow2 (perf record, cpu-clock)"
        perf record -q -e cpu-clock -F 999 -g -o "$OUT/perf-$in.data" -- "$SF" convert "${input[$in]}" -o "$work/profile.qcow2" >/dev/null 2>&1
        rm -f "$work/profile.qcow2"
        # sed, not head: head would close the pipe early and pipefail would end the script.
        perf report -i "$OUT/perf-$in.data" --no-children --sort dso,symbol -g none --stdio 2>/dev/null | grep -v '^#' | grep '%' | sed -n 1,40p >"$OUT/profile-$in.txt"
        # Per thread (the main thread plans, assembles and writes; the others decode).
        perf report -i "$OUT/perf-$in.data" --no-children --sort pid,symbol -g none --stdio 2>/dev/null | grep -v '^#' | grep '%' | sed -n 1,40p >"$OUT/profile-$in-threads.txt"
        # Inclusive view: where the time goes by caller.
        perf report -i "$OUT/perf-$in.data" --children --sort symbol -g none --stdio 2>/dev/null | grep -v '^#' | grep '%' | sed -n 1,60p >"$OUT/profile-$in-inclusive.txt"
        log "top functions by self time -> $OUT/profile-$in.txt"
        sed -n 1,15p "$OUT/profile-$in.txt" | cut -c1-110
    done
fi

log "results written to $OUT/results.md"
[ "$failed" = 0 ] || { log "a conversion, compare or check FAILED"; exit 1; }
