#!/bin/bash
# vfailover-dp's control socket under bad input: malformed frames, bad
# JSON, unknown commands and pairs, bad arguments each get one clear error
# and the daemon keeps serving; vhost-user socket directories QEMU's user
# cannot reach are refused with an error naming the directory.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/dp/lib.sh"
dp_require
dp_setup
plan 37

dp_start; ok $? "vfailover-dp starts"

# expect_error JSON PATTERN: the reply is ok=false with an error matching PATTERN.
expect_error() {
    local reply rc
    reply=$(dp_call "$1" 2>&1); rc=$?
    if [ $rc = 1 ] && echo "$reply" | json_get "r['error']" | grep -qE -- "$2"; then
        ok 0 "$1 -> $(echo "$reply" | json_get "r['error']")"
    else
        ok 1 "$1 -> expected /$2/, got rc=$rc $reply"
    fi
}
expect_raw_error() {
    local reply rc
    reply=$(printf "$1" | "$DP_CALL" --raw "$DP_CTL" - 2>&1); rc=$?
    if [ $rc = 1 ] && echo "$reply" | json_get "r['error']" | grep -qiE -- "$2"; then
        ok 0 "raw '$1' -> $(echo "$reply" | json_get "r['error']")"
    else
        ok 1 "raw '$1' -> expected /$2/, got rc=$rc $reply"
    fi
}

M=52:54:00:dd:00:21
expect_raw_error 'GARBAGE!' 'exceeds the limit'
expect_raw_error '\x00\x00\x00\x05hello' 'JSON|syntax|parse'
expect_raw_error '\x00\x00\x00\x02[]' 'object'
expect_raw_error '\x00\x00\x00\x10{"command":"st' 'truncat|closed'
expect_error '{"nocommand":1}' "command"
expect_error '{"command":7}' "command"
expect_error '{"command":"frobnicate"}' "unknown command 'frobnicate'"
expect_error '{"command":"pair-add","name":"vm1","socket":"a.sock"}' "missing argument 'mac'"
expect_error "{\"command\":\"pair-add\",\"name\":\"vm1\",\"mac\":\"zz:00\",\"socket\":\"a.sock\"}" "'mac' must be a unicast MAC"
expect_error "{\"command\":\"pair-add\",\"name\":\"vm1\",\"mac\":\"01:00:5e:00:00:01\",\"socket\":\"a.sock\"}" "'mac' must be a unicast MAC"
expect_error "{\"command\":\"pair-add\",\"name\":\"vm 1/x\",\"mac\":\"$M\",\"socket\":\"a.sock\"}" "'name' must be"
expect_error "{\"command\":\"pair-add\",\"name\":\"vm1\",\"mac\":\"$M\",\"socket\":\"../etc/x\"}" "'socket' must be"
expect_error "{\"command\":\"pair-add\",\"name\":\"vm1\",\"mac\":\"$M\",\"socket\":\"a.sock\",\"mode\":\"both\"}" "'mode' must be server or client"
expect_error "{\"command\":\"pair-add\",\"name\":\"vm1\",\"mac\":\"$M\",\"socket\":\"a.sock\",\"colour\":\"red\"}" "unknown argument 'colour'"
expect_error "{\"command\":\"pair-add\",\"name\":\"vm1\",\"mac\":5,\"socket\":\"a.sock\"}" "mac"
expect_error "{\"command\":\"pair-add\",\"name\":\"vm1\",\"mac\":\"$M\",\"socket\":\"nodir/a.sock\"}" "directory .*nodir does not exist"
expect_error '{"command":"pair-set-state","name":"ghost","state":"virtio"}' "no pair named ghost"
expect_error '{"command":"pair-del","name":"ghost"}' "no pair named ghost"
expect_error '{"command":"stats","name":"ghost"}' "no pair named ghost"
expect_error '{"command":"pair-announce","name":"ghost"}' "no pair named ghost"

dp_call "{\"command\":\"pair-add\",\"name\":\"vm1\",\"mac\":\"$M\",\"socket\":\"a.sock\"}" >/dev/null
ok $? "a valid pair-add still works after all that"
expect_error '{"command":"pair-set-state","name":"vm1","state":"both"}' "'state' must be vf, virtio or hold"
expect_error "{\"command\":\"pair-add\",\"name\":\"vm1\",\"mac\":\"52:54:00:dd:00:22\",\"socket\":\"b.sock\"}" "pair vm1 already exists with another MAC"
dp_call "{\"command\":\"pair-add\",\"name\":\"vm1\",\"mac\":\"$M\",\"socket\":\"a.sock\"}" | json_get "r['existed']" | grep -qx True
ok $? "pair-add of the identical pair again succeeds with existed=true (hookd resync)"
# A peer that connects and says nothing does not hold the socket.
python3 -c 'import socket, sys, time; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); time.sleep(4)' "$DP_CTL" &
slow=$!
sleep 0.3
t0=$(date +%s%N)
dp_call '{"command":"stats"}' >/dev/null
rc=$?; t1=$(date +%s%N)
diag "stats answered in $(( (t1 - t0) / 1000000 )) ms while a silent peer was connected"
ok $rc "stats answered while a silent peer holds a connection"
wait $slow
expect_error "{\"command\":\"pair-add\",\"name\":\"vm2\",\"mac\":\"$M\",\"socket\":\"b.sock\"}" "MAC $M is already used by pair vm1"
expect_error "{\"command\":\"pair-add\",\"name\":\"vm2\",\"mac\":\"52:54:00:dd:00:22\",\"socket\":\"a.sock\"}" "socket .*a.sock is already used by pair vm1"

# pair-announce: announcement rounds whatever the state (vm1 is in vf).
dp_call '{"command":"pair-announce","name":"vm1"}' >/dev/null
ok $? "pair-announce of a pair in state vf is accepted"
ann=0
for i in $(seq 1 20); do
    ann=$(dp_call '{"command":"stats","name":"vm1"}' | json_get "r['pair']['counters']['announces']")
    [ "${ann:-0}" -gt 0 ] && break
    sleep 0.1
done
ok "$([ "${ann:-0}" -gt 0 ]; echo $?)" "pair-announce: the pair in state vf sent its announcement ($ann frames)"

cmds=$(dp_call '{"command":"list-commands"}' | json_get "' '.join(sorted(c['name'] for c in r['commands']))")
ok "$([ "$cmds" = "list-commands pair-add pair-announce pair-del pair-set-state port-list stats status" ]; echo $?)" "list-commands: $cmds"
dp_call '{"command":"pair-del","name":"vm1"}' >/dev/null && [ ! -e "$DP_TMP/a.sock" ]
ok $? "pair-del removes the pair and its socket"
kill -0 "$DP_PID" && [ "$(dp_call '{"command":"status"}' | json_get "r['pid']")" = "$DP_PID" ]
ok $? "the daemon is still running and answers status"

# A non-root client is refused (the socket is 0600 root).
if command -v setpriv >/dev/null; then
    setpriv --reuid=65534 --regid=65534 --clear-groups "$DP_CALL" "$DP_CTL" '{"command":"stats"}' >/dev/null 2>&1
    ok "$([ $? = 2 ]; echo $?)" "a non-root client cannot use the control socket"
else
    ok 0 "# SKIP setpriv missing"
fi

# QEMU's user must reach the socket directory.
dp_stop
rm -f "$DP_CTL"
dp_start --vhost-owner libvirt-qemu || bail_out "restart failed"
if id libvirt-qemu >/dev/null 2>&1; then
    mkdir -m 0700 "$DP_TMP/private"
    expect_error "{\"command\":\"pair-add\",\"name\":\"vm3\",\"mac\":\"$M\",\"socket\":\"$DP_TMP/private/c.sock\"}" \
        "directory .*private is not reachable by QEMU's user libvirt-qemu"
    mkdir -m 0755 "$DP_TMP/shared"
    dp_call "{\"command\":\"pair-add\",\"name\":\"vm3\",\"mac\":\"$M\",\"socket\":\"$DP_TMP/shared/c.sock\"}" >/dev/null &&
        [ "$(stat -c '%U %a' "$DP_TMP/shared/c.sock")" = "libvirt-qemu 660" ]
    ok $? "a server socket is handed to libvirt-qemu, mode 0660 ($(stat -c '%U %a' "$DP_TMP/shared/c.sock" 2>&1))"
else
    ok 0 "# SKIP no libvirt-qemu user"
    ok 0 "# SKIP no libvirt-qemu user"
fi
# A pool the uplink's rings would eat up is refused at start.
dp_stop
out=$(ip netns exec "$DP_NS" timeout 20 "$DP_BIN" -l 1 --no-huge -m 256 --file-prefix "$DP_NS-small" --no-pci -- \
    --ctl "$DP_TMP/small.sock" --uplink net_tap0,iface=dsmall --mbufs 1024 --vhost-owner '' 2>&1); rc=$?
echo "$out" | grep -q "mbuf pool too small: the uplink's rings hold [0-9]* of 1024 mbufs; use --mbufs [0-9]* or more"
ok "$([ $? = 0 ] && [ $rc = 1 ]; echo $?)" "too small a pool: clear error, exit 1 ($(echo "$out" | grep -o 'mbuf pool too small.*'))"
[ $_tap_failed = 0 ] || { diag "dp log:"; sed 's/^/#   /' "$DP_TMP/dp.log" | tail -40; }
exit $_tap_failed
