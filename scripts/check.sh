#!/bin/sh
# The whole test suite, from a fresh Debian 12 machine (run as root):
# install packages, build with -Werror, `make check` with skips forbidden,
# then `make distcheck` with DPDK and without it.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup-debian.sh
./scripts/build.sh
export VFAILOVER_NO_SKIP=1
status=0
make -j"$(nproc)" check || status=$?
if [ "$status" != 0 ]; then
    # Show every failing test's log: CI prints nothing else.
    for log in $(find . -name '*.log' -path './tests/*' -newer config.status); do
        if grep -qE '^(FAIL|ERROR):' "${log%.log}.trs" 2>/dev/null || grep -q ':test-result: FAIL\|:test-result: ERROR' "${log%.log}.trs" 2>/dev/null; then
            echo "======== $log"; cat "$log"
        fi
    done
    exit "$status"
fi
if [ "${VFAILOVER_SKIP_DISTCHECK:-0}" != 1 ]; then
    make -j"$(nproc)" distcheck DISTCHECK_CONFIGURE_FLAGS="--with-dpdk=yes"
    make -j"$(nproc)" distcheck DISTCHECK_CONFIGURE_FLAGS="--without-dpdk"
fi
echo "check.sh: all tests passed"
