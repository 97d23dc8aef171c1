#!/usr/bin/env bash
# `npm start` (after scripts/build.sh): the page and the API from the edge worker at
# http://$HOST:$PORT (default 127.0.0.1:8787).
#
# - OS_AUTH_URL unset (the one-command demo): installs (scripts/ensure.sh openstack) and starts
#   the local OpenStack of tests/openstack under STACK_DIR (default .stack), or reuses the one
#   already running there; adds a demo network and flavors to it (scripts/demo-cloud.mjs);
#   serves against it and prints the demo credentials.
# - OS_AUTH_URL set: serves against that cloud; no local OpenStack is started.
# Prints the URL, the credentials and how long the start took (from STACKFERRY_START_T0, set
# by scripts/start.sh, else from this script's start). Ctrl-C (SIGINT), SIGTERM, SIGHUP, or the
# end of the process that started it stops, by PID, what this script started: the worker and,
# if it started it, the local OpenStack (tests/openstack/stop.sh stops by pidfile). An
# OpenStack that was already running stays.
set -uo pipefail
cd "$(dirname "$0")/.."
T0=${STACKFERRY_START_T0:-$(date +%s.%N)}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8787}
log() { printf '[start] %s\n' "$*" >&2; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
port_busy() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

worker_pid=
stopping=0
cleanup() {
  [ "$stopping" = 1 ] && return
  stopping=1
  [ -n "${nap:-}" ] && kill "$nap" 2>/dev/null
  if [ -n "$worker_pid" ] && kill -0 "$worker_pid" 2>/dev/null; then
    log "stopping the worker (pid $worker_pid)"
    kill -TERM "$worker_pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$worker_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$worker_pid" 2>/dev/null
    wait "$worker_pid" 2>/dev/null
  fi
  if [ "${STACK_STARTED:-0}" = 1 ]; then
    log "stopping the local OpenStack (tests/openstack/stop.sh, STACK_DIR=$STACK_DIR)"
    stack_stop
  fi
}
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap 'cleanup; exit 129' HUP
trap cleanup EXIT

port_busy "$PORT" && { log "port $PORT is in use: stop what listens there or set PORT"; exit 1; }

demo=0
if [ -z "${OS_AUTH_URL:-}" ]; then
  demo=1
  . scripts/openstack-stack.sh
  t=$(date +%s.%N)
  log "no OS_AUTH_URL: using the local OpenStack of tests/openstack (STACK_DIR=$STACK_DIR)"
  stack_install >&2 || { log "installing OpenStack failed (bash scripts/ensure.sh openstack)"; exit 1; }
  stack_start start >&2 || { log "starting OpenStack failed (see above; logs in $STACK_DIR/log)"; exit 1; }
  stack_secs=$(elapsed "$t")
  export OS_AUTH_URL="http://127.0.0.1:${KEYSTONE_PORT:-5000}/v3"
  node scripts/demo-cloud.mjs >&2 || { log "preparing the demo network and flavors failed"; exit 1; }
fi

t=$(date +%s.%N)
# edge-worker/serve.sh execs workerd (or wrangler): $! is the worker's own PID.
bash edge-worker/serve.sh &
worker_pid=$!
until curl -s -o /dev/null --max-time 2 "http://$HOST:$PORT/api/session"; do
  kill -0 "$worker_pid" 2>/dev/null || { log "the worker exited during start-up"; worker_pid=; exit 1; }
  [ "$(elapsed "$t" | cut -d. -f1)" -lt 120 ] || { log "the worker did not answer within 120 s"; exit 1; }
  sleep 0.2
done

echo
echo "stackferry is running: http://$HOST:$PORT/"
if [ "$demo" = 1 ]; then
  echo "  OpenStack: the local test cloud at $OS_AUTH_URL ($([ "$STACK_STARTED" = 1 ] && echo "started now, in $stack_secs s; stopped on exit" || echo "already running; left running on exit"))"
  echo "  log in with: user admin, password ${ADMIN_PASSWORD:-secret}, project admin (domain Default)"
  echo "  launch on the network demo-net with a demo.* flavor (servers become ACTIVE on Nova's fake driver)"
else
  echo "  OpenStack: $OS_AUTH_URL (no local OpenStack started)"
fi
echo "  started in $(elapsed "$T0") s; worker pid $worker_pid$([ "${STACK_STARTED:-0}" = 1 ] && echo "; OpenStack pidfiles in $STACK_DIR/run")"
echo "  Ctrl-C stops what this started."
# Until the worker ends, or whoever started this goes away without passing the signal on (a
# SIGTERM to npm kills its `sh -c`, which does not forward it): then clean up all the same.
ppid0=$(awk '{print $4}' /proc/$$/stat)
while kill -0 "$worker_pid" 2>/dev/null; do
  if [ "$(awk '{print $4}' /proc/$$/stat)" != "$ppid0" ]; then
    log "the process that started this is gone; stopping"
    exit 129
  fi
  sleep 1 & nap=$!
  wait "$nap"
done
wait "$worker_pid"
rc=$?
worker_pid=
log "the worker exited (status $rc)"
exit "$rc"
