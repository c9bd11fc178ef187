#!/bin/bash
# VHOST_USER_SEND_RARP: after a migration QEMU sends it on the vhost-user
# socket when the guest cannot announce itself (no GUEST_ANNOUNCE);
# rte_vhost stores the MAC and injects a RARP from it at the head of the
# next rte_vhost_dequeue_burst on that device. So the datapath must keep
# dequeuing a quiet guest, also while it sleeps between idle passes, or
# the RARP never leaves. DPDK's virtio-user has no call for this message:
# dp-traffic writes it on virtio-user's own vhost-user connection (found by
# its peer address), exactly as QEMU frames it. The MAC it carries differs
# from the guest's, so what reaches the wire can only come from the
# message (not from the datapath's own announcements).
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/dp/lib.sh"
dp_require
dp_setup
plan 7

GMAC=52:54:00:dd:00:81
WMAC=02:00:00:ee:00:82
RMAC=52:54:00:dd:00:8f
dp_start; ok $? "vfailover-dp starts (adaptive polling)"
mbufs0=$(dp_call '{"command":"stats"}' | json_get "r['mbufs_in_use']")
dp_call "{\"command\":\"pair-add\",\"name\":\"r\",\"mac\":\"$GMAC\",\"socket\":\"r.sock\"}" >/dev/null
ok $? "pair r"

# round STATE NAME: an idle connected guest, then SEND_RARP.
round() {
    dp_call "{\"command\":\"pair-set-state\",\"name\":\"r\",\"state\":\"$1\"}" >/dev/null
    traffic_start "$2" "path=$DP_TMP/r.sock,mac=$GMAC" --guest-mac $GMAC --wire-mac $WMAC \
        --dir none --count 1 --drain-ms 1000 --vhost-rarp $RMAC
    dp_wait_connected r
    # Quiet long enough for the entry announcements (virtio) to be over
    # and the loop to sleep between passes.
    sleep 2
    s0=$(dp_snap r); l0=$(dp_call '{"command":"stats"}' | json_get "r['sleeps']")
    sleep 1
    l1=$(dp_call '{"command":"stats"}' | json_get "r['sleeps']")
    traffic_go "$2"; traffic_wait "$2"
    s1=$(dp_snap r)
    dp_wait_connected r no
}

round virtio t1
ok "$([ $((l1 - l0)) -gt 100 ]; echo $?)" "the datapath was idle and sleeping before the message ($((l1 - l0)) sleeps in 1 s)"
ok "$([ "$(traffic_field t1 wire_rarp vhost_rarp)" -ge 1 ]; echo $?)" \
    "virtio: RARP from $RMAC on the wire after VHOST_USER_SEND_RARP ($(grep ^wire_rarp "$DP_TMP/t1.out"))"
ok "$([ "$(dp_delta "$s0" "$s1" from_guest)" = 1 ] && [ "$(dp_delta "$s0" "$s1" uplink_tx)" = 1 ] &&
      [ "$(dp_delta "$s0" "$s1" announces)" = 0 ]; echo $?)" \
    "it came out of the guest's dequeue (from_guest +1, uplink_tx +1, no announcement of our own)"

# VF_ACTIVE: what the guest sends on virtio still leaves; so does this.
round vf t2
ok "$([ "$(traffic_field t2 wire_rarp vhost_rarp)" -ge 1 ]; echo $?)" \
    "vf: the RARP leaves too ($(grep ^wire_rarp "$DP_TMP/t2.out"))"
mbufs=$(dp_call '{"command":"stats"}' | json_get "r['mbufs_in_use']")
ok "$([ "$mbufs" = "$mbufs0" ]; echo $?)" "the injected RARP's mbuf went back to the pool (in use: $mbufs0 before, $mbufs after)"
[ $_tap_failed = 0 ] || { diag "dp log:"; grep -v VHOST_CONFIG "$DP_TMP/dp.log" | sed 's/^/#   /' | tail -30; }
exit $_tap_failed
