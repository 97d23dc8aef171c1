# Counting, timing and the closing line of a test suite, shared by every suite script
# (scripts/test.sh, scripts/lint.sh, web/test.sh, edge-worker/test.sh, tests/e2e.sh,
# tests/e2e/selftest.sh, tests/openstack/smoke*.sh). Sourced, not run:
#   . scripts/lib/suite.sh; suite_begin NAME; ... suite_pass/suite_fail/suite_add_*; suite_end
# A suite ends with the line `NAME: N passed, M failed` (scripts/test.sh and CI read such lines)
# and its status is 0 only if none failed. Safe under `set -euo pipefail`.
# shellcheck shell=bash

# suite_begin NAME: start counting (and the clock) for the suite NAME.
suite_begin() {
  SUITE_NAME=$1
  SUITE_PASSED=0
  SUITE_FAILED=0
  SUITE_FAILURES=()
  SUITE_TIMES=()
  SUITE_T0=$SECONDS
  # The outermost suite collects every nested suite's step times (SUITE_STEPS_FILE) and lists
  # them at its end, so one summary says where the time went (CI shows only the tail).
  if [ -z "${SUITE_STEPS_FILE:-}" ]; then
    SUITE_STEPS_FILE=$(mktemp "${TMPDIR:-/tmp}/stackferry-steps.XXXXXX")
    SUITE_STEPS_OWNER=$SUITE_NAME
    export SUITE_STEPS_FILE
  fi
}

# suite_pass WHAT / suite_fail WHAT [DETAIL]: count one test and print its `ok`/`FAIL` line.
suite_pass() {
  SUITE_PASSED=$((SUITE_PASSED + 1))
  echo "ok   $1"
}
suite_fail() {
  SUITE_FAILED=$((SUITE_FAILED + 1))
  SUITE_FAILURES+=("$1")
  echo "FAIL $1${2:+: $2}"
}

# suite_add PASSED FAILED: add counts a sub-suite reported.
suite_add() {
  SUITE_PASSED=$((SUITE_PASSED + $1))
  SUITE_FAILED=$((SUITE_FAILED + $2))
}

# suite_counts FILE LABEL: "N M" from FILE's last `LABEL: N passed, M failed` line; nothing if
# there is none.
suite_counts() {
  grep -E "^$2: [0-9]+ passed, [0-9]+ failed" "$1" | tail -n 1 | awk '{print $2, $4}' || true
}

# suite_add_result FILE LABEL: add the counts of the sub-suite whose output is FILE (its last
# `LABEL: N passed, M failed` line). No such line (it crashed or was killed): one failure.
suite_add_result() {
  local counts
  counts=$(suite_counts "$1" "$2")
  if [ -n "$counts" ]; then
    # shellcheck disable=SC2086 # "N M": two arguments
    suite_add $counts
  else
    suite_fail "$2" "no result line"
  fi
}

# suite_add_cargo LABEL LOG STATUS: add the tests of `cargo test` output LOG (each `test NAME ...
# ok|FAILED` line printed with the prefix `LABEL: `), and show what failed. A failing STATUS with
# no failed test (a build or runner error) counts as one failure.
suite_add_cargo() {
  local label=$1 log=$2 status=$3 ok bad
  grep -E '^test .* \.\.\. ' "$log" | sed "s/^/$label: /" || true
  ok=$(grep -cE '^test .* \.\.\. ok$' "$log" || true)
  bad=$(grep -cE '^test .* \.\.\. FAILED$' "$log" || true)
  if [ "$status" -ne 0 ] && [ "$bad" -eq 0 ]; then
    bad=1
    tail -n 30 "$log"
  fi
  if [ "$bad" -gt 0 ]; then grep -A30 -E '^failures:' "$log" | head -n 60 || true; fi
  suite_add "$ok" "$bad"
}

# suite_add_tap FILE STATUS: add the `# pass N` / `# fail N` summary of the TAP report FILE. A
# failing STATUS with no failed test counts as one failure.
suite_add_tap() {
  local ok bad
  ok=$(awk '/^# pass /{n = $3} END {print n + 0}' "$1")
  bad=$(awk '/^# fail /{n = $3} END {print n + 0}' "$1")
  if [ "$2" -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi
  suite_add "$ok" "$bad"
}

# suite_time LABEL SECONDS: record how long a step took (listed by suite_end) and print it.
suite_time() {
  SUITE_TIMES+=("$(printf '%-40s %6s s' "$1" "$2")")
  echo "  time: $1 $2 s"
  if [ "${SUITE_STEPS_OWNER:-}" != "$SUITE_NAME" ] && [ -n "${SUITE_STEPS_FILE:-}" ]; then
    printf '  %-48s %6s s\n' "$SUITE_NAME: $1" "$2" >> "$SUITE_STEPS_FILE"
  fi
}

# suite_timed LABEL CMD...: run CMD and record its time; CMD's status.
suite_timed() {
  local label=$1 t0=$SECONDS status=0
  shift
  "$@" || status=$?
  suite_time "$label" $((SECONDS - t0))
  return "$status"
}

# suite_bg_step NAME CMD...: one step of a job run in the background while the suites run (its
# output goes to the job's log, not here): its time goes to the outermost suite's step list.
suite_bg_step() {
  local name=$1 t0=$SECONDS status=0
  shift
  "$@" || status=$?
  [ -n "${SUITE_STEPS_FILE:-}" ] && printf '  %-48s %6s s\n' "background: $name" $((SECONDS - t0)) >> "$SUITE_STEPS_FILE"
  return "$status"
}

# suite_run NAME CMD...: run CMD as one test named NAME (passes if its status is 0), timed.
suite_run() {
  local name=$1
  shift
  echo "--- $SUITE_NAME: $name: $*"
  if suite_timed "$name" "$@"; then suite_pass "$name"; else suite_fail "$name"; fi
}

# suite_end: print the recorded times, the failures and the closing line; status 0 only if none
# failed.
suite_end() {
  local t
  echo
  if [ ${#SUITE_TIMES[@]} -gt 0 ]; then
    echo "timings:"
    for t in "${SUITE_TIMES[@]}"; do echo "  $t"; done
    printf '  %-40s %6s s\n' "$SUITE_NAME total" $((SECONDS - SUITE_T0))
  fi
  if [ "${SUITE_STEPS_OWNER:-}" = "$SUITE_NAME" ] && [ -s "$SUITE_STEPS_FILE" ]; then
    echo "steps of the suites above:"
    cat "$SUITE_STEPS_FILE"
  fi
  [ "${SUITE_STEPS_OWNER:-}" = "$SUITE_NAME" ] && rm -f "$SUITE_STEPS_FILE"
  if [ ${#SUITE_FAILURES[@]} -gt 0 ]; then
    printf 'failed: %s' "${SUITE_FAILURES[0]}"
    for t in "${SUITE_FAILURES[@]:1}"; do printf '; %s' "$t"; done
    echo
  fi
  echo "$SUITE_NAME: $SUITE_PASSED passed, $SUITE_FAILED failed"
  [ "$SUITE_FAILED" -eq 0 ]
}
