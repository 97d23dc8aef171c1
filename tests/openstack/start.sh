#!/usr/bin/env bash
# Start the OpenStack test environment under $STACK_DIR (default ./.stack).
#   start.sh          full stack: MariaDB, RabbitMQ, Keystone, Glance, Placement,
#                     Neutron, Nova (fake compute driver)
#   start.sh glance   Glance alone, without Keystone (identity from X-* headers)
# Bootstraps databases on first run; services already running are left alone.
# Exits non-zero, with the failing service's log tail, if a service does not
# answer within START_TIMEOUT seconds (default 180).
set -euo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/common.sh"
T0=$(date +%s)
MODE="${1:-all}"
case "$MODE" in all|glance) ;; *) die "usage: $0 [glance]" ;; esac
[ "$(id -u)" = 0 ] || die "run as root"
[ -x "$PY" ] || die "no venv at $VENV: run install.sh first (same STACK_DIR)"
START_TIMEOUT="${START_TIMEOUT:-180}"
BOOTSTRAP_TIMEOUT="${BOOTSTRAP_TIMEOUT:-600}"   # per schema/bootstrap command
TMO=(timeout -k 10 "$BOOTSTRAP_TIMEOUT")
GLANCE_CONVERT_TO="${GLANCE_CONVERT_TO:-}"
STATE="$STACK_DIR/state"
mkdir -p "$ETC" "$LOG" "$RUN" "$DATA" "$STATE"
B="$VENV/bin"
DB_URL="mysql+pymysql://$DB_USER:$DB_PASSWORD@127.0.0.1:$DB_PORT"
export PATH="$B:$PATH"

# ---------------------------------------------------------------- helpers
tail_log() { # FILE...
  local f
  for f in "$@"; do
    [ -f "$f" ] || continue
    echo "----- last 40 lines of $f" >&2
    tail -n 40 "$f" >&2
  done
}
fail() { # SERVICE MESSAGE LOGFILE...
  local svc=$1 msg=$2; shift 2
  echo "[$(date +%H:%M:%S)] ERROR: $svc: $msg" >&2
  tail_log "$@"
  echo "Processes already started keep running; stop them with stop.sh." >&2
  exit 1
}
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

render() { # TEMPLATE DEST
  local tmp="$2.tmp"
  sed -e "s|@ETC@|$ETC|g" -e "s|@LOG@|$LOG|g" -e "s|@RUN@|$RUN|g" \
      -e "s|@DATA@|$DATA|g" -e "s|@VENV@|$VENV|g" -e "s|@DB_URL@|$DB_URL|g" \
      -e "s|@KEYSTONE_PORT@|$KEYSTONE_PORT|g" -e "s|@GLANCE_PORT@|$GLANCE_PORT|g" \
      -e "s|@PLACEMENT_PORT@|$PLACEMENT_PORT|g" -e "s|@NOVA_PORT@|$NOVA_PORT|g" \
      -e "s|@NEUTRON_PORT@|$NEUTRON_PORT|g" -e "s|@DB_PORT@|$DB_PORT|g" \
      -e "s|@CINDER_PORT@|$CINDER_PORT|g" \
      -e "s|@RABBIT_PORT@|$RABBIT_PORT|g" -e "s|@RABBIT_DIST_PORT@|$RABBIT_DIST_PORT|g" \
      -e "s|@EPMD_PORT@|$EPMD_PORT|g" -e "s|@SERVICE_PASSWORD@|$SERVICE_PASSWORD|g" \
      -e "s|@REGION@|$REGION|g" -e "s|@GLANCE_FLAVOR@|$GLANCE_FLAVOR|g" \
      -e "s|@GLANCE_CONF_DIR@|$GLANCE_CONF_DIR|g" \
      -e "s|@GLANCE_IMPORT_PLUGINS@|$GLANCE_IMPORT_PLUGINS|g" \
      -e "s|@GLANCE_CONVERT_TO@|${GLANCE_CONVERT_TO:-raw}|g" \
      "$KIT_DIR/templates/$1" > "$tmp"
  if grep -q '@[A-Z_]*@' "$tmp"; then die "unrendered placeholder in $2: $(grep -o '@[A-Z_]*@' "$tmp" | head -1)"; fi
  mv "$tmp" "$2"
}

render_all() {
  mkdir -p "$ETC"/{mysql,rabbitmq,keystone,glance,glance-noauth,placement,nova,neutron,cinder} \
           "$DATA"/cinder/{state,conversion,locks,volumes,mnt} "$STACK_DIR/bin" \
           "$DATA"/{keystone,glance/images,glance/staging,glance/tasks,glance/locks} \
           "$DATA"/{nova/state,nova/instances,nova/locks,neutron/locks,rabbitmq} "$LOG/rabbitmq"
  GLANCE_IMPORT_PLUGINS="[]"
  [ -n "$GLANCE_CONVERT_TO" ] && GLANCE_IMPORT_PLUGINS="['image_conversion']"
  GLANCE_FLAVOR=keystone GLANCE_CONF_DIR="$ETC/glance"
  render my.cnf.in "$ETC/mysql/my.cnf"
  render rabbitmq.conf.in "$ETC/rabbitmq/rabbitmq.conf"
  render rabbitmq-env.sh.in "$ETC/rabbitmq/rabbitmq-env.sh"
  : > "$ETC/rabbitmq/rabbitmq-env.conf"
  echo '[].' > "$ETC/rabbitmq/enabled_plugins"
  echo '[].' > "$ETC/rabbitmq/advanced.config"
  render keystone.conf.in "$ETC/keystone/keystone.conf"
  render uwsgi-keystone.ini.in "$ETC/keystone/uwsgi.ini"
  local d
  for d in glance glance-noauth; do
    render glance-api-paste.ini.in "$ETC/$d/glance-api-paste.ini"
    render glance-image-import.conf.in "$ETC/$d/glance-image-import.conf"
  done
  render glance-api.conf.in "$ETC/glance/glance-api.conf"
  render uwsgi-glance.ini.in "$ETC/glance/uwsgi.ini"
  GLANCE_FLAVOR=fakeauth GLANCE_CONF_DIR="$ETC/glance-noauth"
  render glance-api.conf.in "$ETC/glance-noauth/glance-api.conf"
  sed -i "s|$ETC/glance/glance-api-paste.ini|$ETC/glance-noauth/glance-api-paste.ini|" "$ETC/glance-noauth/glance-api.conf"
  render uwsgi-glance.ini.in "$ETC/glance-noauth/uwsgi.ini"
  render placement.conf.in "$ETC/placement/placement.conf"
  render uwsgi-placement.ini.in "$ETC/placement/uwsgi.ini"
  render nova.conf.in "$ETC/nova/nova.conf"
  # nova-compute must not see the database settings (it talks to conductor)
  sed -e '/^\[api_database\]/,/^$/d' -e '/^\[database\]/,/^$/d' "$ETC/nova/nova.conf" > "$ETC/nova/nova-compute.conf"
  cp "$VENV/etc/nova/api-paste.ini" "$ETC/nova/api-paste.ini"
  render uwsgi-nova-api.ini.in "$ETC/nova/uwsgi.ini"
  render neutron.conf.in "$ETC/neutron/neutron.conf"
  render ml2_conf.ini.in "$ETC/neutron/ml2_conf.ini"
  cp "$VENV/etc/neutron/api-paste.ini" "$ETC/neutron/api-paste.ini"
  render uwsgi-neutron-api.ini.in "$ETC/neutron/uwsgi.ini"
  if [ "$STACK_CINDER" = 1 ]; then
    render cinder.conf.in "$ETC/cinder/cinder.conf"
    cp "$VENV/etc/cinder/api-paste.ini" "$ETC/cinder/api-paste.ini"
    render uwsgi-cinder-api.ini.in "$ETC/cinder/uwsgi.ini"
  fi
  # Cinder's NFS driver only checks that mount.nfs exists (the share is a
  # bind mount, see start_cinder_volume); this stand-in fails if ever run.
  printf '%s\n' '#!/bin/sh' 'echo "mount.nfs: not available here; the Cinder share is a local bind mount" >&2' 'exit 32' \
    > "$STACK_DIR/bin/mount.nfs"
  chmod +x "$STACK_DIR/bin/mount.nfs"
}

# wait_http NAME URL PIDFILE LOGFILE: until URL answers 2xx/3xx/401
wait_http() {
  local name=$1 url=$2 pidf=$3 logf=$4 code deadline=$(( $(date +%s) + START_TIMEOUT ))
  while :; do
    started_alive "$pidf" || fail "$name" "process exited during start-up" "$logf"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url" || true)
    case "$code" in 2*|3*|401) log "$name up: $url"; return 0 ;; esac
    [ "$(date +%s)" -lt "$deadline" ] || fail "$name" "no answer from $url within ${START_TIMEOUT}s (last HTTP code $code)" "$logf"
    sleep 0.5
  done
}

# spawn NAME LOGFILE CMD...: start CMD detached, pid in $RUN/NAME.pid
spawn() {
  local name=$1 logf=$2; shift 2
  echo "=== $(date -u +%FT%TZ) start: $*" >> "$logf"
  setsid "$@" >> "$logf" 2>&1 < /dev/null &
  echo $! > "$RUN/$name.pid"
}

# start_uwsgi NAME PORT CONFDIR HEALTH_PATH (does not wait)
start_uwsgi() {
  local name=$1 port=$2 confdir=$3
  if pid_alive "$RUN/$name.pid"; then log "$name already running (pid $(cat "$RUN/$name.pid"))"; return 0; fi
  port_busy "$port" && fail "$name" "port $port is already in use by a process this environment did not start"
  spawn "$name" "$LOG/$name.log" "$B/uwsgi" --ini "$confdir/uwsgi.ini"
}

# ---------------------------------------------------------------- MariaDB
start_mariadb() {
  if pid_alive "$RUN/mariadb.pid"; then log "mariadb already running (pid $(cat "$RUN/mariadb.pid"))"; return 0; fi
  port_busy "$DB_PORT" && fail mariadb "port $DB_PORT is already in use (set DB_PORT)"
  if [ ! -d "$DATA/mysql/mysql" ]; then
    log "mariadb: initialising $DATA/mysql"
    rm -rf "$DATA/mysql"
    "${TMO[@]}" mariadb-install-db --defaults-file="$ETC/mysql/my.cnf" --auth-root-authentication-method=socket \
      --skip-test-db > "$LOG/mariadb-install.log" 2>&1 || fail mariadb "mariadb-install-db failed" "$LOG/mariadb-install.log"
  fi
  spawn mariadb "$LOG/mariadb.log" /usr/sbin/mariadbd --defaults-file="$ETC/mysql/my.cnf"
  local deadline=$(( $(date +%s) + START_TIMEOUT ))
  until timeout 10 mariadb --defaults-file="$ETC/mysql/my.cnf" -uroot -e 'SELECT 1' > /dev/null 2>&1; do
    pid_alive "$RUN/mariadb.pid" || fail mariadb "mariadbd exited during start-up" "$LOG/mariadb.log"
    [ "$(date +%s)" -lt "$deadline" ] || fail mariadb "not answering after ${START_TIMEOUT}s" "$LOG/mariadb.log"
    sleep 0.5
  done
  log "mariadb up: 127.0.0.1:$DB_PORT"
}

ensure_databases() {
  local sql="CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';"
  local db
  for db in keystone glance placement nova_api nova nova_cell0 neutron cinder; do
    sql="$sql CREATE DATABASE IF NOT EXISTS $db; GRANT ALL PRIVILEGES ON $db.* TO '$DB_USER'@'127.0.0.1';"
  done
  "${TMO[@]}" mariadb --defaults-file="$ETC/mysql/my.cnf" -uroot -e "$sql" || fail mariadb "creating databases failed" "$LOG/mariadb.log"
}

# ---------------------------------------------------------------- RabbitMQ
start_rabbitmq() { # does not wait; see wait_rabbitmq
  if pid_alive "$RUN/rabbitmq.pid"; then log "rabbitmq already running (pid $(cat "$RUN/rabbitmq.pid"))"; return 0; fi
  port_busy "$RABBIT_PORT" && fail rabbitmq "port $RABBIT_PORT is already in use (set RABBIT_PORT)"
  if pid_alive "$RUN/epmd.pid"; then :
  elif port_busy "$EPMD_PORT"; then log "epmd: using the epmd already on 127.0.0.1:$EPMD_PORT"
  else
    spawn epmd "$LOG/epmd.log" epmd -address 127.0.0.1 -port "$EPMD_PORT"
  fi
  (
    . "$ETC/rabbitmq/rabbitmq-env.sh"
    export RABBITMQ_PID_FILE="$RUN/rabbitmq-beam.pid"
    cd "$DATA/rabbitmq"
    spawn rabbitmq "$LOG/rabbitmq.log" /usr/lib/rabbitmq/bin/rabbitmq-server
  )
}
wait_rabbitmq() {
  local deadline=$(( $(date +%s) + START_TIMEOUT ))
  until port_busy "$RABBIT_PORT"; do
    pid_alive "$RUN/rabbitmq.pid" || fail rabbitmq "rabbitmq-server exited during start-up" "$LOG/rabbitmq.log" "$LOG/epmd.log"
    [ "$(date +%s)" -lt "$deadline" ] || fail rabbitmq "not listening after ${START_TIMEOUT}s" "$LOG/rabbitmq.log"
    sleep 0.5
  done
  log "rabbitmq up: 127.0.0.1:$RABBIT_PORT"
}

# ---------------------------------------------------------------- bootstrap (first run)
# Each runs in the background; output in $LOG/bootstrap-NAME.log; marker in $STATE.
bootstrap_keystone() {
  local c=(--config-file "$ETC/keystone/keystone.conf")
  "${TMO[@]}" keystone-manage "${c[@]}" db_sync
  "${TMO[@]}" keystone-manage "${c[@]}" fernet_setup --keystone-user root --keystone-group root
  "${TMO[@]}" keystone-manage "${c[@]}" credential_setup --keystone-user root --keystone-group root
  "${TMO[@]}" keystone-manage "${c[@]}" bootstrap --bootstrap-password "$ADMIN_PASSWORD" \
    --bootstrap-username admin --bootstrap-project-name admin --bootstrap-role-name admin \
    --bootstrap-admin-url "http://127.0.0.1:$KEYSTONE_PORT/v3" \
    --bootstrap-internal-url "http://127.0.0.1:$KEYSTONE_PORT/v3" \
    --bootstrap-public-url "http://127.0.0.1:$KEYSTONE_PORT/v3" \
    --bootstrap-region-id "$REGION"
}
bootstrap_glance() { "${TMO[@]}" glance-manage --config-file "$ETC/glance/glance-api.conf" db_sync; }
bootstrap_placement() { "${TMO[@]}" placement-manage --config-file "$ETC/placement/placement.conf" db sync; }
bootstrap_nova() {
  local c=(--config-file "$ETC/nova/nova.conf")
  "${TMO[@]}" nova-manage "${c[@]}" api_db sync
  local cells
  cells=$("${TMO[@]}" nova-manage "${c[@]}" cell_v2 list_cells)
  case "$cells" in *" cell0 "*) ;; *)
    "${TMO[@]}" nova-manage "${c[@]}" cell_v2 map_cell0 --database_connection "$DB_URL/nova_cell0?charset=utf8" ;;
  esac
  case "$cells" in *" cell1 "*) ;; *)
    "${TMO[@]}" nova-manage "${c[@]}" cell_v2 create_cell --name cell1 --verbose ;;
  esac
  "${TMO[@]}" nova-manage "${c[@]}" db sync
}
bootstrap_neutron() {
  "${TMO[@]}" neutron-db-manage --config-file "$ETC/neutron/neutron.conf" --config-file "$ETC/neutron/ml2_conf.ini" upgrade heads
}
bootstrap_cinder() { "${TMO[@]}" cinder-manage --config-file "$ETC/cinder/cinder.conf" db sync; }
BOOT_PIDS=()
# The marker names the database the schema went into: a kit that moved a service to another
# database (Keystone and Glance left SQLite for MariaDB) creates the schema there again.
bootstrap_bg() { # NAME
  [ "$(cat "$STATE/$1.bootstrapped" 2>/dev/null)" = mariadb ] && return 0
  log "$1: first run, creating database schema (log: $LOG/bootstrap-$1.log)"
  ( set -euo pipefail; "bootstrap_$1"; echo mariadb > "$STATE/$1.bootstrapped" ) > "$LOG/bootstrap-$1.log" 2>&1 &
  BOOT_PIDS+=("$1:$!")
}
bootstrap_wait() {
  local e
  for e in "${BOOT_PIDS[@]}"; do
    wait "${e#*:}" || fail "${e%%:*}" "database bootstrap failed" "$LOG/bootstrap-${e%%:*}.log"
  done
  BOOT_PIDS=()
}

check_backend_ports() { # DB/RabbitMQ ports are stored in Nova's cell mappings
  local f="$STATE/backend-ports" now="DB_PORT=$DB_PORT RABBIT_PORT=$RABBIT_PORT"
  if [ -f "$f" ]; then
    [ "$(cat "$f")" = "$now" ] || die "this STACK_DIR was created with $(cat "$f"); use the same values (now: $now)"
  else
    echo "$now" > "$f"
  fi
}

# ---------------------------------------------------------------- glance alone
if [ "$MODE" = glance ]; then
  render_all
  if pid_alive "$RUN/glance.pid" && [ "$(cat "$RUN/glance.mode" 2>/dev/null)" != noauth ]; then
    die "glance is running with Keystone auth; run stop.sh first"
  fi
  start_mariadb
  ensure_databases
  bootstrap_bg glance; bootstrap_wait
  echo noauth > "$RUN/glance.mode"
  start_uwsgi glance "$GLANCE_PORT" "$ETC/glance-noauth"
  wait_http glance "http://127.0.0.1:$GLANCE_PORT/healthcheck" "$RUN/glance.pid" "$LOG/glance.log"
  log "Glance without Keystone: http://127.0.0.1:$GLANCE_PORT (send X-Identity-Status: Confirmed, X-Roles, X-Project-Id headers)"
  log "started in $(( $(date +%s) - T0 )) s"
  exit 0
fi

# ---------------------------------------------------------------- full stack
if pid_alive "$RUN/glance.pid" && [ "$(cat "$RUN/glance.mode" 2>/dev/null)" = noauth ]; then
  die "glance is running alone without Keystone; run stop.sh first"
fi
check_backend_ports
render_all
start_rabbitmq
start_mariadb
ensure_databases
SERVICES=(keystone glance placement nova neutron)
[ "$STACK_CINDER" = 1 ] && SERVICES+=(cinder)
for s in "${SERVICES[@]}"; do bootstrap_bg "$s"; done
bootstrap_wait

echo keystone > "$RUN/glance.mode"
start_uwsgi keystone "$KEYSTONE_PORT" "$ETC/keystone"
wait_rabbitmq
wait_http keystone "http://127.0.0.1:$KEYSTONE_PORT/v3" "$RUN/keystone.pid" "$LOG/keystone.log"
"$PY" "$KIT_DIR/lib/stackctl.py" keystone-setup > "$LOG/keystone-setup.log" 2>&1 \
  || fail keystone "creating service users/endpoints failed" "$LOG/keystone-setup.log" "$LOG/keystone.log"
start_uwsgi placement "$PLACEMENT_PORT" "$ETC/placement"
start_uwsgi glance "$GLANCE_PORT" "$ETC/glance"
start_uwsgi neutron-api "$NEUTRON_PORT" "$ETC/neutron"
start_uwsgi nova-api "$NOVA_PORT" "$ETC/nova"
[ "$STACK_CINDER" = 1 ] && start_uwsgi cinder-api "$CINDER_PORT" "$ETC/cinder"
wait_http placement "http://127.0.0.1:$PLACEMENT_PORT/" "$RUN/placement.pid" "$LOG/placement.log"

# Nova services need Keystone and Placement at start-up; nova-compute also
# waits for the conductor, so it starts once the conductor is serving.
start_nova() { # conductor|scheduler|compute
  local s=$1 conf="$ETC/nova/nova.conf"
  if pid_alive "$RUN/nova-$s.pid"; then log "nova-$s already running (pid $(cat "$RUN/nova-$s.pid"))"; return 1; fi
  [ "$s" = compute ] && conf="$ETC/nova/nova-compute.conf"
  spawn "nova-$s" "$LOG/nova-$s.log" "$B/nova-$s" --config-file "$conf"
}
# log_since_start FILE TEXT: TEXT appears in FILE after the last start marker
log_since_start() {
  awk -v t="$2" '/^=== .* start: /{f=0} index($0, t){f=1} END{exit !f}' "$1"
}
# Cinder: scheduler, and cinder-volume with the stock NFS driver on a plain
# directory. cinder-volume runs in a private mount namespace in which
# $DATA/cinder/volumes is bind-mounted on the mount point the driver computes
# for the share "localhost:$DATA/cinder/volumes" (nfs_mount_point_base/md5),
# so os-brick finds the share already mounted and never mounts anything. The
# bind mount exists only inside that namespace and goes away with the process.
start_cinder() { # scheduler|volume
  local s=$1 conf="$ETC/cinder/cinder.conf"
  if pid_alive "$RUN/cinder-$s.pid"; then log "cinder-$s already running (pid $(cat "$RUN/cinder-$s.pid"))"; return 1; fi
  if [ "$s" = scheduler ]; then
    spawn cinder-scheduler "$LOG/cinder-scheduler.log" "$B/cinder-scheduler" --config-file "$conf"
    return 0
  fi
  local share="localhost:$DATA/cinder/volumes" mp
  mp="$DATA/cinder/mnt/$(printf '%s' "$share" | md5sum | cut -d' ' -f1)"
  mkdir -p "$mp"
  PATH="$STACK_DIR/bin:$PATH" spawn cinder-volume "$LOG/cinder-volume.log" \
    unshare --mount --propagation private sh -c \
    'mount --bind "$1" "$2" && exec "$3" --config-file "$4"' sh \
    "$DATA/cinder/volumes" "$mp" "$B/cinder-volume" "$conf"
}
cinder_volume_new=0
if [ "$STACK_CINDER" = 1 ]; then
  start_cinder scheduler || true
  start_cinder volume && cinder_volume_new=1
fi

conductor_new=0
start_nova conductor && conductor_new=1
start_nova scheduler || true
wait_http glance "http://127.0.0.1:$GLANCE_PORT/healthcheck" "$RUN/glance.pid" "$LOG/glance.log"
wait_http neutron "http://127.0.0.1:$NEUTRON_PORT/" "$RUN/neutron-api.pid" "$LOG/neutron-api.log"
wait_http nova "http://127.0.0.1:$NOVA_PORT/" "$RUN/nova-api.pid" "$LOG/nova-api.log"
[ "$STACK_CINDER" = 1 ] && wait_http cinder "http://127.0.0.1:$CINDER_PORT/" "$RUN/cinder-api.pid" "$LOG/cinder-api.log"
if [ "$cinder_volume_new" = 1 ]; then
  deadline=$(( $(date +%s) + START_TIMEOUT ))
  until log_since_start "$LOG/cinder-volume.log" "Driver post RPC initialization completed"; do
    pid_alive "$RUN/cinder-volume.pid" || fail cinder-volume "exited during start-up" "$LOG/cinder-volume.log"
    log_since_start "$LOG/cinder-volume.log" "not initialized" && fail cinder-volume "volume driver failed to start" "$LOG/cinder-volume.log"
    [ "$(date +%s)" -lt "$deadline" ] || fail cinder-volume "driver not ready after ${START_TIMEOUT}s" "$LOG/cinder-volume.log"
    sleep 0.5
  done
  log "cinder-volume up (NFS driver on $DATA/cinder/volumes)"
fi
[ "$STACK_CINDER" = 1 ] && { pid_alive "$RUN/cinder-scheduler.pid" || fail cinder-scheduler "exited during start-up" "$LOG/cinder-scheduler.log"; }
if [ "$conductor_new" = 1 ]; then
  deadline=$(( $(date +%s) + START_TIMEOUT ))
  until log_since_start "$LOG/nova-conductor.log" "Starting conductor node"; do
    pid_alive "$RUN/nova-conductor.pid" || fail nova-conductor "exited during start-up" "$LOG/nova-conductor.log"
    [ "$(date +%s)" -lt "$deadline" ] || fail nova-conductor "not serving after ${START_TIMEOUT}s" "$LOG/nova-conductor.log"
    sleep 0.5
  done
  sleep 1
  log "nova-conductor up"
fi
NOVA_T0=$(date +%s)
start_nova compute || NOVA_T0=0   # already running: no fresh report needed
for s in conductor scheduler; do
  pid_alive "$RUN/nova-$s.pid" || fail "nova-$s" "exited during start-up" "$LOG/nova-$s.log"
done
"$PY" "$KIT_DIR/lib/stackctl.py" wait-compute "$START_TIMEOUT" "$NOVA_T0" 2>> "$LOG/nova-compute.log" \
  || fail nova-compute "not ready" "$LOG/nova-compute.log" "$LOG/nova-conductor.log"
for s in conductor scheduler compute; do
  pid_alive "$RUN/nova-$s.pid" || fail "nova-$s" "exited during start-up" "$LOG/nova-$s.log"
done
log "nova-compute up (fake driver, host stack-compute)"

cat <<EOF
Endpoints (all on 127.0.0.1):
  keystone   http://127.0.0.1:$KEYSTONE_PORT/v3   (admin / $ADMIN_PASSWORD, project admin, domain Default)
  glance     http://127.0.0.1:$GLANCE_PORT
  placement  http://127.0.0.1:$PLACEMENT_PORT
  nova       http://127.0.0.1:$NOVA_PORT/v2.1
  neutron    http://127.0.0.1:$NEUTRON_PORT
$([ "$STACK_CINDER" = 1 ] && echo "  cinder     http://127.0.0.1:$CINDER_PORT/v3   (volumes: $DATA/cinder/volumes/volume-<id>, raw)")
  mariadb    127.0.0.1:$DB_PORT   rabbitmq 127.0.0.1:$RABBIT_PORT
Credentials for the CLI: source $KIT_DIR/env.sh   (with the same STACK_DIR)
EOF
log "started in $(( $(date +%s) - T0 )) s (STACK_DIR=$STACK_DIR)"
