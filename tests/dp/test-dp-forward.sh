#!/bin/bash
# vfailover-dp forwarding with a real guest (net_virtio_user) on a server-mode
# vhost-user port and a real wire (af_packet on a veth): both directions,
# VF_ACTIVE delivers nothing to the guest, RARP on entering VIRTIO_ACTIVE,
# switching back and forth under load loses nothing inside the datapath,
# and no mbuf is leaked.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/dp/lib.sh"
dp_require
dp_setup
plan 18

GMAC=52:54:00:dd:00:01
WMAC=02:00:00:ee:00:02
VARGS="path=$DP_TMP/vm1.sock,mac=$GMAC,queues=1,queue_size=256"

dp_start; ok $? "vfailover-dp starts"
mbufs0=$(dp_call '{"command":"stats"}' | json_get "r['mbufs_in_use']")

dp_call "{\"command\":\"pair-add\",\"name\":\"vm1\",\"mac\":\"$GMAC\",\"socket\":\"vm1.sock\",\"mode\":\"server\"}" > "$DP_TMP/r"
ok $? "pair-add vm1 (server mode): $(cat "$DP_TMP/r")"

# 1. VF_ACTIVE: the guest's frames leave, nothing reaches the guest.
traffic_start t1 "$VARGS" --guest-mac $GMAC --wire-mac $WMAC --dir both --count 1000 --rate 5000 --drain-ms 500 --guest-ip 198.18.7.10
dp_wait_connected vm1; ok $? "guest connects to vm1"
traffic_go t1; traffic_wait t1
ok "$([ "$(traffic_field t1 g2w recv)" = 1000 ] && [ "$(traffic_field t1 g2w dup)" = 0 ]; echo $?)" \
    "vf state: guest->wire 1000/1000 ($(grep ^g2w "$DP_TMP/t1.out"))"
ok "$([ "$(traffic_field t1 w2g recv)" = 0 ]; echo $?)" \
    "vf state: nothing delivered to the guest ($(grep ^w2g "$DP_TMP/t1.out"))"
vfdrop=$(dp_counter vm1 dropped_vf_active)
ok "$([ "$vfdrop" = 1000 ]; echo $?)" "vf state: dp counted 1000 frames for the VF (got $vfdrop)"
dp_wait_connected vm1 no; ok $? "guest disconnect seen"

# 2. VIRTIO_ACTIVE: RARP on the wire, then traffic both ways.
traffic_start t2 "$VARGS" --guest-mac $GMAC --wire-mac $WMAC --dir both --count 1000 --rate 5000 --drain-ms 500
dp_wait_connected vm1
dp_call '{"command":"pair-set-state","name":"vm1","state":"virtio"}' > "$DP_TMP/r"
ok $? "pair-set-state virtio: $(cat "$DP_TMP/r")"
sleep 0.5
traffic_go t2; traffic_wait t2
ok "$([ "$(traffic_field t2 wire_rarp wire_rarp)" -ge 1 ]; echo $?)" \
    "RARP from $GMAC seen on the wire ($(grep ^wire_rarp "$DP_TMP/t2.out"))"
grep -q "garp_ip=198.18.7.10" "$DP_TMP/t2.out"
ok $? "gratuitous ARP for the guest's IPv4 198.18.7.10 seen on the wire ($(grep ^wire_rarp "$DP_TMP/t2.out"))"
ok "$([ "$(traffic_field t2 g2w recv)" = 1000 ] && [ "$(traffic_field t2 w2g recv)" = 1000 ] &&
      [ "$(traffic_field t2 g2w dup)" = 0 ] && [ "$(traffic_field t2 w2g dup)" = 0 ]; echo $?)" \
    "virtio state: both directions 1000/1000 ($(grep -E '^(g2w|w2g)' "$DP_TMP/t2.out" | tr '\n' ' '))"

# 3. Switch back and forth under load: every frame the datapath received
#    was delivered or accounted to the VF; no duplicates.
dp_wait_connected vm1 no
rx0=$(dp_uplink_counter rx); tg0=$(dp_counter vm1 to_guest); vf0=$(dp_counter vm1 dropped_vf_active)
fg0=$(dp_counter vm1 from_guest)
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
rx=$(( $(dp_uplink_counter rx) - rx0 )); tg=$(( $(dp_counter vm1 to_guest) - tg0 ))
vf=$(( $(dp_counter vm1 dropped_vf_active) - vf0 )); fg=$(( $(dp_counter vm1 from_guest) - fg0 ))
full=$(dp_counter vm1 to_guest_full); nog=$(dp_counter vm1 dropped_no_guest)
grecv=$(traffic_field t3 w2g recv); wrecv=$(traffic_field t3 g2w recv)
diag "switches=$switches uplink_rx=$rx to_guest=$tg vf_dropped=$vf guest_recv=$grecv from_guest=$fg wire_recv=$wrecv full=$full no_guest=$nog"
ok "$([ $switches -ge 10 ] && [ $((tg + vf)) = "$rx" ] && [ "$full" = 0 ] && [ "$nog" = 0 ]; echo $?)" \
    "switching $switches times: every uplink frame delivered or left to the VF ($tg + $vf = $rx)"
ok "$([ "$grecv" = "$tg" ] && [ "$(traffic_field t3 w2g dup)" = 0 ]; echo $?)" \
    "the guest got exactly what the datapath delivered, no duplicates ($grecv)"
ok "$([ "$wrecv" = "$fg" ] && [ "$fg" = "$(traffic_field t3 g2w sent)" ] && [ "$(traffic_field t3 g2w dup)" = 0 ]; echo $?)" \
    "guest->wire during switching: $fg sent by the guest, $wrecv on the wire"
diag "the wire sent $(traffic_field t3 w2g sent), the uplink received $rx (a difference is the kernel's, not the datapath's)"

# 3b. A guest negotiating other features: packed ring, no mergeable
#     buffers, in-order.
dp_wait_connected vm1 no
traffic_start t4 "$VARGS,packed_vq=1,mrg_rxbuf=0,in_order=1" --guest-mac $GMAC --wire-mac $WMAC --dir both --count 1000 --rate 5000 --drain-ms 500
dp_wait_connected vm1 && traffic_go t4 && traffic_wait t4
ok "$([ "$(traffic_field t4 g2w recv)" = 1000 ] && [ "$(traffic_field t4 w2g recv)" = 1000 ]; echo $?)" \
    "packed ring, no mrg_rxbuf, in_order: 1000/1000 both ways ($(grep -E '^(g2w|w2g)' "$DP_TMP/t4.out" | tr '\n' ' '))"

# 4. Telemetry and port-list.
dp_call '{"command":"port-list"}' | json_get "[p['name'] for p in r['ports']]" | grep -q "vm1"
ok $? "port-list shows vm1"
tel=$(echo /vfailover/pairs,vm1 | dpdk-telemetry.py -f "$DP_NS-dp" 2>/dev/null | grep -c '"state"')
ok "$([ "${tel:-0}" -ge 1 ]; echo $?)" "dpdk-telemetry.py reads /vfailover/pairs,vm1"

# 5. No mbuf leaked after all this.
dp_wait_connected vm1 no
mbufs=$(dp_call '{"command":"stats"}' | json_get "r['mbufs_in_use']")
ok "$([ "$mbufs" = "$mbufs0" ]; echo $?)" "mbufs in use back to $mbufs0 (now $mbufs)"
[ $_tap_failed = 0 ] || { diag "dp log:"; sed 's/^/#   /' "$DP_TMP/dp.log" | tail -40; }
exit $_tap_failed
