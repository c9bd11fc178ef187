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
    # CI shows only this script's output: print the log of every test that
    # failed or errored.
    grep -lE '^:test-result: (FAIL|ERROR|XPASS)' $(find tests -name '*.trs') 2>/dev/null |
    while read -r trs; do
        echo "======== ${trs%.trs}.log"
        cat "${trs%.trs}.log"
    done
    exit "$status"
fi
if [ "${VFAILOVER_SKIP_DISTCHECK:-0}" != 1 ]; then
    make -j"$(nproc)" distcheck DISTCHECK_CONFIGURE_FLAGS="--with-dpdk=yes"
    make -j"$(nproc)" distcheck DISTCHECK_CONFIGURE_FLAGS="--without-dpdk"
fi
echo "check.sh: all tests passed"
