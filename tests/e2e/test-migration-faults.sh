#!/bin/bash
# Faults in the middle of a live migration with vfailover, on the two-host
# testbed (TB_VFAILOVER=1). Each case starts a bandwidth-capped migration of
# the guest from the host it runs on (SRC) to the other (DST), waits until
# it is under way (DST runs the paused incoming domain, SRC's pair left
# the VF), injects the fault, lets the migration run out (or aborts it) and
# then checks the end state: the guest runs on exactly one host with its VF
# (pair VF_ACTIVE, steering on the VF's tap, the guest enslaves it, its
# link up), the peer reaches it, that host holds one VF for it and the
# other host nothing (no domain, record, VF or datapath port).
#   native:src-hookd    kill -9 SRC's hookd, restart it, lift the cap:
#                       completes
#   native:src-hookd-abort  kill -9 SRC's hookd, restart it, domjobabort:
#                       rolls back (the restarted hookd must know the pair
#                       was migrating)
#   native:dst-hookd    kill -9 DST's hookd, restart it, lift the cap
#   native:dst-hookd-early  kill -9 DST's hookd right after its `migrate
#                       begin` reserved a VF, restart it once the migration
#                       failed: its sweep frees the abandoned reservation
#   native:src-dp       kill SRC's vfailover-dp, restart it, lift the cap
#   native:src-dp-abort kill SRC's vfailover-dp, restart it, domjobabort:
#                       rolls back onto the VF
#   native:dst-libvirtd restart DST's libvirtd (the source's migration fails)
#   managed:src-hookd   kill -9 SRC's hookd (the migration's driver),
#                       restart it, lift the cap: libvirt's job goes on and
#                       completes, DST's hookd plugs a VF there
#   managed:src-hookd-abort  kill -9 SRC's hookd (the migration's driver),
#                       restart it, domjobabort: the restarted hookd plugs
#                       the VF back
#   managed:dst-hookd   kill -9 DST's hookd, restart it, lift the cap: the
#                       restarted hookd plugs the VF once the domain resumed
# FT_CASES="native:src-hookd managed:dst-hookd ..." runs a subset.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/testbed.sh"
. "$top_srcdir/tests/e2e/rollback-lib.sh"

reason=$(tb_can_run) || skip_all "$reason"
[ -x "$TB_STREAM" ] && [ -x "$TB_STREAM_STATIC" ] || skip_all "vf-stream not built (run make)"
reason=$(tb_vfo_can_run) || skip_all "$reason"

TB_VFAILOVER=1
TB_GUEST_MAC=$(tb_random_mac)
CASES=${FT_CASES:-native:src-hookd native:src-hookd-abort native:dst-hookd native:dst-hookd-early native:src-dp
native:src-dp-abort native:dst-libvirtd managed:src-hookd managed:src-hookd-abort managed:dst-hookd}

wanted_mode() { case " $(echo $CASES) " in *" $1:"*) return 0 ;; esac; return 1; }

tb_setup "A B"
ok $? "two hosts with vfailover ($TB_NS_A, $TB_NS_B), physical network $TB_NS_NET"

other() { [ "$1" = A ] && echo B || echo A; }
where() {
    if rb_is_domstate A "$name" running; then echo A
    elif rb_is_domstate B "$name" running; then echo B
    else echo none; fi
}

# The migration is under way (see test-migration-rollback.sh).
in_flight() {
    rb_is_domstate "$dst" "$name" paused && rb_is_state "$src" "$name" VIRTIO_ACTIVE
}
# No migration job left: the guest is gone from SRC, or runs there idle.
settled() {
    local s
    s=$(rb_domstate "$src" "$name")
    [ "$s" = none ] && return 0
    [ "$s" = running ] && tb_virsh "$src" domjobinfo "$name" 2>/dev/null | grep -q '^Job type: *None'
}

# kill9 HOST DAEMON: kill -9 HOST's hookd or dp and wait until it is gone.
kill9() {
    local dir pid
    dir=$(tb_host_dir "$1")
    pid=$(cat "$dir/$2.pid")
    kill -9 "$pid" && wait_for 10 eval "! kill -0 $pid 2>/dev/null"
    { wait "$pid"; } 2>/dev/null
}
kill9_hookd() { kill9 "$1" hookd; rm -f "$(tb_host_dir "$1")/hookd.pid"; }
# The source's datapath dies; tb_vfo_stop clears what it left, so that
# tb_vfo_start starts a new one.
kill9_dp() { kill9 "$1" dp; tb_vfo_stop "$1" dp; }
lift_cap() { rb_unset_speed "$src" "$name"; }
abort_job() { tb_virsh "$src" domjobabort "$name" >/dev/null; }

f_src_hookd() { kill9_hookd "$src"; tb_vfo_start "$src" && lift_cap; }
f_src_hookd_abort() { kill9_hookd "$src"; tb_vfo_start "$src" && sleep 1 && abort_job; }
f_dst_hookd() { kill9_hookd "$dst"; tb_vfo_start "$dst" && lift_cap; }
f_src_dp() {
    kill9_dp "$src"
    tb_vfo_start "$src" && lift_cap
}
# DST's hookd dies right after it reserved a VF in `migrate begin`: the
# later hooks of the incoming domain are refused, libvirt gives it up and
# its release hook cannot reach hookd. The restarted hookd finds a young
# PREPARING record of a domain libvirt does not have: its sweep frees it.
# The kill comes from DST's hook itself, once `migrate begin` answered and
# before libvirt runs the next hook (arm_hook_kill): a kill from here after
# seeing the record would race with those hooks.
arm_hook_kill() {
    local dir
    dir=$(tb_host_dir "$1")
    cp "$dir/hook-wrapper" "$dir/hook-wrapper.orig"
    {
        echo '#!/bin/sh'
        echo "# test-migration-faults dst-hookd-early: kill -9 hookd after migrate begin"
        echo "out=\$($dir/hook-wrapper.orig \"\$@\"); rc=\$?"
        echo "[ \"\$2 \$3\" = 'migrate begin' ] && kill -9 \$(cat '$dir/hookd.pid')"
        echo 'printf "%s\n" "$out"; exit $rc'
    } > "$dir/hook-wrapper.new"
    chmod 0755 "$dir/hook-wrapper.new"
    mv "$dir/hook-wrapper.new" "$dir/hook-wrapper"
}
disarm_hook_kill() {
    local dir
    dir=$(tb_host_dir "$1")
    [ -f "$dir/hook-wrapper.orig" ] && mv "$dir/hook-wrapper.orig" "$dir/hook-wrapper"
}
f_dst_hookd_early() {
    local dir pid
    dir=$(tb_host_dir "$dst")
    pid=$(cat "$dir/hookd.pid")
    # The armed hook kills hookd; if no hook call came (no migration: a
    # guest lost to the TCG bug in the case before), kill it here, or the
    # wait below would wait for a live daemon for ever.
    if ! wait_for 120 eval "! kill -0 $pid 2>/dev/null"; then
        diag "dst-hookd-early: no hook killed hookd ($pid) on $dst in 120 s: killed here"
        kill -9 "$pid" 2>/dev/null
    fi
    { wait "$pid"; } 2>/dev/null
    rm -f "$dir/hookd.pid"
    disarm_hook_kill "$dst"
    rb_migrate_wait 120
    tb_vfo_start "$dst"
}
f_src_dp_abort() {
    kill9_dp "$src"
    tb_vfo_start "$src" && sleep 1 && abort_job
}
f_dst_libvirtd() { lvh_restart_libvirtd "$(tb_host_dir "$dst")" --listen; }

# fault_case MODE CASE FUNC EXPECT: EXPECT is "completes", "rolls-back" or
# "either".
fault_case() {
    local mode=$1 c=$2 func=$3 expect=$4 label="$1 $2" from end rc
    case " $(echo $CASES) " in *" $mode:$c "*) ;; *) return 0 ;; esac
    diag "---- $label ----"
    src=$(where)
    dst=$(other "$src")
    from=$(tb_console_lines "$name")
    rb_set_speed "$src" "$name" 1
    [ "$c" = dst-hookd-early ] && arm_hook_kill "$dst"
    rb_migrate_bg "$src" "$dst" "$name" "$mode"
    if [ "$c" != dst-hookd-early ]; then
        wait_for 120 in_flight
        ok $? "$label: migration $src -> $dst under way ($dst: $(rb_domstate "$dst" "$name"), $src's pair: $(rb_pair_state "$src" "$name"))"
        sleep 1
    fi
    "$func"
    ok $? "$label: fault injected and the daemon restarted"
    rb_migrate_wait 240
    rc=$?
    wait_for 120 settled
    ok $? "$label: the migration job ended (migrate rc $rc: $(tail -n1 "$RB_MIG_LOG"))"
    end=$(where)
    [ "$end" = "$src" ] && rb_unset_speed "$src" "$name"
    case $expect in
        completes) [ "$end" = "$dst" ] ;;
        rolls-back) [ "$end" = "$src" ] ;;
        *) [ "$end" != none ] ;;
    esac
    ok $? "$label: the guest runs on $end (expected: $expect)"
    [ "$end" = none ] && return 0
    uuid=$(tb_virsh "$end" domuuid "$name" 2>/dev/null | head -n1)
    if [ "$c" = dst-hookd-early ]; then
        # The sweep runs every 10 s on records older than 30 s.
        wait_for 60 rb_host_clean "$dst" "$name" "$uuid"
        ok $? "$label: $dst's restarted hookd freed the abandoned reservation"
        grep -q "domain $name: its start or incoming migration never got a running domain" \
            "$(tb_host_dir "$dst")/hookd.log"
        ok $? "$label: freed by the sweep (the record was still preparing)"
        from=""     # the source's VF may never have left
    fi
    rb_check_runs_on "$end" "$(other "$end")" "$name" "$uuid" "$label" "$from"
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
}

if wanted_mode native; then
    boot native
    fault_case native src-hookd f_src_hookd completes
    fault_case native src-hookd-abort f_src_hookd_abort rolls-back
    fault_case native dst-hookd f_dst_hookd completes
    fault_case native dst-hookd-early f_dst_hookd_early rolls-back
    fault_case native src-dp f_src_dp either
    fault_case native src-dp-abort f_src_dp_abort rolls-back
    fault_case native dst-libvirtd f_dst_libvirtd rolls-back
    h=$(where)
    [ "$h" != none ] && tb_virsh "$h" destroy "$name" >/dev/null
fi
if wanted_mode managed; then
    boot managed
    fault_case managed src-hookd f_src_hookd completes
    fault_case managed src-hookd-abort f_src_hookd_abort rolls-back
    fault_case managed dst-hookd f_dst_hookd completes
fi
for h in A B; do
    diag "hookd timeline on $h:"
    tb_vfoctl "$h" --timeline pairs 2>&1 | tail -n 30 | sed "s/^/#   $h: /"
done

plan "$_tap_n"
[ "$_tap_failed" = 0 ]
