#!/bin/bash
# The migration baseline WITHOUT vfailover: the test guest (virtio standby +
# e1000e QEMU-failover primary, both on the host bridge) live-migrates
# A -> B -> A between two private libvirt hosts while vf-stream runs in both
# directions with a peer in the physical network. Asserts the migrations
# complete, the guest answers on the destination and the harness measured a
# stream that flowed before and after; prints the loss table. Loss itself is
# not asserted: this is what vfailover is measured against.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/testbed.sh"

reason=$(tb_can_run) || skip_all "$reason"
[ -x "$TB_STREAM" ] && [ -x "$TB_STREAM_STATIC" ] || skip_all "vf-stream not built (run make)"

plan 11
name=vfbase

tb_setup "A B"
ok $? "two testbed hosts ($TB_NS_A, $TB_NS_B) and the physical network $TB_NS_NET"

tb_guest_image >/dev/null && tb_guest_start A "$name" &&
    tb_wait_console "$name" 'vf-guest: slaves master=eth0 standby=eth1 primary=eth[0-9]+' 240 >/dev/null &&
    tb_wait_guest_ready "$name" 120 >/dev/null
ok $? "guest $name booted on host A with net_failover (standby + e1000e primary)"

table=$(tb_loss_table_header)
step() {
    local src=$1 dst=$2 res i rc pinged=1
    tb_stream_migrate "$src" "$dst" "$name" "$src->$dst" >/dev/null
    rc=$?
    res=$TB_STREAM_RESULT
    ok $rc "live migration $src -> $dst completed ($TB_MIG_TOTAL_MS ms; downtime ${TB_MIG_DOWNTIME_MS:-?} ms)"
    [ "$(tb_virsh "$dst" domstate "$name" 2>/dev/null)" = running ] &&
        ! tb_virsh "$src" domstate "$name" >/dev/null 2>&1
    ok $? "$name runs on $dst only"
    for i in $(seq 1 30); do
        tb_exec NET ping -c 1 -W 1 "$TB_GUEST_IP" >/dev/null 2>&1 && { pinged=0; break; }
    done
    ok $pinged "guest answers pings on $dst"
    echo "$res" | sed 's/^/# /'
    [ -n "$(tb_result label "$res")" ] && [ -z "$(echo "$res" | grep report=missing)" ] &&
        [ "$(tb_result fwd_ok_before "$res")" -gt 0 ] && [ "$(tb_result fwd_ok_after "$res")" -gt 0 ] &&
        [ "$(tb_result rev_ok_before "$res")" -gt 0 ] && [ "$(tb_result rev_ok_after "$res")" -gt 0 ] &&
        [ "$(tb_result window_ms "$res")" != 0.0 ]
    ok $? "$src -> $dst: stream measured (flowed before and after, STOP..RESUME window $(tb_result window_ms "$res") ms)"
    table="$table
$(tb_loss_table_row "$res")"
}
step A B
step B A

# The guest's view, for the record.
grep -a 'vf-guest: \(slaves\|link\)' "$(tb_console "$name")" | tail -n 12 | sed 's/^/# console: /'
diag "baseline without vfailover (loss: packets; fwd = peer->guest, rev = guest->peer;"
diag "lost_out = lost outside QEMU's STOP..RESUME window; in_guest = rev packets the guest's own kernel dropped):"
echo "$table" | sed 's/^/# /'

dir=$TB_DIR
ns="$TB_NS_A $TB_NS_B $TB_NS_NET"
tb_teardown
left=""
for n in $ns; do [ -e "/run/netns/$n" ] && left="$left netns:$n"; done
[ -d "$dir" ] && [ "${TB_KEEP:-0}" != 1 ] && left="$left dir:$dir"
pgrep -f "$dir" >/dev/null && left="$left processes"
[ -z "$left" ]
ok $? "teardown left nothing behind$left"
