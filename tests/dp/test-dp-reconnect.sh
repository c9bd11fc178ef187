#!/bin/bash
# vhost-user reconnection in both directions, with traffic after each:
#  - server-mode pair, the guest (virtio-user) restarts: it reconnects;
#  - client-mode pair (the guest listens, like QEMU server mode), the
#    datapath restarts: hookd re-adds the pair and rte_vhost reconnects,
#    the guest process never restarted;
#  - a guest that vanishes mid-traffic leaves no mbuf behind.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/dp/lib.sh"
dp_require
dp_setup
plan 13

GMAC=52:54:00:dd:00:31
WMAC=02:00:00:ee:00:32
dp_start; ok $? "vfailover-dp starts"
mbufs0=$(dp_call '{"command":"stats"}' | json_get "r['mbufs_in_use']")

# Frames flow both ways, none twice (exact counts are test-dp-forward's job;
# here the veth's kernel side may drop on an overloaded machine).
both_ways() { # NAME ROUND-SUFFIX
    [ "$(traffic_field "$1" "g2w$2" recv)" -gt 0 ] && [ "$(traffic_field "$1" "w2g$2" recv)" -gt 0 ] &&
        [ "$(traffic_field "$1" "g2w$2" dup)" = 0 ] && [ "$(traffic_field "$1" "w2g$2" dup)" = 0 ]
}

# 1. Server mode; the guest goes away and comes back.
dp_call "{\"command\":\"pair-add\",\"name\":\"s\",\"mac\":\"$GMAC\",\"socket\":\"s.sock\",\"mode\":\"server\"}" >/dev/null &&
    dp_call '{"command":"pair-set-state","name":"s","state":"virtio"}' >/dev/null
ok $? "server-mode pair in virtio state"
for round in 1 2; do
    traffic_start "g$round" "path=$DP_TMP/s.sock,mac=$GMAC" --guest-mac $GMAC --wire-mac $WMAC --count 500 --rate 5000 --drain-ms 300
    dp_wait_connected s && traffic_go "g$round" && traffic_wait "g$round" && both_ways "g$round" ""
    ok $? "guest run $round: both ways ($(grep -E '^(g2w|w2g)' "$DP_TMP/g$round.out" | tr '\n' ' '))"
    dp_wait_connected s no
done
c=$(dp_counter s connects)
ok "$([ "$c" = 2 ]; echo $?)" "the pair saw 2 connections (got $c)"

# 2. Client mode; the datapath restarts under a guest that stays.
traffic_start c "path=$DP_TMP/c.sock,mac=$GMAC,server=1" --guest-mac $GMAC --wire-mac $WMAC --count 500 --rate 5000 --drain-ms 300 --rounds 2
add_client() {
    dp_call '{"command":"pair-del","name":"s"}' >/dev/null 2>&1
    dp_call "{\"command\":\"pair-add\",\"name\":\"c\",\"mac\":\"$GMAC\",\"socket\":\"c.sock\",\"mode\":\"client\"}" >/dev/null &&
        dp_call '{"command":"pair-set-state","name":"c","state":"virtio"}' >/dev/null &&
        dp_wait_connected c
}
add_client; ok $? "client-mode pair connects to the listening guest"
traffic_go c
for _ in $(seq 100); do grep -q '^w2g ' "$DP_TMP/c.out" && break; sleep 0.1; done
both_ways c ""; ok $? "before the restart: both ways ($(grep -E '^(g2w|w2g) ' "$DP_TMP/c.out" | tr '\n' ' '))"
dp_stop; ok $? "vfailover-dp stops on SIGTERM"
grep -q "stopped: 0 mbufs still in use" "$DP_TMP/dp.log"; ok $? "no mbuf in use at exit"
dp_start && add_client; ok $? "restarted datapath reconnects to the same guest"
touch "$DP_TMP/c.go.2"
traffic_wait c
both_ways c 2; ok $? "after the restart: both ways ($(grep -E '^(g2w2|w2g2) ' "$DP_TMP/c.out" | tr '\n' ' '))"

# 3. A guest killed in the middle of a burst stream.
mbufs0=$(dp_call '{"command":"stats"}' | json_get "r['mbufs_in_use']")
dp_call '{"command":"pair-del","name":"c"}' >/dev/null
dp_call "{\"command\":\"pair-add\",\"name\":\"s\",\"mac\":\"$GMAC\",\"socket\":\"s.sock\"}" >/dev/null &&
    dp_call '{"command":"pair-set-state","name":"s","state":"virtio"}' >/dev/null
traffic_start k "path=$DP_TMP/s.sock,mac=$GMAC" --guest-mac $GMAC --wire-mac $WMAC --count 1000000 --rate 200000 --drain-ms 0
dp_wait_connected s && traffic_go k && sleep 1 && kill -9 "$TRAFFIC_PID_k" && { wait "$TRAFFIC_PID_k"; } 2>/dev/null
dp_wait_connected s no; ok $? "guest killed mid-traffic: disconnect handled"
sleep 0.5
mbufs=$(dp_call '{"command":"stats"}' | json_get "r['mbufs_in_use']")
ok "$(kill -0 "$DP_PID" && [ "$mbufs" = "$mbufs0" ]; echo $?)" "datapath alive, mbufs in use back to $mbufs0 (now $mbufs)"
[ $_tap_failed = 0 ] || { diag "dp log:"; sed 's/^/#   /' "$DP_TMP/dp.log" | tail -40; for f in "$DP_TMP"/*.err; do diag "$f:"; tail -5 "$f" | sed 's/^/#   /'; done; }
exit $_tap_failed
