# Sourced (not run) by the suites that need the OpenStack of tests/openstack (edge-worker/test.sh,
# web/test.sh, tests/e2e.sh) and by scripts/test.sh: install it, start it unless it already runs,
# and stop it again only if this script's caller started it. Run from the repository root.
#   stack_install          scripts/ensure.sh openstack (idempotent; cached after the first run)
#   stack_start LABEL      tests/openstack/start.sh unless status.sh says it is up
#   stack_stop             tests/openstack/stop.sh if stack_start started it (by pidfile)
#   stack_prepare LOG      scripts/test.sh: install and start in the background while the Rust
#                          suites compile (a fresh machine spends minutes in apt and pip there);
#                          every later stack_start waits for it, finds it up and leaves it up.
export STACK_DIR="${STACK_DIR:-$PWD/.stack}"
STACK_STARTED=0
stack_install() { bash scripts/ensure.sh openstack; }
stack_start() {
  # A background preparation holds this lock until it is done: wait for it, then look.
  if [ -n "${STACK_PREP_LOCK:-}" ] && [ -e "$STACK_PREP_LOCK" ]; then
    echo "${1:-stack}: waiting for the OpenStack being prepared in the background"
    flock "$STACK_PREP_LOCK" true
  fi
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
# stack_prepare LOG: the packages the browser suites need (apt, one at a time), the kit, then
# start.sh, in a background job holding $STACK_PREP_LOCK; its output goes to LOG. The caller owns
# the stack afterwards (STACK_STARTED=1) and stops it with stack_stop. Nothing to do when the
# stack already runs.
stack_prepare() {
  bash tests/openstack/status.sh >/dev/null 2>&1 && return 0
  export STACK_PREP_LOCK
  STACK_PREP_LOCK=$(mktemp "${TMPDIR:-/tmp}/stackferry-stack-prep.XXXXXX")
  exec 8>"$STACK_PREP_LOCK"
  flock 8
  STACK_STARTED=1
  # The job holds the lock's open file (fd 8) and so the lock until it ends; its commands get
  # no fd 8 (`8>&-`): the services start.sh leaves running would hold the lock for ever.
  ( suite_bg_step "OpenStack: chromium" bash scripts/ensure.sh chromium 8>&- && suite_bg_step "OpenStack: e2e packages" bash tests/e2e/install.sh 8>&- \
      && suite_bg_step "OpenStack: kit install" stack_install 8>&- && suite_bg_step "OpenStack: start" bash tests/openstack/start.sh 8>&-
    echo "stack_prepare: exit $?" ) >"$1" 2>&1 &
  exec 8>&-
}
