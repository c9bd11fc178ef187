#!/bin/bash
# Rollback of a live migration with vfailover, in both modes, on the
# two-host testbed (TB_VFAILOVER=1): one guest per mode on host A, and for
# each case a migration to B that must not succeed:
#   refuse-novf    B has no free VF (all its VFs reserved for the host)
#   refuse-hookd   B's hookd is down: its hook refuses the incoming domain
#   abort          virsh domjobabort on A mid-migration (bandwidth capped
#                  so that the migration is still running)
#   destkill       B's incoming QEMU is killed (kill -9) mid-migration
# Every case ends with the guest running on A with its VF back (pair
# VF_ACTIVE, the MAC steered to the VF's tap, the guest enslaves the VF and
# its link is up), the peer in the physical network reaching it, A holding
# one VF for it and B nothing (no domain, hookd record, VF or datapath
# port). The cases run in sequence on one guest per mode: each starts from
# and returns to that state. RB_CASES="native:abort managed:destkill ..."
# runs a subset.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/testbed.sh"
. "$top_srcdir/tests/e2e/rollback-lib.sh"

reason=$(tb_can_run) || skip_all "$reason"
[ -x "$TB_STREAM" ] && [ -x "$TB_STREAM_STATIC" ] || skip_all "vf-stream not built (run make)"
reason=$(tb_vfo_can_run) || skip_all "$reason"

TB_VFAILOVER=1
TB_GUEST_MAC=$(tb_random_mac)
CASES=${RB_CASES:-native:refuse-novf native:refuse-hookd native:abort native:destkill
managed:refuse-novf managed:refuse-hookd managed:abort managed:destkill}

wanted() { case " $(echo $CASES) " in *" $1 "*) return 0 ;; esac; return 1; }
wanted_mode() { case " $(echo $CASES) " in *" $1:"*) return 0 ;; esac; return 1; }

tb_setup "A B"
ok $? "two hosts with vfailover ($TB_NS_A, $TB_NS_B), physical network $TB_NS_NET"

b_conf=$(tb_host_dir B)/etc-vfailover/vfailover.conf

# The migration is under way: B runs the incoming domain (paused) and the
# source's pair left the VF (native: the guest acknowledged QEMU's unplug;
# managed: hookd detached it).
in_flight() {
    rb_is_domstate B "$name" paused && rb_is_state A "$name" VIRTIO_ACTIVE
}

case_refuse_novf() {
    local mode=$1 rc from
    from=$(tb_console_lines "$name")
    printf 'reserved-vfs = %s\n' "${TB_PF_VFS:-2}" >> "$b_conf"
    tb_vfo_stop B hookd && tb_vfo_start B
    ok $? "$mode refuse-novf: B's hookd restarted with every VF kept for the host"
    rb_migrate_bg A B "$name" "$mode"
    rb_migrate_wait 180
    rc=$?
    [ $rc != 0 ] && [ $rc != 124 ]
    ok $? "$mode refuse-novf: the migration failed (rc $rc: $(tail -n1 "$RB_MIG_LOG"))"
    grep -q "no free VF" "$RB_MIG_LOG"
    ok $? "$mode refuse-novf: the error names the missing VF"
    if [ "$mode" = managed ]; then
        grep -q "a libvirt hook refused it: vfailover: domain $name" "$RB_MIG_LOG" &&
            ! grep -q "Child process (" "$RB_MIG_LOG"
        ok $? "managed refuse-novf: the error is the hook's line, without libvirt's hook command line"
    fi
    sed -i '/^reserved-vfs/d' "$b_conf"
    tb_vfo_stop B hookd && tb_vfo_start B
    # Native mode: refused before QEMU's migration (and its unplug)
    # started; managed mode: hookd had detached the VF already.
    [ "$mode" = managed ] || from=""
    rb_check_runs_on A B "$name" "$uuid" "$mode refuse-novf" $from
}

case_refuse_hookd() {
    local mode=$1 rc from
    from=$(tb_console_lines "$name")
    [ "$mode" = managed ] || from=""
    tb_vfo_stop B hookd
    rb_migrate_bg A B "$name" "$mode"
    rb_migrate_wait 180
    rc=$?
    [ $rc != 0 ] && [ $rc != 124 ]
    ok $? "$mode refuse-hookd: the migration failed (rc $rc: $(tail -n1 "$RB_MIG_LOG"))"
    grep -q "not reachable" "$RB_MIG_LOG"
    ok $? "$mode refuse-hookd: the error says B's hookd is not reachable"
    tb_vfo_start B
    rb_check_runs_on A B "$name" "$uuid" "$mode refuse-hookd" $from
}

# case_midway MODE LABEL ACTION...: a bandwidth-capped migration; ACTION
# runs once it is under way; the migration must then fail.
case_midway() {
    local mode=$1 label=$2 rc from
    shift 2
    from=$(tb_console_lines "$name")
    rb_set_speed A "$name" 1
    rb_migrate_bg A B "$name" "$mode"
    wait_for 120 in_flight
    ok $? "$mode $label: the migration is under way (B: $(rb_domstate B "$name"), A's pair: $(rb_pair_state A "$name"))"
    sleep 1
    "$@"
    rb_migrate_wait 180
    rc=$?
    [ $rc != 0 ] && [ $rc != 124 ]
    ok $? "$mode $label: the migration failed (rc $rc: $(tail -n1 "$RB_MIG_LOG"))"
    rb_unset_speed A "$name"
    rb_check_runs_on A B "$name" "$uuid" "$mode $label" "$from"
}

abort_job() { tb_virsh A domjobabort "$name" >/dev/null; }
kill_dest_qemu() {
    local pid
    pid=$(cat "$(tb_host_dir B)/run-libvirt/qemu/$name.pid" 2>/dev/null)
    [ -n "$pid" ] && kill -9 "$pid"
}

run_cases() {
    local mode=$1 c
    for c in refuse-novf refuse-hookd abort destkill; do
        wanted "$mode:$c" || continue
        diag "---- $mode: $c ----"
        case $c in
            refuse-novf) case_refuse_novf "$mode" ;;
            refuse-hookd) case_refuse_hookd "$mode" ;;
            abort) case_midway "$mode" abort abort_job ;;
            destkill) case_midway "$mode" destkill kill_dest_qemu ;;
        esac
    done
}

boot() {
    local mode=$1
    name=vf$mode
    if [ "$mode" = managed ]; then
        tb_vfo_managed_guest_start A "$name"
    else
        tb_vfo_guest_start A "$name"
    fi && TB_WAIT_PRIMARY=1 tb_wait_guest_ready "$name" 240 >/dev/null
    ok $? "$mode guest $name booted on A with its VF"
    uuid=$(tb_virsh A domuuid "$name" 2>/dev/null | head -n1)
    rb_check_runs_on A B "$name" "$uuid" "$mode start"
}

for mode in native managed; do
    wanted_mode "$mode" || continue
    boot "$mode"
    run_cases "$mode"
    diag "hookd timeline on A:"
    tb_vfoctl A --timeline pairs "$name" 2>&1 | tail -n 40 | sed 's/^/#   /'
    tb_virsh A destroy "$name" >/dev/null
    wait_for 30 rb_host_clean A "$name" "$uuid"
    ok $? "$mode: guest destroyed, A freed everything of it"
done

plan "$_tap_n"
[ "$_tap_failed" = 0 ]
