# Admin credentials for the openstack CLI. Source it, do not run it:
#   . path/to/env.sh        (same STACK_DIR and KEYSTONE_PORT as start.sh)
# It does not change the shell's options (no set -e), so it is safe in an
# interactive shell.
# Default STACK_DIR: the repository's .stack/ (this file is tests/openstack/env.sh).
_stack_dir="${STACK_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.stack}"
[ -d "$_stack_dir" ] && _stack_dir="$(cd "$_stack_dir" && pwd)"
export OS_AUTH_URL="http://127.0.0.1:${KEYSTONE_PORT:-5000}/v3"
export OS_AUTH_TYPE=password
export OS_USERNAME=admin
export OS_PASSWORD="${ADMIN_PASSWORD:-secret}"
export OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_ID=default
export OS_PROJECT_DOMAIN_ID=default
export OS_IDENTITY_API_VERSION=3
export OS_REGION_NAME=RegionOne
export OS_INTERFACE=public
case ":$PATH:" in *":$_stack_dir/venv/bin:"*) ;; *) export PATH="$_stack_dir/venv/bin:$PATH" ;; esac
unset _stack_dir
