#!/bin/bash
# hookd and a real vfailover-dp (DPDK, --no-huge, one lcore, af_packet
# uplink on a veth in a private namespace; tests/dp/lib.sh): prepare creates
# the pair's vhost-user port and sets it to virtio (no VF), a datapath that
# is down refuses the start with one line, release deletes the port.
set -u
. "${top_srcdir:-.}/tests/lib/tap.sh"
. "${top_srcdir:-.}/tests/dp/lib.sh"
. "${top_srcdir:-.}/tests/libvirt/lib-hookd.sh"

dp_require
command -v jq >/dev/null || skip_all "jq not installed (scripts/setup-debian.sh installs it)"
dp_setup
hookd_pid=
trap 'kill "$hookd_pid" 2>/dev/null; dp_cleanup' EXIT

conf=$DP_TMP/vfailover.conf
cat > "$conf" <<EOC
[hookd]
socket = $DP_TMP/hook.sock
ctl-socket = $DP_TMP/hookd-ctl.sock
state-dir = $DP_TMP/state
libvirt-uri = test:///default
hook-timeout-ms = 8000

[datapath]
ctl-socket = $DP_CTL
EOC
export VFAILOVER_CONFIG=$conf
sed -e "s|@NAME@|vfd-t|; s|@UUID@|7c1d2e3f-4a5b-4c6d-8e7f-101112131415|; s|@SOCKET@|$DP_TMP/vfd-t.sock|" \
    "$S/tests/libvirt/data/vhost.xml" > "$DP_TMP/vhost.xml"
hook() { "$HOOK" "$@" < "$DP_TMP/vhost.xml" 2>"$DP_TMP/err"; }
pair() { dp_call '{"command":"stats","name":"vfd-t:ua-net0"}'; }

plan 8
"$HOOKD" --config "$conf" --foreground --verbose 2>>"$DP_TMP/hookd.log" &
hookd_pid=$!
wait_for 10 "$CTL" --config "$conf" status; ok $? "hookd runs"

hook vfd-t prepare begin -; rc=$?; err=$(cat "$DP_TMP/err")
[ $rc = 1 ] && one_line "$err" && echo "$err" | grep -q "^vfailover: domain vfd-t: interface ua-net0: cannot create its vhost-user port .*: the datapath is not reachable"
ok $? "datapath down: start refused with one line: $err"

dp_start; ok $? "vfailover-dp runs"
hook vfd-t prepare begin -; ok $? "prepare with the datapath up passes: $(cat "$DP_TMP/err")"
pair | jq -e --arg s "$DP_TMP/vfd-t.sock" '.ok and .pair.mac == "52:54:00:6a:00:02" and .pair.socket == $s and .pair.mode == "server" and .pair.state == "virtio"' >/dev/null
ok $? "the datapath has the pair's port (server mode, state virtio: no VF yet)"
"$CTL" --config "$conf" --json status | jq -e '.datapath.reachable' >/dev/null
ok $? "status: datapath reachable"

hook vfd-t release end -; ok $? "release passes"
! pair >/dev/null 2>&1; ok $? "release deleted the port"

if [ "$_tap_failed" != 0 ]; then
    diag "hookd log:"; sed 's/^/#   /' "$DP_TMP/hookd.log" | tail -n 20
fi
