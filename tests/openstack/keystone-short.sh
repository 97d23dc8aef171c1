#!/usr/bin/env bash
# A second Keystone whose tokens expire in minutes, beside the running test cloud (issue 17:
# migrations that outlive the user's token).
#   keystone-short.sh start   copies the kit's rendered keystone.conf and uwsgi.ini into
#                             $STACK_DIR/etc/keystone-short with `[token] expiration` set to
#                             KEYSTONE_SHORT_EXPIRATION seconds (default 120) and its own port
#                             KEYSTONE_SHORT_PORT (default 5001), and starts it under uWSGI
#   keystone-short.sh stop    stops it (by its pidfile only)
# It shares the database and the fernet keys of the kit's Keystone: every service of the cloud
# accepts its tokens, and they expire as it says. The shared Keystone is never touched.
set -euo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/common.sh"
PORT="${KEYSTONE_SHORT_PORT:-5001}"
EXPIRATION="${KEYSTONE_SHORT_EXPIRATION:-120}"
NAME=keystone-short
CONF="$ETC/$NAME"
PIDFILE="$RUN/$NAME.pid"
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  [ -f "$ETC/keystone/keystone.conf" ] || die "no rendered Keystone under $ETC: start the kit first (start.sh)"
  if pid_alive "$PIDFILE"; then log "$NAME already running (pid $(cat "$PIDFILE"))"; return 0; fi
  port_busy "$PORT" && die "port $PORT is already in use (set KEYSTONE_SHORT_PORT)"
  mkdir -p "$CONF" "$LOG" "$RUN"
  # the kit's [token] section gets the short expiration; everything else stays as rendered
  awk -v seconds="$EXPIRATION" '
    { print }
    /^\[token\]/ { print "expiration = " seconds }' "$ETC/keystone/keystone.conf" > "$CONF/keystone.conf"
  grep -q "^expiration = $EXPIRATION\$" "$CONF/keystone.conf" || die "the kit's keystone.conf has no [token] section"
  sed -e "s|^http-socket = .*|http-socket = 127.0.0.1:$PORT|" \
      -e "s|^env = OS_KEYSTONE_CONFIG_DIR=.*|env = OS_KEYSTONE_CONFIG_DIR=$CONF|" \
      -e "s|^pidfile = .*|pidfile = $PIDFILE|" "$ETC/keystone/uwsgi.ini" > "$CONF/uwsgi.ini"
  echo "=== $(date -u +%FT%TZ) start" >> "$LOG/$NAME.log"
  setsid "$VENV/bin/uwsgi" --ini "$CONF/uwsgi.ini" >> "$LOG/$NAME.log" 2>&1 < /dev/null &
  echo $! > "$PIDFILE"
  local deadline=$(( $(date +%s) + ${START_TIMEOUT:-120} ))
  until curl -sf -o /dev/null "http://127.0.0.1:$PORT/v3"; do
    started_alive "$PIDFILE" || { tail -n 40 "$LOG/$NAME.log" >&2; die "$NAME exited during start-up"; }
    [ "$(date +%s)" -lt "$deadline" ] || { tail -n 40 "$LOG/$NAME.log" >&2; die "$NAME not answering"; }
    sleep 0.5
  done
  log "$NAME up: http://127.0.0.1:$PORT/v3 (tokens expire after ${EXPIRATION}s)"
}

stop() {
  if ! pid_alive "$PIDFILE"; then log "$NAME is not running"; rm -f "$PIDFILE"; return 0; fi
  local pid
  pid=$(cat "$PIDFILE")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
  log "$NAME stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) die "usage: $0 start|stop" ;;
esac
