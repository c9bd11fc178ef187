#!/bin/bash
# vfailover-dp forwarding with a real guest (net_virtio_user) on a server-mode
# vhost-user port and a real wire (af_packet on a veth): both directions,
# VF_ACTIVE delivers nothing to the guest, RARP/GARP on entering
# VIRTIO_ACTIVE, switching back and forth under load loses nothing inside
# the datapath, a guest with other virtio features, telemetry, and no mbuf
# leaked. Exact counts are checked against the datapath's own counters and
# the guest's sequence numbers; the kernel side of the veth (which may drop
# when the machine is overloaded) is only reported.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/dp/lib.sh"
dp_require
dp_setup
plan 23

GMAC=52:54:00:dd:00:01
WMAC=02:00:00:ee:00:02
VARGS="path=$DP_TMP/vm1.sock,mac=$GMAC,queues=1,queue_size=1024"
d() { dp_delta "$s0" "$s1" "$1"; }

dp_start; ok $? "vfailover-dp starts"
mbufs0=$(dp_call '{"command":"stats"}' | json_get "r['mbufs_in_use']")

dp_call "{\"command\":\"pair-add\",\"name\":\"vm1\",\"mac\":\"$GMAC\",\"socket\":\"vm1.sock\",\"mode\":\"server\"}" > "$DP_TMP/r"
ok $? "pair-add vm1 (server mode): $(cat "$DP_TMP/r")"

# 1. VF_ACTIVE: the guest's frames leave, nothing reaches the guest.
traffic_start t1 "$VARGS" --guest-mac $GMAC --wire-mac $WMAC --dir both --count 1000 --rate 5000 \
    --drain-ms 500 --guest-ip 198.18.7.10
dp_wait_connected vm1; ok $? "guest connects to vm1"
s0=$(dp_snap vm1)
traffic_go t1; traffic_wait t1
s1=$(dp_snap vm1)
diag "vf: $(traffic_lines t1 'g2w|w2g') counters: $s1"
ok "$([ "$(d from_guest)" = 1001 ] && [ "$(d uplink_tx)" = 1001 ] && [ "$(traffic_field t1 g2w recv)" -gt 0 ] &&
      [ "$(traffic_field t1 g2w dup)" = 0 ]; echo $?)" \
    "vf state: the guest's 1000 frames (+1 ARP) all go out on the uplink ($(d uplink_tx)), $(traffic_field t1 g2w recv) reached the wire"
ok "$([ "$(traffic_field t1 w2g recv)" = 0 ] && [ "$(d to_guest)" = 0 ]; echo $?)" \
    "vf state: nothing delivered to the guest ($(traffic_lines t1 w2g))"
ok "$([ "$(d dropped_vf_active)" = "$(d uplink_rx)" ] && [ "$(d uplink_rx)" -gt 0 ]; echo $?)" \
    "vf state: every frame for the VM MAC was left to the VF ($(d dropped_vf_active) of $(d uplink_rx))"
dp_wait_connected vm1 no; ok $? "guest disconnect seen"

# 2. VIRTIO_ACTIVE: RARP + GARP on the wire, then traffic both ways.
traffic_start t2 "$VARGS" --guest-mac $GMAC --wire-mac $WMAC --dir both --count 1000 --rate 5000 --drain-ms 500
dp_wait_connected vm1
dp_call '{"command":"pair-set-state","name":"vm1","state":"virtio"}' > "$DP_TMP/r"
ok $? "pair-set-state virtio: $(cat "$DP_TMP/r")"
sleep 0.5
s0=$(dp_snap vm1)
traffic_go t2; traffic_wait t2
s1=$(dp_snap vm1)
ok "$([ "$(traffic_field t2 wire_rarp wire_rarp)" -ge 1 ]; echo $?)" \
    "RARP from $GMAC seen on the wire ($(grep ^wire_rarp "$DP_TMP/t2.out"))"
grep -q "garp_ip=198.18.7.10" "$DP_TMP/t2.out"
ok $? "gratuitous ARP for the guest's learnt IPv4 198.18.7.10 seen on the wire"
ok "$([ "$(d from_guest)" = 1000 ] && [ "$(d uplink_tx)" = 1000 ] && [ "$(traffic_field t2 g2w recv)" -gt 0 ] &&
      [ "$(traffic_field t2 g2w dup)" = 0 ]; echo $?)" \
    "virtio state: guest->uplink 1000/1000 in the datapath ($(traffic_lines t2 g2w))"
ok "$([ "$(traffic_field t2 w2g recv)" = "$(d to_guest)" ] && [ "$(d uplink_rx)" = "$(d to_guest)" ] &&
      [ "$(d to_guest)" -gt 0 ] && [ "$(traffic_field t2 w2g dup)" = 0 ]; echo $?)" \
    "virtio state: uplink->guest, all $(d uplink_rx) received frames delivered ($(traffic_lines t2 w2g))"

# 3. Switch back and forth under load: every frame the datapath received
#    was delivered or accounted to the VF; no duplicates.
dp_wait_connected vm1 no
s0=$(dp_snap vm1)
traffic_start t3 "$VARGS" --guest-mac $GMAC --wire-mac $WMAC --dir both --count 20000 --rate 10000 --drain-ms 1000
dp_wait_connected vm1
traffic_go t3
switches=0
while kill -0 "$TRAFFIC_PID_t3" 2>/dev/null && [ $switches -lt 60 ]; do
    st=vf; [ $((switches % 2)) = 1 ] && st=virtio
    dp_call "{\"command\":\"pair-set-state\",\"name\":\"vm1\",\"state\":\"$st\"}" >/dev/null || break
    switches=$((switches + 1))
    sleep 0.05
done
dp_call '{"command":"pair-set-state","name":"vm1","state":"virtio"}' >/dev/null
traffic_wait t3
s1=$(dp_snap vm1)
rx=$(d uplink_rx); tg=$(d to_guest); vf=$(d dropped_vf_active); full=$(d to_guest_full); nog=$(d dropped_no_guest)
grecv=$(traffic_field t3 w2g recv)
diag "switches=$switches uplink_rx=$rx to_guest=$tg vf_dropped=$vf guest_ring_full=$full no_guest=$nog guest_recv=$grecv"
diag "$(traffic_lines t3 'g2w|w2g'): wire-side differences are the kernel's"
ok "$([ $switches -ge 10 ] && [ $((tg + vf + full + nog)) = "$rx" ] && [ "$nog" = 0 ]; echo $?)" \
    "switching $switches times: every uplink frame delivered or left to the VF ($tg + $vf + ring-full $full = $rx)"
ok "$([ "$grecv" = "$tg" ] && [ "$(traffic_field t3 w2g dup)" = 0 ]; echo $?)" \
    "the guest got exactly what the datapath delivered, no duplicates ($grecv)"
ok "$([ "$(d from_guest)" = "$(traffic_field t3 g2w sent)" ] && [ "$(d uplink_tx)" = $(( $(d from_guest) + $(d announces) )) ] &&
      [ "$(traffic_field t3 g2w dup)" = 0 ]; echo $?)" \
    "guest->uplink during switching: $(d from_guest) dequeued, $(d uplink_tx) sent on the uplink (with $(d announces) RARP/GARP)"

# 3b. A guest negotiating other features: packed ring, no mergeable
#     buffers, in-order.
dp_wait_connected vm1 no
s0=$(dp_snap vm1)
traffic_start t4 "$VARGS,packed_vq=1,mrg_rxbuf=0,in_order=1" --guest-mac $GMAC --wire-mac $WMAC --dir both --count 1000 --rate 5000 --drain-ms 500
dp_wait_connected vm1 && traffic_go t4 && traffic_wait t4
s1=$(dp_snap vm1)
ok "$([ "$(d from_guest)" = 1000 ] && [ "$(traffic_field t4 w2g recv)" = "$(d to_guest)" ] && [ "$(d to_guest)" -gt 0 ]; echo $?)" \
    "packed ring, no mrg_rxbuf, in_order: both ways ($(traffic_lines t4 'g2w|w2g'))"

# 3c. Split ring, no mergeable buffers, a control queue and two queue
#     pairs offered (the guest uses one), a 64-entry ring the datapath's
#     bursts overrun: what does not fit is counted, nothing else is lost.
dp_wait_connected vm1 no
s0=$(dp_snap vm1)
traffic_start t5 "path=$DP_TMP/vm1.sock,mac=$GMAC,queues=2,cq=1,queue_size=64,packed_vq=0,mrg_rxbuf=0,in_order=0" \
    --guest-mac $GMAC --wire-mac $WMAC --dir both --count 1000 --rate 5000 --drain-ms 500
dp_wait_connected vm1 && traffic_go t5 && traffic_wait t5
s1=$(dp_snap vm1)
ok "$([ "$(d from_guest)" = 1000 ] && [ "$(traffic_field t5 w2g recv)" = "$(d to_guest)" ] && [ "$(d to_guest)" -gt 0 ] &&
      [ $(( $(d to_guest) + $(d to_guest_full) )) = "$(d uplink_rx)" ]; echo $?)" \
    "split ring, mq+cq offered, 64 entries, no mrg_rxbuf: both ways, ring-full counted ($(traffic_lines t5 'g2w|w2g') full=$(d to_guest_full))"

# 4. Telemetry and port-list.
dp_call '{"command":"port-list"}' | json_get "[p['name'] for p in r['ports']]" | grep -q "vm1"
ok $? "port-list shows vm1"
tel=$(echo /vfailover/pairs,vm1 | dpdk-telemetry.py -f "$DP_NS-dp" 2>/dev/null | grep -c '"state"')
ok "$([ "${tel:-0}" -ge 1 ]; echo $?)" "dpdk-telemetry.py reads /vfailover/pairs,vm1"
tel=$(echo /vfailover/ports | dpdk-telemetry.py -f "$DP_NS-dp" 2>/dev/null | grep -c '"uplink"')
ok "$([ "${tel:-0}" -ge 1 ]; echo $?)" "dpdk-telemetry.py reads /vfailover/ports"

# 5. No mbuf leaked after all this; clean stop.
dp_wait_connected vm1 no
mbufs=$(dp_call '{"command":"stats"}' | json_get "r['mbufs_in_use']")
ok "$([ "$mbufs" = "$mbufs0" ]; echo $?)" "mbufs in use back to $mbufs0 (now $mbufs)"
tel=$(echo /vfailover/ports | dpdk-telemetry.py -f "$DP_NS-dp" 2>/dev/null |
    python3 -c 'import json,sys; u=json.load(sys.stdin)["/vfailover/ports"]["uplink"]; print(u["mbufs_in_use"], u["reserve_mbufs_in_use"])')
ok "$([ "$tel" = "$mbufs0 0" ]; echo $?)" "telemetry agrees: mbufs_in_use, reserve_mbufs_in_use = $tel"
dp_stop && grep -q "stopped: 0 mbufs still in use" "$DP_TMP/dp.log"
ok $? "SIGTERM: clean stop, no mbuf in use"
[ $_tap_failed = 0 ] || { diag "dp log:"; grep -v VHOST_CONFIG "$DP_TMP/dp.log" | sed 's/^/#   /' | tail -40; }
exit $_tap_failed
