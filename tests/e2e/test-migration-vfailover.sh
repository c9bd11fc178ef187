#!/bin/bash
# Live migration WITH vfailover, both modes, against the same harness
# without it, in one run: two testbed hosts each running vfailover-hookd
# (emulated VF backend, PF vfopf0 = the host's bridge, uplink = its link to
# the physical network) and vfailover-dp (its uplink a veth port of that
# PF), the libvirt hook installed. Three guests boot on A together (each
# its own MAC and address): the baseline guest (QEMU failover on plain
# bridge ports, no vfailover), the annotated native-mode guest (vhost-user
# standby served by vfailover-dp, the VF stand-in (TB_VF_MODEL, default
# vmxnet3) on the VF tap of its definition) and the managed-mode guest
# (hookd hot-plugs its VF).
# Each migrates A -> B once with vf-stream running both ways with a peer in
# the physical network. Asserts: the guests boot and the annotated ones
# answer through the VF; each migration completes, the guest answers on
# the destination, the destination's hookd holds a VF for it and the
# source's none (no leaked VF); the source's datapath held the guest's
# frames while its VF left (none dropped for the hold); the destination
# joined the re-plugged VF with a copy of the frames to its datapath until
# the guest sent through the VF, and took the MAC (announced, held) as soon
# as the source had stopped the VM; the stream was measured; the virtio path
# alone (VF unplugged on B) answers. Prints the loss tables, the sources'
# hookd timelines (kept after release) and, per migration, the times of
# the switch steps against QEMU's STOP. Asserts the issue's goal for each
# vfailover migration: nothing lost outside QEMU's STOP..RESUME window but
# what the guest's own kernel dropped (its trace says which), except the
# native-mode race with libvirt's event delivery (shown as KNOWN ISSUE when
# hookd heard UNPLUG_PRIMARY over 10 ms late). How much is lost is not
# asserted (tests/bench/migration-loss measures).
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/testbed.sh"

reason=$(tb_can_run) || skip_all "$reason"
[ -x "$TB_STREAM" ] && [ -x "$TB_STREAM_STATIC" ] || skip_all "vf-stream not built (run make)"
reason=$(tb_vfo_can_run) || skip_all "$reason"

plan 35
TB_VFAILOVER=1
TB_STREAM_TAIL=${TB_STREAM_TAIL:-2}

# Each guest its own MAC and address (they run side by side).
declare -A G_MAC G_IP
G_MAC[vfbase]=$(tb_random_mac); G_IP[vfbase]=198.18.0.10
G_MAC[vfguest]=$(tb_random_mac); G_IP[vfguest]=198.18.0.11
G_MAC[vfmanaged]=$(tb_random_mac); G_IP[vfmanaged]=198.18.0.12
while [ "${G_MAC[vfguest]}" = "${G_MAC[vfbase]}" ] || [ "${G_MAC[vfmanaged]}" = "${G_MAC[vfbase]}" ] ||
      [ "${G_MAC[vfmanaged]}" = "${G_MAC[vfguest]}" ]; do
    G_MAC[vfmanaged]=$(tb_random_mac); G_MAC[vfguest]=$(tb_random_mac)
done
use_guest() { TB_GUEST_MAC=${G_MAC[$1]}; TB_GUEST_IP=${G_IP[$1]}; }

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
# rel_us US: microseconds since the epoch relative to the last STOP.
rel_us() {
    awk -v u="$1" -v s="${TB_MIG_WINDOW%% *}" 'BEGIN { if (u == "" || s == "") print "-"; else printf "%+.2f", u / 1e6 - s }'
}
ping_guest() {
    local i
    for i in $(seq 1 "${1:-20}"); do
        tb_exec NET ping -c 1 -W 1 "$TB_GUEST_IP" >/dev/null 2>&1 && return 0
    done
    return 1
}

tb_setup "A B"
ok $? "two hosts with vfailover-hookd + vfailover-dp ($TB_NS_A, $TB_NS_B), physical network $TB_NS_NET"

# ---- the three guests boot on A together ----
tb_guest_image >/dev/null
use_guest vfbase
console_ts vfbase && tb_guest_xml vfbase > "$TB_DIR/vfbase.xml" &&
    tb_virsh A create "$TB_DIR/vfbase.xml" >/dev/null
base_started=$?
use_guest vfguest
console_ts vfguest && tb_vfo_guest_start A vfguest
native_started=$?
use_guest vfmanaged
console_ts vfmanaged && tb_vfo_managed_guest_start A vfmanaged
managed_started=$?
[ $base_started = 0 ] && tb_wait_guest_ready vfbase 300 >/dev/null
ok $? "baseline guest vfbase (no annotations, $TB_VF_MODEL primary on the PF bridge) booted on A"

timelines=""
timing=""
btable=$(tb_loss_table_header)
vtable=$(tb_loss_table_header)
migrate() {
    local kind=$1 name=$2 src=$3 dst=$4 res rc
    use_guest "$name"
    # Where the destination's PF sends the VM's MAC before the migration.
    tb_exec "$dst" bridge fdb show br "$TB_HOST_BRIDGE" 2>/dev/null | grep -i "^$TB_GUEST_MAC " |
        sed "s/^/# $dst fdb before: /"
    tb_stream_migrate "$src" "$dst" "$name" "$kind:$src->$dst" >/dev/null
    rc=$?
    res=$TB_STREAM_RESULT
    ok $rc "$kind: live migration $src -> $dst completed ($TB_MIG_TOTAL_MS ms; downtime ${TB_MIG_DOWNTIME_MS:-?} ms)"
    [ "$(tb_virsh "$dst" domstate "$name" 2>/dev/null)" = running ] &&
        ! tb_virsh "$src" domstate "$name" >/dev/null 2>&1 && ping_guest 30
    ok $? "$kind: $name runs on $dst only and answers pings there"
    echo "$res" | sed 's/^/# /'
    [ -n "$(tb_result label "$res")" ] && ! echo "$res" | grep -q report=missing &&
        [ "$(tb_result fwd_ok_before "$res")" -gt 0 ] && [ "$(tb_result fwd_ok_after "$res")" -gt 0 ] &&
        [ "$(tb_result rev_ok_before "$res")" -gt 0 ] && [ "$(tb_result rev_ok_after "$res")" -gt 0 ] &&
        [ "$(tb_result window_ms "$res")" != 0.0 ]
    ok $? "$kind: $src -> $dst: stream measured (window $(tb_result window_ms "$res") ms)"
    if [ "$kind" != baseline ]; then
        # The goal: nothing lost outside QEMU's STOP..RESUME window, also
        # not in the guest. With the e1000e stand-in (TB_VF_MODEL=e1000e)
        # what its driver frees while it is being removed is not counted
        # (doc/testbed.md, "Known loss" and "The stand-in's model"). One
        # race is not vfailover's to close: in native mode QEMU asks the
        # guest to unplug the VF and hookd can act only when libvirt hands
        # it the event; when that took over 10 ms the guest may already
        # have been removing the VF (it can begin 15-20 ms after QEMU's
        # request, and hookd's steering takes a few ms).
        local h late what
        if [ "$TB_VF_MODEL" = e1000e ]; then
            h=$(tb_lost_outside_not_in_guest "$res")
        else
            h=$(tb_result lost_outside "$res")
        fi
        late=$(tb_unplug_heard_ms "$name")
        what="$h lost outside QEMU's window (fwd $(tb_result fwd_lost_outside "$res"), rev $(tb_result rev_lost_outside "$res"), dropped in the guest $(tb_result rev_dropped_in_guest "$res"))"
        if [ "$h" != 0 ] && [ "$kind" = native ] && [ "${late:-0}" -gt 10 ]; then
            diag "KNOWN ISSUE: native: $src -> $dst: $what; hookd heard UNPLUG_PRIMARY $late ms after QEMU sent it (doc/testbed.md, \"Known loss\")"
            h=0
        fi
        # (no result at all must not pass as "nothing lost")
        [ -n "$(tb_result lost_outside "$res")" ] && [ "$h" = 0 ]
        local goal=$?
        ok $goal "$kind: $src -> $dst: nothing lost outside QEMU's window ($what; UNPLUG_PRIMARY heard after ${late:--} ms)"
        if [ $goal != 0 ]; then
            # To line up with the gaps above (the guest's clock is tens of
            # ms off the host's): the guest's own trace of its NICs.
            diag "$name's console, its last 80 network lines (vf-guest):"
            grep -a "vf-guest: " "$(tb_console "$name")" | tail -n 80 | tr -d '\r' | sed 's/^/#   /'
            # hookd notes slow steering on its timeline (printed below);
            # the datapath logs its own slow requests.
            local host
            for host in A B; do
                diag "host $host: vfailover-dp requests that took 20 ms or more:"
                grep -a " took " "$(tb_host_dir "$host")/dp.log" 2>/dev/null | tail -n 20 | sed 's/^/#   /'
            done
        fi
    fi
    local n=$_tb_mig_count unplug begin=- ann=- virtio=- started=- watch=- join=- letgo=- catch=-
    unplug=$(_tb_event_time "$TB_DIR/$name.mig.$n.src-events" UNPLUG_PRIMARY "$name")
    unplug=$(awk -v u="$unplug" -v s="${TB_MIG_WINDOW%% *}" 'BEGIN { if (u == "" || s == "") print "-"; else printf "%+.2f", u - s }')
    if [ "$kind" != baseline ]; then
        # The source released its record; hookd keeps it for `pairs NAME`.
        tb_vfoctl "$src" --json pairs "$name" > "$TB_DIR/$name.mig.$n.src-pairs" 2>&1
        tb_vfoctl "$dst" --json pairs "$name" > "$TB_DIR/$name.mig.$n.dst-pairs" 2>&1
        src_tl() { jq -r "[.domains[] | select(.released) | .timeline[] | $1 | .at_us] | last // empty" \
                       "$TB_DIR/$name.mig.$n.src-pairs" 2>/dev/null; }
        dst_tl() { jq -r "[.domains[] | select(.released | not) | .timeline[] | $1 | .at_us] | last // empty" \
                       "$TB_DIR/$name.mig.$n.dst-pairs" 2>/dev/null; }
        virtio=$(rel_us "$(src_tl 'select(.to == "VIRTIO_ACTIVE")')")
        watch=$(rel_us "$(src_tl 'select(.what | test("transmits on virtio"))')")
        started=$(rel_us "$(dst_tl 'select(.what == "started begin")')")
        begin=$(rel_us "$(dst_tl 'select(.what | startswith("migrate begin"))')")
        ann=$(tb_dp_call "$dst" '{"command":"stats","name":"'"$name"':ua-backup0"}' | jq -r '.pair.counters.announces')
        # The source held the guest's frames while its VF was leaving
        # (SWITCHING: datapath "hold", steering cleared) and delivered them
        # once the unplug completed; none were dropped for it.
        local held dropped relayed_out src_no_guest
        held=$(jq -r '[.domains[] | select(.released) | .timeline[] | select(.what | test("the datapath delivers what it held"))] | length' \
                   "$TB_DIR/$name.mig.$n.src-pairs" 2>/dev/null)
        # The source's datapath counters, kept on its timeline at release.
        read -r dropped relayed_out src_no_guest < <(jq -r '[.domains[] | select(.released) | .timeline[] | .what | select(startswith("ua-backup0: datapath counters at release ")) | ltrimstr("ua-backup0: datapath counters at release ") | fromjson | "\(.dropped_hold) \(.relayed_out) \(.dropped_no_guest)"] | last // empty' \
                      "$TB_DIR/$name.mig.$n.src-pairs" 2>/dev/null)
        [ "${held:-0}" -ge 1 ] && [ "$dropped" = 0 ]
        ok $? "$kind: the source held the guest's frames while its VF left and delivered them after the unplug (dropped for the hold: ${dropped:-?})"
        # The destination joined the VF with the mirror: the datapath kept
        # delivering the guest's frames on virtio until the guest sent
        # through the VF (not the 60 s bound).
        local i letgo=""
        for i in $(seq 1 60); do
            tb_vfoctl "$dst" --json pairs "$name" > "$TB_DIR/$name.mig.$n.dst-pairs" 2>&1
            letgo=$(dst_tl 'select(.what | test("transmits on the VF .*the datapath lets go"))')
            [ -n "$letgo" ] && break
            sleep 0.5
        done
        join=$(rel_us "$(dst_tl 'select(.what | test("frames for the VF also go to the datapath"))')")
        letgo=$(rel_us "$letgo")
        local dpstate dst_held dst_dropped relayed_in dst_stats
        dst_stats=$(tb_dp_call "$dst" '{"command":"stats","name":"'"$name"':ua-backup0"}')
        read -r dpstate dst_held dst_dropped relayed_in < <(echo "$dst_stats" |
            jq -r '"\(.pair.state) \(.pair.counters.held) \(.pair.counters.dropped_hold) \(.pair.counters.relayed_in)"')
        # What reached the source after the VM stopped there (100 pps and a
        # downtime of 100 ms or more: some always does) went on to the
        # destination's datapath, which took all of it.
        [ "${relayed_out:-0}" -ge 1 ] && [ "$relayed_in" = "$relayed_out" ]
        ok $? "$kind: the source relayed what reached it after the VM stopped ($relayed_out frames, dropped for no guest: ${src_no_guest:-?}); $dst took ${relayed_in:-?}"
        [ "$join" != - ] && [ "$letgo" != - ] && [ "$dpstate" = vf ] &&
            ! tb_exec "$dst" nft list table netdev "vfailover-$TB_HOST_BRIDGE" 2>/dev/null | grep -q "dup to"
        ok $? "$kind: $dst joined the VF with a copy to the datapath until the guest sent through it (from ${join}s to ${letgo}s; then datapath state ${dpstate:-?}, no copy left)"
        # The destination took the MAC as soon as it heard that the source
        # had stopped the VM (the incoming migration completed) and held its
        # frames until the VM ran there; it dropped none of them. (Whether
        # hookd heard it before RESUME depends on the load: printed, not
        # asserted.)
        catch=$(rel_us "$(dst_tl 'select(.what | test("the source stopped the VM"))')")
        [ "$catch" != - ] && [ "$dst_dropped" = 0 ]
        ok $? "$kind: $dst announced and held the MAC from the source's stop (${catch}s, RESUME +$(tb_result window_ms "$res")ms; held ${dst_held:-?}, dropped ${dst_dropped:-?})"
        timelines="$timelines
$kind:$src->$dst: source $src (released record):
$(tb_vfoctl "$src" --timeline pairs "$name" 2>&1 | sed -n '/released here/,$p')
$kind:$src->$dst: destination $dst (live record; its datapath's counters of the pair: $(echo "$dst_stats" | jq -c '.pair.counters' 2>/dev/null)):
$(tb_vfoctl "$dst" --timeline pairs "$name" 2>&1)"
    fi
    timing="$timing
$kind:$src->$dst  dest 'migrate begin' ${begin}s  source UNPLUG_PRIMARY ${unplug}s  source guest on virtio ${watch}s  source VIRTIO_ACTIVE ${virtio}s  dest hookd started ${started}s  dest catches ${catch}s  RESUME +$(tb_result window_ms "$res")ms  dest dp announces $ann  dest VF joined ${join}s..${letgo}s  primary enslaved +$(after_stop "$name" 'vf-guest: slaves .* primary=eth')s  primary link up +$(after_stop "$name" 'vf-guest: link eth[2-9] up')s"
    if [ "$kind" != baseline ]; then
        vtable="$vtable
$(tb_loss_table_row "$res")"
    else
        btable="$btable
$(tb_loss_table_row "$res")"
    fi
}
migrate baseline vfbase A B
tb_virsh B destroy vfbase >/dev/null
ok $? "baseline guest destroyed"

# ---- native mode ----
name=vfguest
use_guest "$name"
uuid_of() { tb_virsh "$1" domuuid "$name" 2>/dev/null; }
# vfs_of HOST: the VFs the host's hookd holds for the guest (reserved ones).
vfs_of() {
    tb_vfoctl "$1" --json vfs | jq -r --arg u "$uuid" '[.vfs[] | select(.domain == $u)] | length'
}
vfs_used() { tb_vfoctl "$1" --json vfs | jq -r '[.vfs[] | select(.state != "free")] | length'; }

[ $native_started = 0 ] && primary=$(tb_wait_guest_ready "$name" 240)
ok $? "annotated guest $name booted on A (vhost-user standby via vfailover-dp, $TB_VF_MODEL VF stand-in $primary on ${TB_PF}v0)"
uuid=$(uuid_of A)
[ "$(vfs_of A)" = 1 ] && tb_vfoctl A --json vfs |
    jq -e --arg u "$uuid" --arg m "$TB_GUEST_MAC" '.vfs[] | select(.domain == $u) | .config.mac == $m' >/dev/null
ok $? "hookd on A reserved one VF for it, configured with the guest's MAC"
tb_dp_call A '{"command":"stats","name":"'"$name"':ua-backup0"}' | jq -e '.pair.connected' >/dev/null
ok $? "vfailover-dp on A serves the guest's vhost-user port (connected)"
ping_guest 20
ok $? "the peer in the physical network reaches the guest through the VF"

after_migration() {
    local src=$1 dst=$2 used_before=$3
    [ "$(vfs_of "$dst")" = 1 ]
    ok $? "$name: hookd on $dst reserved a VF for it"
    [ "$(vfs_of "$src")" = 0 ] && [ "$(vfs_used "$src")" = $((used_before - 1)) ]
    ok $? "$name: hookd on $src released its VF (in use there: $(vfs_used "$src"), before: $used_before)"
    tb_exec "$dst" bridge fdb show br "$TB_PF" 2>/dev/null | grep -i "^$TB_GUEST_MAC " | sed "s/^/# $dst fdb: /"
}
used=$(vfs_used A)
migrate native "$name" A B
after_migration A B "$used"

# The virtio path alone: unplug the VF on B (DEVICE_REMOVED: hookd clears
# its steering, the datapath claims), the guest answers through virtio.
use_guest "$name"
vf_alias=ua-vfo-$(echo "$TB_GUEST_MAC" | tr -d :)
tb_virsh B detach-device-alias "$name" "$vf_alias" --live >/dev/null
gone=1
for i in $(seq 1 300); do
    tb_virsh B dumpxml "$name" | grep -q "alias name='$vf_alias'" || { gone=0; break; }
    sleep 0.2
done
ok $gone "VF $vf_alias unplugged from $name on B"
tb_dp_call B '{"command":"stats","name":"'"$name"':ua-backup0"}' | jq -e '.pair.state == "virtio"' >/dev/null
ok $? "vfailover-dp on B: pair $name:ua-backup0 in state virtio"
ping_guest 20
pinged=$?
if [ $pinged != 0 ]; then
    diag "B fdb for the guest's MAC (steering left on the unplugged VF's tap?):"
    tb_exec B bridge fdb show br "$TB_PF" | grep -i "$TB_GUEST_MAC" | sed 's/^/#   /'
fi
ok $pinged "the guest answers through virtio (vfailover-dp) with the VF unplugged"
tb_virsh B destroy "$name" >/dev/null

# ---- managed mode: hookd detaches the VF, migrates, re-plugs one on B ----
name=vfmanaged
use_guest "$name"
[ $managed_started = 0 ] && TB_WAIT_PRIMARY=1 tb_wait_guest_ready "$name" 240 >/dev/null
ok $? "managed-mode guest $name booted on A and hookd hot-plugged its VF"
uuid=$(uuid_of A)
used=$(vfs_used A)
TB_WAIT_PRIMARY=1 TB_MIGRATE_CMD=tb_vfo_migrate_managed migrate managed "$name" A B
uuid=$(uuid_of B)
after_migration A B "$used"

diag "the sources' hookd timelines after each migration (records kept after release):"
echo "$timelines" | sed '/^$/d; s/^/#   /'
diag "hookd timelines (live records):"
for h in A B; do
    tb_vfoctl "$h" --timeline pairs 2>&1 | sed "s/^/#   $h: /"
done
diag "timing relative to QEMU's STOP (QEMU events, hookd timelines, guest console; host clock):"
echo "$timing" | sed '/^$/d; s/^/#   /'
diag "loss (packets; fwd = peer->guest, rev = guest->peer; lost_out = outside QEMU's STOP..RESUME;"
diag "in_guest = rev packets the guest's own kernel dropped, e.g. an e1000e stand-in's driver in its remove):"
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
