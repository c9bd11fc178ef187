#!/bin/sh
# Configure and build vfailover in this checkout (in-tree), as the demo,
# tests and benchmarks expect. Extra arguments go to configure.
set -eu
cd "$(dirname "$0")/.."
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ ! -f build-aux/tap-driver.sh ]; then
    ./autogen.sh
fi
if [ ! -f Makefile ] || [ configure -nt Makefile ] || [ $# -gt 0 ]; then
    ./configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var --runstatedir=/run \
        --enable-werror "$@"
fi
make -j"$(nproc)"
