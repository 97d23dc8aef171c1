# Shared settings for the OpenStack test environment scripts. Sourced, not run.
# shellcheck shell=bash

KIT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The stackferry repository this kit lives in (tests/openstack/ inside it).
REPO_DIR="$(cd "$KIT_DIR/../.." && pwd)"

# Everything (venv, databases, configs, logs, pidfiles, images) lives here:
# by default the repository's .stack/ (gitignored), whatever the current directory.
STACK_DIR="${STACK_DIR:-$REPO_DIR/.stack}"
mkdir -p "$STACK_DIR"
STACK_DIR="$(cd "$STACK_DIR" && pwd)"
export STACK_DIR

export STACK_HOST=127.0.0.1
export KEYSTONE_PORT="${KEYSTONE_PORT:-5000}"
export GLANCE_PORT="${GLANCE_PORT:-9292}"
export PLACEMENT_PORT="${PLACEMENT_PORT:-8778}"
export NOVA_PORT="${NOVA_PORT:-8774}"
export NEUTRON_PORT="${NEUTRON_PORT:-9696}"
export CINDER_PORT="${CINDER_PORT:-8776}"
export DB_PORT="${DB_PORT:-3306}"
export RABBIT_PORT="${RABBIT_PORT:-5672}"
export RABBIT_DIST_PORT="${RABBIT_DIST_PORT:-25672}"
export EPMD_PORT="${EPMD_PORT:-4369}"

export ADMIN_PASSWORD="${ADMIN_PASSWORD:-secret}"
export SERVICE_PASSWORD="${SERVICE_PASSWORD:-secret}"
export DB_USER=stack DB_PASSWORD="${DB_PASSWORD:-secret}"
export REGION=RegionOne

# Cinder: on (whole-VM migrations make data disks into volumes and boot from volumes, issue 12);
# STACK_CINDER=0 leaves it out (it adds about 440 MiB, install time, and needs CAP_SYS_ADMIN
# for its bind mount).
export STACK_CINDER="${STACK_CINDER:-1}"

VENV="$STACK_DIR/venv"
PY="$VENV/bin/python3"
ETC="$STACK_DIR/etc"
LOG="$STACK_DIR/log"
RUN="$STACK_DIR/run"
DATA="$STACK_DIR/data"

# Pinned releases (OpenStack 2026.2 series).
PIP_PACKAGES=(
  "keystone==30.0.0"
  "glance==33.0.0"
  "nova==34.0.0"
  "openstack-placement==16.0.0"
  "neutron==29.0.0"
  "uWSGI==2.0.31"
  "PyMySQL==1.2.4"
  "python-openstackclient==10.5.0"
)
[ "$STACK_CINDER" = 1 ] && PIP_PACKAGES+=("cinder==29.0.0")
APT_PACKAGES=(mariadb-server rabbitmq-server qemu-utils curl gcc)

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[%s] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit 1; }

# pid_alive PIDFILE -> true if the pidfile names a running process that this
# environment started. Every process start.sh spawns inherits STACK_DIR in its
# environment or names a file under it on its command line (Nova's services
# rewrite both with setproctitle, keeping the original command line), so a
# stale pidfile whose PID now belongs to something else is not taken for ours.
pid_alive() {
  local f=$1 pid
  [ -s "$f" ] || return 1
  pid=$(cat "$f" 2>/dev/null) || return 1
  case "$pid" in ''|*[!0-9]*) return 1 ;; esac
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -qxF "STACK_DIR=$STACK_DIR" && return 0
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF "$STACK_DIR/"
}

# started_alive PIDFILE -> pid_alive, asked once more half a second later when it says no,
# for a process still starting: uWSGI writes its own PID (the same one) into the pidfile
# spawn wrote (its `pidfile` setting), and a check that reads the file between uWSGI's
# truncation and its write finds it empty (npm test, 2026-12-07: "keystone: process exited
# during start-up" while the new Keystone came up and served).
started_alive() {
  pid_alive "$1" && return 0
  sleep 0.5
  pid_alive "$1"
}
