# Sourced (not run) by the suites that need the OpenStack of tests/openstack (edge-worker/test.sh,
# web/test.sh): install it, start it unless it already runs, and stop it again only if this
# suite started it. Run from the repository root.
#   stack_install          scripts/ensure.sh openstack (idempotent; cached after the first run)
#   stack_start LABEL      tests/openstack/start.sh unless status.sh says it is up
#   stack_stop             tests/openstack/stop.sh if stack_start started it (by pidfile)
export STACK_DIR="${STACK_DIR:-$PWD/.stack}"
STACK_STARTED=0
stack_install() { bash scripts/ensure.sh openstack; }
stack_start() {
  if bash tests/openstack/status.sh >/dev/null 2>&1; then
    echo "${1:-stack}: OpenStack already running under $STACK_DIR; leaving it running"
    return 0
  fi
  # Set first: a start that fails half-way leaves services running, which stop.sh ends.
  STACK_STARTED=1
  bash tests/openstack/start.sh
}
stack_stop() {
  [ "$STACK_STARTED" = 1 ] || return 0
  STACK_STARTED=0
  bash tests/openstack/stop.sh >/dev/null 2>&1 || { echo "stopping OpenStack failed (see tests/openstack/stop.sh)"; return 1; }
}
