#!/usr/bin/env bash
# Show which services of the environment under $STACK_DIR run, answer, and
# their resident memory. Exit code: 0 all services of the started mode run and
# answer, 1 some do not, 3 nothing is running.
set -euo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/common.sh"
MODE=$(cat "$RUN/glance.mode" 2>/dev/null || echo none)   # keystone (full stack) | noauth (glance alone)
PS="$(ps -eo pid=,ppid=,rss=)"
tree_rss_mb() { # PID -> resident memory of PID and its descendants, MiB
  awk -v root="$1" '{ppid[$1]=$2; rss[$1]=$3} END {
    n=0; for (p in ppid) { q=p; while (q != "" && q != 0 && q != root) q=ppid[q]; if (q == root) n+=rss[p] }
    printf "%d", n/1024 }' <<< "$PS"
}
TOTAL_MB=0 RUNNING=0 BAD=0
row() { # NAME PIDFILE-NAME [URL]
  local name=$1 pidf="$RUN/$2.pid" url=${3:-} st code="" mb expected=1
  # epmd: start.sh uses an epmd that already listens on EPMD_PORT instead of its own
  case "$MODE:$name" in none:*|*:epmd|noauth:*) expected=0 ;; esac
  [ "$MODE:$name" = noauth:glance ] && expected=1
  if pid_alive "$pidf"; then
    mb=$(tree_rss_mb "$(cat "$pidf")"); TOTAL_MB=$((TOTAL_MB + mb)); RUNNING=$((RUNNING + 1))
    st="running (pid $(cat "$pidf"), ${mb} MiB)"
    if [ -n "$url" ]; then
      code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url" || true)
      case "$code" in 2*|3*|401) code="answers $url" ;; *) code="NOT answering $url (HTTP $code)"; BAD=1 ;; esac
    fi
  else
    st="stopped"; [ "$expected" = 1 ] && BAD=1
  fi
  printf '%-15s %-34s %s\n' "$name" "$st" "$code"
}
echo "STACK_DIR=$STACK_DIR  mode: $MODE"
row mariadb mariadb
row rabbitmq rabbitmq
row epmd epmd
row keystone keystone "http://127.0.0.1:$KEYSTONE_PORT/v3"
row glance glance "http://127.0.0.1:$GLANCE_PORT/healthcheck"
row placement placement "http://127.0.0.1:$PLACEMENT_PORT/"
row neutron neutron-api "http://127.0.0.1:$NEUTRON_PORT/"
row nova-api nova-api "http://127.0.0.1:$NOVA_PORT/"
row nova-conductor nova-conductor
row nova-scheduler nova-scheduler
row nova-compute nova-compute
if [ "$STACK_CINDER" = 1 ]; then
  row cinder-api cinder-api "http://127.0.0.1:$CINDER_PORT/"
  row cinder-scheduler cinder-scheduler
  row cinder-volume cinder-volume
fi
echo "resident memory (RSS, shared pages counted per process): ${TOTAL_MB} MiB"
[ "$RUNNING" -gt 0 ] || exit 3
exit "$BAD"
