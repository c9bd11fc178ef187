#!/bin/bash
# The DPDK-guest datapath switches TX from the VF to virtio when the VF
# goes (surprise removal, and make-before-break on prepare-unplug) and
# back when it returns, counting frames lost across each switch. Real DPDK:
# vfailover-guest-fwd (net_failsafe over virtio-user + a "VF" stand-in)
# against vfg-peer (net_vhost + af_packet), in namespaces made here.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/guest/guest-lib.sh"

reason=$(vg_cannot_run)
[ -n "$reason" ] && skip_all "$reason"
trap vg_cleanup EXIT
plan 14
RATE=20000

# ---- surprise removal ----------------------------------------------------
vg_setup; ok $? "namespaces and veths set up"
vg_start_peer $RATE 6; ok $? "peer started"
vg_start_guest; ok $? "guest started"
vg_wait_status "tx=vf vf=net_tap0 vf_state=active"
ok $? "the port runs over the VF (net_tap) and virtio-user, TX on the VF"
sleep 1.5
vg_remove_vf
vg_wait_status "tx=virtio .*vf_state=absent .*removals=1"
ok $? "VF netdev vanished: TX moved to virtio"
vg_wait_peer; ok $? "peer finished"
diag "$(grep -E '^(switch|sent|received|lost|rx_)' "$VG_DIR/peer.out" | tr '\n' ' ')"
[ "$(vg_peer_value rx_vf)" -gt 0 ] && [ "$(vg_peer_value rx_virtio)" -gt 0 ]
ok $? "replies came on the VF, then on virtio"
grep -q "^switch n=.* from=vf to=virtio" "$VG_DIR/peer.out" &&
    [ "$(vg_peer_value last_path)" = virtio ]
ok $? "the peer saw the switch from VF to virtio"
sent=$(vg_peer_value sent); lost=$(vg_peer_value lost)
[ "$lost" -lt $((sent / 10)) ]
ok $? "surprise removal lost $lost of $sent frames (bounded by the watcher period)"
vg_stop_guest; ok $? "guest exits cleanly after the removal"
vg_cleanup

# ---- make-before-break ---------------------------------------------------
VG_ID=$((VG_ID + 1)); VG_ID=${VG_ID:0:8}
VG_G=vgG$VG_ID VG_P=vgP$VG_ID VG_VFA=vfa$VG_ID VG_VFB=vfb$VG_ID VG_VFT=vft$VG_ID
vg_setup && vg_start_peer $RATE 5 && vg_start_guest &&
    vg_wait_status "tx=vf .*vf_state=active"
ok $? "second run: guest on the VF"
sleep 1.5
vg_ctl prepare-unplug >/dev/null && vg_wait_status "tx=virtio .*vf_state=released"
ok $? "prepare-unplug: TX on virtio, VF released before it goes"
sleep 0.5
vg_remove_vf
vg_wait_status "vf_state=absent"
ok $? "the released VF's removal is noticed"
vg_wait_peer
diag "$(grep -E '^(switch|sent|received|lost|rx_)' "$VG_DIR/peer.out" | tr '\n' ' ')"
[ "$(vg_peer_value lost)" = 0 ] && [ "$(vg_peer_value rx_virtio)" -gt 0 ]
ok $? "make-before-break lost no frame ($(vg_peer_value lost) lost)"
vg_stop_guest
exit $((_tap_failed > 0))
