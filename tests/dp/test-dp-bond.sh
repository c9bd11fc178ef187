#!/bin/bash
# Two uplinks bonded active-backup (--uplink2): traffic flows through the
# primary; when its link goes down the bond moves to the backup, the
# datapath re-announces the claimed MAC (RARP) and traffic flows again.
# The uplinks are net_tap ports (their link state follows the kernel
# interface, which af_packet's does not) that meet the wire in a Linux
# bridge in the test's namespace (the "embedded switch").
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/dp/lib.sh"
dp_require
dp_setup
plan 8

ns() { ip -n "$DP_NS" "$@"; }
ns link add vt type veth peer name vtb &&
    ns link add br0 type bridge &&
    ns link set vtb master br0 && ns link set vtb up && ns link set vt up && ns link set br0 up
ok $? "bridge with a wire veth"

GMAC=52:54:00:dd:00:51
WMAC=02:00:00:ee:00:52
DP_UPLINK_ARGS="--uplink net_tap0,iface=dt0 --uplink2 net_tap1,iface=dt1"
DP_WIRE_IF=vt
dp_start &&
    for l in dt0 dt1; do
        ip netns exec "$DP_NS" sysctl -qw net.ipv6.conf.$l.disable_ipv6=1
        ns link set "$l" txqueuelen 10000 && ns link set "$l" master br0 && ns link set "$l" up || false
    done
ok $? "vfailover-dp starts with two tap uplinks bonded, bridged to the wire"
dp_call '{"command":"port-list"}' | json_get "r['ports'][0]['type']" | grep -qx bond
ok $? "port-list shows the bond"
dp_call "{\"command\":\"pair-add\",\"name\":\"b\",\"mac\":\"$GMAC\",\"socket\":\"b.sock\"}" >/dev/null &&
    dp_call '{"command":"pair-set-state","name":"b","state":"virtio"}' >/dev/null

d() { dp_delta "$s0" "$s1" "$1"; }
s0=$(dp_snap b)
traffic_start t "path=$DP_TMP/b.sock,mac=$GMAC" --guest-mac $GMAC --wire-mac $WMAC --count 500 --rate 5000 --drain-ms 500 --rounds 2
dp_wait_connected b && traffic_go t
for _ in $(seq 100); do grep -q '^wire_rarp=' "$DP_TMP/t.out" && break; sleep 0.1; done
s1=$(dp_snap b)
[ "$(d from_guest)" = 500 ] && [ "$(traffic_field t g2w recv)" -gt 0 ] &&
    [ "$(traffic_field t w2g recv)" = "$(d to_guest)" ] && [ "$(d to_guest)" -gt 0 ]
ok $? "through the primary: both ways ($(grep -E '^(g2w|w2g) ' "$DP_TMP/t.out" | tr '\n' ' '))"

ns link set dt0 down
for _ in $(seq 50); do grep -q "active uplink is now port 1" "$DP_TMP/dp.log" && break; sleep 0.1; done
grep -q "active uplink is now port 1 (net_tap1): announcing" "$DP_TMP/dp.log"
ok $? "primary down: the bond moved to the backup and the datapath announces"
sleep 0.5
s0=$(dp_snap b)
touch "$DP_TMP/t.go.2"
traffic_wait t
s1=$(dp_snap b)
[ "$(traffic_field t wire_rarp_next wire_rarp_next)" -ge 1 ]
ok $? "RARP for $GMAC seen through the backup ($(grep '^wire_rarp_next' "$DP_TMP/t.out"))"
[ "$(d from_guest)" = 500 ] && [ "$(traffic_field t g2w2 recv)" -gt 0 ] &&
    [ "$(traffic_field t w2g2 recv)" = "$(d to_guest)" ] && [ "$(d to_guest)" -gt 0 ]
ok $? "through the backup: both ways ($(grep -E '^(g2w2|w2g2) ' "$DP_TMP/t.out" | tr '\n' ' '))"
dp_stop && grep -q "stopped: 0 mbufs still in use" "$DP_TMP/dp.log"
ok $? "clean stop, no mbuf left in use ($(grep -o 'stopped: .*' "$DP_TMP/dp.log"))"
[ $_tap_failed = 0 ] || { diag "dp log:"; grep -v VHOST_CONFIG "$DP_TMP/dp.log" | sed 's/^/#   /' | tail -40; }
exit $_tap_failed
