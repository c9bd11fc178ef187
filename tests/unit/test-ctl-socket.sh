#!/bin/bash
# hookd's control socket end to end: vfailover-hookd serving, vfailoverctl
# asking (table and --json), unknown commands refused with one line, the
# socket created 0600, and a non-root peer refused by SO_PEERCRED even when
# the file mode would let it in.
set -u
. "${top_srcdir:-.}/tests/lib/tap.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root (runs a peer as another uid)"
command -v setpriv >/dev/null || skip_all "setpriv (util-linux) not installed"

tmp=$(mktemp -d)
hookd_pid=
cleanup() { [ -n "$hookd_pid" ] && kill "$hookd_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

B=${top_builddir:-.}
sock=$tmp/run/ctl.sock
: > "$tmp/empty.conf"; chmod 0755 "$tmp"; chmod 0644 "$tmp/empty.conf"
"$B/hookd/vfailover-hookd" --config "$tmp/empty.conf" --ctl-socket "$sock" --socket "$tmp/run/hook.sock" \
    --state-dir "$tmp/state" --libvirt-uri test:///default --foreground 2>"$tmp/hookd.log" &
hookd_pid=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done

plan 8
[ -S "$sock" ]; ok $? "hookd creates its control socket"
[ "$(stat -c %a "$sock")" = 600 ]; ok $? "control socket mode is 0600"

out=$("$B/tools/vfailoverctl" --socket "$sock" status 2>&1)
echo "$out" | grep -q "hookd: running (version"; ok $? "vfailoverctl status: $out"

out=$("$B/tools/vfailoverctl" --socket "$sock" --json status 2>&1)
echo "$out" | grep -q "\"pid\" : $hookd_pid"; ok $? "vfailoverctl --json status carries hookd's pid"

out=$("$B/tools/vfailoverctl" --socket "$sock" list-commands 2>&1)
echo "$out" | grep -q "^status "; ok $? "list-commands lists status"

out=$("$B/tools/vfailoverctl" --socket "$sock" frobnicate 2>&1); rc=$?
[ $rc = 1 ] && [ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -q "unknown command 'frobnicate'"
ok $? "unknown command: exit 1 and one line: $out"

# Open the file mode on purpose: SO_PEERCRED must still refuse uid 65534.
chmod 0666 "$sock"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$B/tools/vfailoverctl" --config "$tmp/empty.conf" --socket "$sock" status 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "only uid 0 may connect"; ok $? "non-root peer refused: $out"

kill -0 "$hookd_pid"; ok $? "hookd still running after bad peers"
