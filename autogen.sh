#!/bin/sh
# Regenerate the build system from configure.ac and Makefile.am.
set -eu
cd "$(dirname "$0")"
mkdir -p m4 build-aux
autoreconf -fi
# automake installs test-driver itself but not the TAP driver we use.
cp -f "$(automake --print-libdir)/tap-driver.sh" build-aux/tap-driver.sh
