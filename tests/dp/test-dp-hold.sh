#!/bin/bash
# vfailover-dp's hold state (hookd holds a pair while the guest still has
# the VF that is leaving registered: net_failover drops what arrives on the
# standby until then): with a real guest (net_virtio_user) and a real wire
# (af_packet on a veth), frames for the guest are kept while the pair holds
# and delivered, all of them, once it goes virtio; a hold that outlives
# --hold-ms delivers anyway; going back to vf drops what was held; a hold
# without a guest keeps what arrives until the guest's device starts; the
# MAC stays claimed and RARP goes out on entering hold; no mbuf leaked.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/dp/lib.sh"
dp_require
dp_setup
plan 16

GMAC=52:54:00:dd:00:61
WMAC=02:00:00:ee:00:62
VARGS="path=$DP_TMP/vm1.sock,mac=$GMAC,queues=1,queue_size=1024"
d() { dp_delta "$s0" "$s1" "$1"; }
state() { dp_call "{\"command\":\"pair-set-state\",\"name\":\"vm1\",\"state\":\"$1\"}"; }
# held_at_least N: the pair holds N frames or more (stats).
held_at_least() { [ "$(dp_delta "$s0" "$(dp_snap vm1)" held)" -ge "$1" ]; }
wait_until() { local n=$(($1 * 10)); shift; while [ $n -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done; return 1; }

# --hold-ms 20000: the first case must not expire on a loaded machine.
dp_start --hold-ms 20000; ok $? "vfailover-dp starts (--hold-ms 20000)"
mbufs0=$(dp_call '{"command":"stats"}' | json_get "r['mbufs_in_use']")
dp_call "{\"command\":\"pair-add\",\"name\":\"vm1\",\"mac\":\"$GMAC\",\"socket\":\"vm1.sock\",\"mode\":\"server\"}" >/dev/null
ok $? "pair-add vm1"

# 1. hold, then virtio: everything held arrives, nothing twice. The guest
#    keeps receiving for 12 s after the last frame was sent: on a loaded
#    machine the steps below take seconds, and a guest gone by then would
#    make the datapath drop what it held.
traffic_start t1 "$VARGS" --guest-mac $GMAC --wire-mac $WMAC --dir w2g --count 200 --rate 2000 --drain-ms 12000
dp_wait_connected vm1
s0=$(dp_snap vm1)
state hold > "$DP_TMP/r"
ok $? "pair-set-state hold: $(cat "$DP_TMP/r")"
traffic_go t1
wait_until 20 held_at_least 150
s1=$(dp_snap vm1)
ok "$([ "$(d to_guest)" = 0 ] && [ "$(d held)" -ge 150 ] && [ "$(d held)" = "$(d uplink_rx)" ]; echo $?)" \
    "hold: $(d held) of the $(d uplink_rx) frames received for the guest are held, none delivered yet"
ok "$([ "$(d announces)" -ge 1 ]; echo $?)" "entering hold announced the MAC ($(d announces) RARP/GARP)"
state virtio > /dev/null
traffic_wait t1
s1=$(dp_snap vm1)
recv=$(traffic_field t1 w2g recv)
diag "t1: $(traffic_lines t1 w2g) counters: $s1"
ok "$([ "$(d to_guest)" = "$(d uplink_rx)" ] && [ "$recv" = "$(d to_guest)" ] && [ "$(d dropped_hold)" = 0 ] &&
      [ "$(traffic_field t1 w2g dup)" = 0 ]; echo $?)" \
    "virtio: all $(d uplink_rx) frames delivered ($(d held) of them held), the guest got $recv, no duplicates"
ok "$([ "$(d hold_expired)" = 0 ]; echo $?)" "the hold did not expire"
dp_wait_connected vm1 no

# 2. hold, then back to vf: what was held is dropped and counted.
traffic_start t2 "$VARGS" --guest-mac $GMAC --wire-mac $WMAC --dir w2g --count 100 --rate 2000 --drain-ms 1000
dp_wait_connected vm1
s0=$(dp_snap vm1)
state hold > /dev/null
traffic_go t2
wait_until 20 held_at_least 50
state vf > /dev/null
traffic_wait t2
s1=$(dp_snap vm1)
ok "$([ "$(d held)" -ge 50 ] && [ "$(d dropped_hold)" = "$(d held)" ] && [ "$(traffic_field t2 w2g recv)" = 0 ]; echo $?)" \
    "hold -> vf: the $(d held) held frames are dropped ($(d dropped_hold)), none reach the guest"
dp_wait_connected vm1 no

# 2b. A hold needs no guest (a migration destination holds from the moment
#     the source stopped, before the VM runs there): what arrives is kept
#     until the guest's device has started; once the pair is virtio, what
#     arrives before the device started waits behind it.
s0=$(dp_snap vm1)
state hold > /dev/null
wire_send() { dp_wire_send "$GMAC" "$WMAC" "$@"; }
wire_send 50 0
wait_until 20 held_at_least 50
s1=$(dp_snap vm1)
ok "$([ "$(d held)" = 50 ] && [ "$(d dropped_no_guest)" = 0 ] && [ "$(d dropped_hold)" = 0 ]; echo $?)" \
    "hold without a guest: the $(d held) frames from the wire are kept (dropped: $(d dropped_no_guest) no guest, $(d dropped_hold) hold)"
state virtio > /dev/null
wire_send 20 50
wait_until 20 held_at_least 70
s1=$(dp_snap vm1)
ok "$([ "$(d held)" = 70 ] && [ "$(d dropped_no_guest)" = 0 ] && [ "$(d to_guest)" = 0 ]; echo $?)" \
    "virtio before the guest's device started: 20 more wait behind them (held $(d held), dropped $(d dropped_no_guest))"
traffic_start t2b "$VARGS" --guest-mac $GMAC --wire-mac $WMAC --dir none --count 70 --drain-ms 2000
dp_wait_connected vm1
traffic_go t2b
traffic_wait t2b
s1=$(dp_snap vm1)
ok "$([ "$(traffic_field t2b w2g recv)" = 70 ] && [ "$(d to_guest)" = 70 ] && [ "$(d dropped_hold)" = 0 ] &&
      [ "$(traffic_field t2b w2g dup)" = 0 ]; echo $?)" \
    "the guest came: it got the $(traffic_field t2b w2g recv) held frames ($(traffic_lines t2b w2g))"
dp_wait_connected vm1 no
dp_stop && grep -q "stopped: 0 mbufs still in use" "$DP_TMP/dp.log"
ok $? "clean stop, no mbuf in use"

# 3. A hold that outlives --hold-ms delivers anyway.
: > "$DP_TMP/dp.log"
dp_start --hold-ms 300; ok $? "vfailover-dp restarts with --hold-ms 300"
mbufs0=$(dp_call '{"command":"stats"}' | json_get "r['mbufs_in_use']")
dp_call "{\"command\":\"pair-add\",\"name\":\"vm1\",\"mac\":\"$GMAC\",\"socket\":\"vm1.sock\",\"mode\":\"server\"}" >/dev/null
traffic_start t3 "$VARGS" --guest-mac $GMAC --wire-mac $WMAC --dir w2g --count 200 --rate 200 --drain-ms 1000
dp_wait_connected vm1
s0=$(dp_snap vm1)
state hold > /dev/null
traffic_go t3
traffic_wait t3
s1=$(dp_snap vm1)
ok "$([ "$(d hold_expired)" = 1 ] && [ "$(d to_guest)" = "$(d uplink_rx)" ] && [ "$(d held)" -ge 1 ] &&
      [ "$(traffic_field t3 w2g recv)" = "$(d to_guest)" ]; echo $?)" \
    "expired after 300 ms: the $(d held) held frames and the rest delivered ($(d to_guest) of $(d uplink_rx); $(traffic_lines t3 w2g))"
dp_wait_connected vm1 no
mbufs=$(dp_call '{"command":"stats"}' | json_get "r['mbufs_in_use']")
ok "$([ "$mbufs" = "$mbufs0" ]; echo $?)" "mbufs in use back to $mbufs0 (now $mbufs)"
dp_stop && grep -q "stopped: 0 mbufs still in use" "$DP_TMP/dp.log"
ok $? "clean stop, no mbuf in use"
[ $_tap_failed = 0 ] || { diag "dp log:"; grep -v VHOST_CONFIG "$DP_TMP/dp.log" | sed 's/^/#   /' | tail -40; }
exit $_tap_failed
