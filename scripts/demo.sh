#!/bin/sh
# The main job, from a fresh Debian 12 machine (run as root): install
# packages, build, and run the demo.
#
# The two-host live-migration demo does not exist yet. Until it lands this
# runs the most complete real thing there is: vfailover-hookd on a private
# control socket, asked by vfailoverctl for its status and command list.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup-debian.sh
./scripts/build.sh

tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
: > "$tmp/vfailover.conf"
./hookd/vfailover-hookd --config "$tmp/vfailover.conf" --socket "$tmp/hook.sock" \
    --ctl-socket "$tmp/ctl.sock" --state-dir "$tmp/state" --foreground --verbose &
pid=$!
i=0; while [ ! -S "$tmp/ctl.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
./hookd/vfailoverctl --socket "$tmp/ctl.sock" status
./hookd/vfailoverctl --socket "$tmp/ctl.sock" list-commands
echo "demo.sh: done (placeholder until the two-host migration demo lands)"
