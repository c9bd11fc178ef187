#!/bin/bash
# hookd and a real vfailover-dp (DPDK, --no-huge, one lcore, af_packet
# uplink on a veth in a private namespace; tests/dp/lib.sh): prepare creates
# the pair's vhost-user port and sets it to virtio (no VF), a datapath that
# is down refuses the start with one line, release deletes the port.
# Then a live pair (QEMU's side listens, as with <source mode='server'>: a
# virtio-user guest in server mode plays QEMU, the datapath connects):
# vfailover-dp is killed under it (status: datapath down, the pair
# degraded), restarted, and hookd re-creates the port in the pair's state
# by itself; the guest is reconnected and traffic flows again.
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

plan 18
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

# A live pair.
LMAC=52:54:00:6a:00:02
sed -e "s|@NAME@|vfd-l|; s|@UUID@|7c1d2e3f-4a5b-4c6d-8e7f-161718191a1b|; s|@SOCKET@|$DP_TMP/vfd-l.sock|; s|mode='client'|mode='server'|" \
    "$S/tests/libvirt/data/vhost.xml" > "$DP_TMP/live.xml"
hookl() { "$HOOK" "$@" < "$DP_TMP/live.xml" 2>"$DP_TMP/err"; }
lpair() { dp_call '{"command":"stats","name":"vfd-l:ua-net0"}'; }
status() { "$CTL" --config "$conf" --json status; }
hookl vfd-l prepare begin - && hookl vfd-l start begin - && hookl vfd-l started begin - &&
    lpair | jq -e '.pair.mode == "client" and .pair.state == "virtio"' >/dev/null
ok $? "live domain started: its port connects to the guest's socket (client mode), state virtio"
traffic_start live "path=$DP_TMP/vfd-l.sock,mac=$LMAC,server=1" --guest-mac $LMAC --wire-mac 02:00:00:ee:00:6a \
    --count 300 --rate 3000 --drain-ms 300 --rounds 2
both_ways() { # ROUND-SUFFIX
    [ "$(traffic_field live "g2w$1" recv)" -gt 0 ] && [ "$(traffic_field live "w2g$1" recv)" -gt 0 ] &&
        [ "$(traffic_field live "w2g$1" dup)" = 0 ]
}
dp_wait_connected vfd-l:ua-net0 && traffic_go live &&
    for _ in $(seq 100); do grep -q '^wire_rarp' "$DP_TMP/live.out" && break; sleep 0.1; done && both_ways ""
ok $? "guest connected, traffic both ways ($(grep -E '^(g2w|w2g) ' "$DP_TMP/live.out" | tr '\n' ' '))"

kill -9 "$DP_PID"; wait "$DP_PID" 2>/dev/null
wait_for 10 sh -c "'$CTL' --config '$conf' --json status | jq -e '.datapath.state == \"down\" and (.datapath.degraded_pairs | index(\"vfd-l/ua-net0\")) != null'"
ok $? "vfailover-dp killed: status says the datapath is down and the pair degraded ($(status | jq -c '.datapath'))"
text=$("$CTL" --config "$conf" status)
echo "$text" | grep -q "^datapath: .* unreachable, down since" && echo "$text" | grep -qx "degraded pairs (no datapath port): vfd-l/ua-net0"
ok $? "vfailoverctl status: $(echo "$text" | grep -A1 '^datapath' | tr '\n' ' ')"
"$CTL" --config "$conf" --json pairs vfd-l | jq -e '[.domains[0].timeline[].what] | any(test("ua-net0: degraded: no datapath port"))' >/dev/null
ok $? "the pair's timeline records the degradation"

rm -f "$DP_CTL"
dp_start && wait_for 10 sh -c "'$DP_CALL' '$DP_CTL' '{\"command\":\"stats\",\"name\":\"vfd-l:ua-net0\"}' | jq -e '.pair.state == \"virtio\" and .pair.mode == \"client\"'"
ok $? "vfailover-dp restarted: hookd re-created the port in its state ($(lpair | jq -c '.pair | {mode, state, mac_claim}'))"
dp_call '{"command":"port-list"}' | jq -e '[.ports[].name] == ["uplink", "vfd-l:ua-net0"]' >/dev/null
ok $? "port list: the uplink and the live pair's port only"
dp_wait_connected vfd-l:ua-net0 && touch "$DP_TMP/live.go.2" && traffic_wait live && both_ways 2
ok $? "the guest reconnected, traffic both ways again ($(grep -E '^(g2w2|w2g2) ' "$DP_TMP/live.out" | tr '\n' ' '))"
wait_for 5 sh -c "'$CTL' --config '$conf' --json status | jq -e '.datapath.state == \"up\" and (.datapath.degraded_pairs | length) == 0 and .datapath.ports_recreated >= 1'"
ok $? "status: datapath up, nothing degraded ($(status | jq -c '.datapath'))"
hookl vfd-l stopped end - && hookl vfd-l release end - && ! lpair >/dev/null 2>&1
ok $? "release deleted the live pair's port"

if [ "$_tap_failed" != 0 ]; then
    diag "hookd log:"; sed 's/^/#   /' "$DP_TMP/hookd.log" | tail -n 20
fi
