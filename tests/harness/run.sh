#!/usr/bin/env bash
# run.sh TEST_BINARY - start the test servers, run the Check runner, stop them.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=servers.sh
. "$here/servers.sh"
work=$(mktemp -d /tmp/qbharness.XXXXXX)
cleanup() { qb_servers_stop; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
qb_servers_start "$work" || { echo "run.sh: unable to start the test servers" >&2; exit 1; }
export TMPDIR=$work
export QB_BUILD=${QB_BUILD:-build}
case "$QB_BUILD" in /*) ;; *) QB_BUILD=$(pwd)/$QB_BUILD ;; esac
export QB_SRCDIR=$(pwd)
# Leak checking is done with valgrind on the integration paths; LSan under
# fork mode would report the runner's own allocations.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
"$1"
