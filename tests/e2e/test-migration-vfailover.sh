#!/bin/bash
# Native-mode live migration WITH vfailover, against the same harness
# without it, in one run: two testbed hosts each running vfailover-hookd
# (emulated VF backend, PF vfopf0 = the host's bridge, uplink = its link to
# the physical network) and vfailover-dp (its uplink a veth port of that
# PF), the libvirt hook installed. First the baseline guest (QEMU failover
# on plain bridge ports, no vfailover) migrates A -> B -> A; then the
# annotated guest (vhost-user standby served by vfailover-dp, the e1000e VF
# stand-in on the VF tap hookd reserved) does the same, vf-stream running
# both ways with a peer in the physical network. Asserts: the guest boots
# and answers through the VF; each migration completes, the guest answers
# on the destination, the destination's hookd holds a VF for it and the
# source's none (no leaked VF); the stream was measured. Prints both loss
# tables and the guest-side timing of the VF's return (primary enslaved,
# its link up) against QEMU's STOP. Loss itself is not asserted yet.
# Finally the virtio path alone: VF unplugged, the datapath's pair set to
# virtio, the guest answers.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/testbed.sh"

reason=$(tb_can_run) || skip_all "$reason"
[ -x "$TB_STREAM" ] && [ -x "$TB_STREAM_STATIC" ] || skip_all "vf-stream not built (run make)"
reason=$(tb_vfo_can_run) || skip_all "$reason"

plan 33
TB_VFAILOVER=1
TB_GUEST_MAC=$(tb_random_mac)    # both guests: the peer's ARP entry stays right
mac_hex=$(echo "$TB_GUEST_MAC" | tr -d :)
vf_alias=ua-vfo-$mac_hex

# Guest console lines with host timestamps (epoch seconds), for the timing.
ts_pids=""
console_ts() {
    local name=$1
    : > "$(tb_console "$name")"
    mkfifo "$TB_DIR/$name.fifo" || return 1
    while IFS= read -r line; do printf '%s %s\n' "$(date +%s.%N)" "${line%$'\r'}"; done \
        < "$TB_DIR/$name.fifo" > "$TB_DIR/$name.console.ts" &
    ts_pids="$ts_pids $!"
    tail -F -n +1 "$(tb_console "$name")" > "$TB_DIR/$name.fifo" 2>/dev/null &
    ts_pids="$ts_pids $!"
}
tb_pre_teardown() {
    [ -n "$ts_pids" ] && kill $ts_pids 2>/dev/null
    ts_pids=""
    return 0
}

# after_stop NAME ERE: seconds from the last STOP to the first console line
# after it matching ERE ("-" if none).
after_stop() {
    local stop=${TB_MIG_WINDOW%% *}
    [ -n "$stop" ] || { echo -; return; }
    awk -v s="$stop" -v re="$2" '$1 > s && $0 ~ re { printf "%.2f", $1 - s; f = 1; exit }
        END { if (!f) print "-" }' "$TB_DIR/$1.console.ts"
}

tb_setup "A B"
ok $? "two hosts with vfailover-hookd + vfailover-dp ($TB_NS_A, $TB_NS_B), physical network $TB_NS_NET"

# ---- the same harness without vfailover ----
base=vfbase
timing=""
tb_guest_image >/dev/null && console_ts "$base" && tb_guest_xml "$base" > "$TB_DIR/$base.xml" &&
    tb_virsh A create "$TB_DIR/$base.xml" >/dev/null &&
    tb_wait_guest_ready "$base" 240 >/dev/null
ok $? "baseline guest $base (no annotations, e1000e primary on the PF bridge) booted on A"

timelines=""
btable=$(tb_loss_table_header)
vtable=$(tb_loss_table_header)
migrate() {
    local kind=$1 name=$2 src=$3 dst=$4 res rc i pinged=1
    tb_stream_migrate "$src" "$dst" "$name" "$kind:$src->$dst" >/dev/null
    rc=$?
    res=$TB_STREAM_RESULT
    ok $rc "$kind: live migration $src -> $dst completed ($TB_MIG_TOTAL_MS ms; downtime ${TB_MIG_DOWNTIME_MS:-?} ms)"
    for i in $(seq 1 30); do
        tb_exec NET ping -c 1 -W 1 "$TB_GUEST_IP" >/dev/null 2>&1 && { pinged=0; break; }
    done
    [ "$(tb_virsh "$dst" domstate "$name" 2>/dev/null)" = running ] &&
        ! tb_virsh "$src" domstate "$name" >/dev/null 2>&1 && [ $pinged = 0 ]
    ok $? "$kind: $name runs on $dst only and answers pings there"
    echo "$res" | sed 's/^/# /'
    [ -n "$(tb_result label "$res")" ] && ! echo "$res" | grep -q report=missing &&
        [ "$(tb_result fwd_ok_before "$res")" -gt 0 ] && [ "$(tb_result fwd_ok_after "$res")" -gt 0 ] &&
        [ "$(tb_result rev_ok_before "$res")" -gt 0 ] && [ "$(tb_result rev_ok_after "$res")" -gt 0 ] &&
        [ "$(tb_result window_ms "$res")" != 0.0 ]
    ok $? "$kind: $src -> $dst: stream measured (window $(tb_result window_ms "$res") ms)"
    local stop=${TB_MIG_WINDOW%% *} unplug started begin=- ann=- virtio=-
    unplug=$(_tb_event_time "$TB_DIR/$name.mig.$_tb_mig_count.src-events" UNPLUG_PRIMARY "$name")
    unplug=$(awk -v u="$unplug" -v s="$stop" 'BEGIN { if (u == "" || s == "") print "-"; else printf "%+.2f", u - s }')
    started=-
    if [ "$kind" != baseline ]; then
        started=$(tb_vfoctl "$dst" --json --timeline pairs 2>/dev/null |
            jq -r '[.domains[].timeline[] | select(.what == "started begin") | .at_us] | last // empty')
        started=$(awk -v u="$started" -v s="$stop" 'BEGIN { if (u == "" || s == "") print "-"; else printf "%+.2f", u / 1e6 - s }')
        begin=$(tb_vfoctl "$dst" --json --timeline pairs 2>/dev/null |
            jq -r '[.domains[].timeline[] | select(.what | startswith("migrate begin")) | .at_us] | last // empty')
        begin=$(awk -v u="$begin" -v s="$stop" 'BEGIN { if (u == "" || s == "") print "-"; else printf "%+.2f", u / 1e6 - s }')
        ann=$(tb_dp_call "$dst" '{"command":"stats","name":"'"$name"':ua-backup0"}' | jq -r '.pair.counters.announces')
        # The source released its record; hookd keeps it for `pairs NAME`.
        tb_vfoctl "$src" --json pairs "$name" > "$TB_DIR/$name.mig.$_tb_mig_count.src-pairs" 2>&1
        tb_vfoctl "$dst" --json pairs "$name" > "$TB_DIR/$name.mig.$_tb_mig_count.dst-pairs" 2>&1
        virtio=$(jq -r '[.domains[] | select(.released) | .timeline[] | select(.to == "VIRTIO_ACTIVE") | .at_us] | first // empty' \
            "$TB_DIR/$name.mig.$_tb_mig_count.src-pairs" 2>/dev/null)
        virtio=$(awk -v u="$virtio" -v s="$stop" 'BEGIN { if (u == "" || s == "") print "-"; else printf "%+.2f", u / 1e6 - s }')
        timelines="$timelines
$kind:$src->$dst: source $src (released record):
$(tb_vfoctl "$src" --timeline pairs "$name" 2>&1 | sed -n '/released here/,$p')"
    fi
    timing="$timing
$kind:$src->$dst  dest 'migrate begin' ${begin}s (dest dp announces so far: $ann)  source UNPLUG_PRIMARY ${unplug}s  source VIRTIO_ACTIVE ${virtio:--}s  dest hookd started ${started}s  RESUME +$(tb_result window_ms "$res")ms  primary enslaved +$(after_stop "$name" 'vf-guest: slaves .* primary=eth')s  primary link up +$(after_stop "$name" 'vf-guest: link eth[2-9] up')s"
    if [ "$kind" != baseline ]; then
        vtable="$vtable
$(tb_loss_table_row "$res")"
    else
        btable="$btable
$(tb_loss_table_row "$res")"
    fi
}
migrate baseline "$base" A B
migrate baseline "$base" B A
tb_virsh A destroy "$base" >/dev/null
ok $? "baseline guest destroyed"

# ---- with vfailover ----
name=vfguest
uuid_of() { tb_virsh "$1" domuuid "$name" 2>/dev/null; }
# vfs_of HOST: the VFs the host's hookd holds for the guest (reserved ones).
vfs_of() {
    tb_vfoctl "$1" --json vfs | jq -r --arg u "$uuid" '[.vfs[] | select(.domain == $u)] | length'
}
vfs_used() { tb_vfoctl "$1" --json vfs | jq -r '[.vfs[] | select(.state != "free")] | length'; }

console_ts "$name"
tb_vfo_guest_start A "$name" && primary=$(tb_wait_guest_ready "$name" 240)
ok $? "annotated guest $name booted on A (vhost-user standby via vfailover-dp, e1000e VF stand-in $primary on ${TB_PF}v0)"
uuid=$(uuid_of A)
[ "$(vfs_of A)" = 1 ] && tb_vfoctl A --json vfs |
    jq -e --arg u "$uuid" --arg m "$TB_GUEST_MAC" '.vfs[] | select(.domain == $u) | .config.mac == $m' >/dev/null
ok $? "hookd on A reserved one VF for it, configured with the guest's MAC"
tb_dp_call A '{"command":"stats","name":"'"$name"':ua-backup0"}' | jq -e '.pair.connected' >/dev/null
ok $? "vfailover-dp on A serves the guest's vhost-user port (connected)"
pinged=1
for i in $(seq 1 20); do
    tb_exec NET ping -c 1 -W 1 "$TB_GUEST_IP" >/dev/null 2>&1 && { pinged=0; break; }
done
ok $pinged "the peer in the physical network reaches the guest through the VF"

after_migration() {
    local src=$1 dst=$2
    [ "$(vfs_of "$dst")" = 1 ]
    ok $? "vfailover: hookd on $dst reserved a VF for $name"
    [ "$(vfs_of "$src")" = 0 ] && [ "$(vfs_used "$src")" = 0 ]
    ok $? "vfailover: hookd on $src released its VF (in use there: $(vfs_used "$src"))"
    tb_exec "$dst" bridge fdb show br "$TB_PF" 2>/dev/null | grep -i "^$TB_GUEST_MAC " | sed "s/^/# $dst fdb: /"
}
migrate vfailover "$name" A B
after_migration A B
migrate vfailover "$name" B A
after_migration B A

# The virtio path alone: unplug the VF, the datapath's pair to virtio.
tb_virsh A detach-device-alias "$name" "$vf_alias" --live >/dev/null
gone=1
for i in $(seq 1 300); do
    tb_virsh A dumpxml "$name" | grep -q "alias name='$vf_alias'" || { gone=0; break; }
    sleep 0.2
done
ok $gone "VF $vf_alias unplugged from $name"
tb_dp_call A '{"command":"pair-set-state","name":"'"$name"':ua-backup0","state":"virtio"}' >/dev/null
ok $? "vfailover-dp: pair $name:ua-backup0 set to virtio"
pinged=1
for i in $(seq 1 20); do
    tb_exec NET ping -c 1 -W 1 "$TB_GUEST_IP" >/dev/null 2>&1 && { pinged=0; break; }
done
if [ $pinged != 0 ]; then
    diag "A fdb for the guest's MAC (steering left on the unplugged VF's tap?):"
    tb_exec A bridge fdb show br "$TB_PF" | grep -i "$TB_GUEST_MAC" | sed 's/^/#   /'
fi
# hookd clears the VF's steering (its FDB entry on the tap) on
# DEVICE_REMOVED: what is not steered floods to the datapath's port.
ok $pinged "the guest answers through virtio (vfailover-dp) with the VF unplugged"

# Managed mode: hookd detaches the VF, migrates, re-plugs one on B.
tb_virsh A destroy "$name" >/dev/null
mname=vfmanaged
console_ts "$mname"
TB_WAIT_PRIMARY=1 tb_vfo_managed_guest_start A "$mname" &&
    TB_WAIT_PRIMARY=1 tb_wait_guest_ready "$mname" 240 >/dev/null
ok $? "managed-mode guest $mname booted on A and hookd hot-plugged its VF"
name=$mname
TB_WAIT_PRIMARY=1 TB_MIGRATE_CMD=tb_vfo_migrate_managed migrate managed "$mname" A B
uuid=$(uuid_of B)
after_migration A B

diag "the sources' hookd timelines after each migration (records kept after release):"
echo "$timelines" | sed '/^$/d; s/^/#   /'
diag "hookd timelines:"
for h in A B; do
    tb_vfoctl "$h" --timeline pairs 2>&1 | sed "s/^/#   $h: /"
done
diag "timing relative to QEMU's STOP (QEMU events, hookd timeline, guest console; host clock):"
echo "$timing" | sed '/^$/d; s/^/#   /'
diag "loss (packets; fwd = peer->guest, rev = guest->peer; lost_out = outside QEMU's STOP..RESUME):"
diag "baseline (no vfailover):"
echo "$btable" | sed 's/^/#   /'
diag "vfailover (native mode, then managed mode):"
echo "$vtable" | sed 's/^/#   /'

dir=$TB_DIR
ns="$TB_NS_A $TB_NS_B $TB_NS_NET"
suffix=$TB_SUFFIX
tb_teardown
left=""
for n in $ns; do [ -e "/run/netns/$n" ] && left="$left netns:$n"; done
[ -d "$dir" ] && [ "${TB_KEEP:-0}" != 1 ] && left="$left dir:$dir"
ls -d /run/dpdk/vftb-"$suffix"-* >/dev/null 2>&1 && left="$left dpdk-runtime"
pgrep -f "$dir" >/dev/null && left="$left processes"
[ -z "$left" ]
ok $? "teardown left nothing behind$left"
