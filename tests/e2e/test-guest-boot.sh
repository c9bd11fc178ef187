#!/bin/bash
# The test guest on one testbed host: a private libvirtd in its own
# namespaces boots the TCG guest (virtio standby + VF stand-in (TB_VF_MODEL) QEMU-failover
# primary on the host bridge); the guest forms net_failover (master,
# standby and primary with one MAC), answers pings and runs the vf-stream
# reflector for a peer in the physical-network namespace; teardown leaves
# nothing behind.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/testbed.sh"

reason=$(tb_can_run) || skip_all "$reason"
[ -x "$TB_STREAM" ] && [ -x "$TB_STREAM_STATIC" ] || skip_all "vf-stream not built (run make)"

plan 9
name=vfboot
TB_GUEST_MAC=52:54:00:be:ef:01
export TB_GUEST_MAC

tb_setup A
ok $? "one testbed host with a private libvirtd in namespace $TB_NS_A"

tb_guest_image >/dev/null && tb_guest_start A "$name"
ok $? "guest $name created from kernel $GUEST_KERNEL"

tb_wait_console "$name" 'vf-guest: ready master=' 240 >/dev/null
ok $? "guest booted and addressed its failover master"

log=$(tb_console "$name")
grep -aq 'failover master:eth0 registered' "$log" &&
    grep -aq 'failover standby slave:eth1 registered' "$log"
ok $? "net_failover: eth0 master, eth1 standby"

line=$(tb_wait_console "$name" "vf-guest: slaves master=eth0 standby=eth1 primary=eth[0-9]+ mac=$TB_GUEST_MAC" 120)
ok $? "$TB_VF_MODEL primary enslaved with the same MAC ($line)"

primary=$(tb_wait_guest_ready "$name" 120)
ok $? "failover master and primary ($primary) links up"

pinged=1
for i in $(seq 1 30); do
    if tb_exec NET ping -c 1 -W 1 "$TB_GUEST_IP" >/dev/null 2>&1; then pinged=0; break; fi
done
ok $pinged "guest $TB_GUEST_IP answers pings from the physical-network namespace"

out=$(tb_exec NET "$TB_STREAM" peer --to "$TB_GUEST_IP:$TB_STREAM_PORT" --rate 100 --duration 3 --label boot 2>&1)
echo "$out" | sed 's/^/# /'
echo "$out" | grep -q 'vf-stream: label=boot .*fwd_ok_before=[1-9].*rev_ok_before=[1-9]'
ok $? "vf-stream flows in both directions"

ns="$TB_NS_A $TB_NS_NET"
dir=$TB_DIR
tb_teardown
left=""
for n in $ns; do [ -e "/run/netns/$n" ] && left="$left netns:$n"; done
[ -d "$dir" ] && [ "${TB_KEEP:-0}" != 1 ] && left="$left dir:$dir"
pgrep -f "$dir" >/dev/null && left="$left processes"
[ -z "$left" ]
ok $? "teardown left nothing behind$left"
