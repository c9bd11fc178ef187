# Helpers of the rollback and fault tests (tests/e2e/test-migration-rollback.sh,
# test-migration-faults.sh): start a migration in the background, wait for
# a point in it, and check the end state every case must reach. Source after
# tests/lib/tap.sh and tests/lib/testbed.sh, with TB_VFAILOVER=1.

# wait_for TIMEOUT_S CMD...: poll CMD (every 0.25 s) until it succeeds.
wait_for() {
    local t=$1 end
    shift
    end=$(( $(date +%s) + t ))
    while :; do
        "$@" && return 0
        [ "$(date +%s)" -ge "$end" ] && return 1
        sleep 0.25
    done
}

# rb_pair HOST NAME: hookd's record of the guest's pair on HOST (JSON, or
# nothing); rb_pair_state HOST NAME: its state ("none" without a record).
rb_pair() {
    tb_vfoctl "$1" --json pairs 2>/dev/null |
        jq -c --arg n "$2" '.domains[]? | select(.name == $n) | .pairs[0]'
}
rb_pair_state() {
    local s
    s=$(rb_pair "$1" "$2" | jq -r '.state // empty' 2>/dev/null)
    echo "${s:-none}"
}
rb_is_state() { [ "$(rb_pair_state "$1" "$2")" = "$3" ]; }

# rb_domstate HOST NAME: libvirt's state of the guest on HOST ("none").
rb_domstate() {
    local s
    s=$(tb_virsh "$1" domstate "$2" 2>/dev/null | head -n1)
    echo "${s:-none}"
}
rb_is_domstate() { [ "$(rb_domstate "$1" "$2")" = "$3" ]; }

# rb_migrate_bg SRC DST NAME MODE [VIRSH_ARGS...]: start a live migration
# in the background (native: virsh migrate --live --p2p; managed:
# vfailoverctl migrate --mode managed); sets RB_MIG_PID, output in
# $TB_DIR/NAME.rb.N.log (RB_MIG_LOG).
_rb_n=0
rb_migrate_bg() {
    local src=$1 dst=$2 name=$3 mode=$4
    shift 4
    _rb_n=$((_rb_n + 1))
    RB_MIG_LOG=$TB_DIR/$name.rb.$_rb_n.log
    tb_note_migrated "$name"
    if [ "$mode" = managed ]; then
        tb_vfo_migrate_managed "$src" "$dst" "$name" > "$RB_MIG_LOG" 2>&1 &
    else
        timeout 300 ip netns exec "$(_tb_ns "$src")" virsh -c "qemu+tcp://$(_tb_addr "$src")/system" \
            migrate --live --p2p "$@" "$name" "qemu+tcp://$(_tb_addr "$dst")/system" \
            > "$RB_MIG_LOG" 2>&1 &
    fi
    RB_MIG_PID=$!
}

# rb_migrate_wait [TIMEOUT_S]: wait for the background migration; its exit
# status (124: still running after TIMEOUT_S, default 240; it is killed).
rb_migrate_wait() {
    local t=${1:-240} i
    for i in $(seq 1 $((t * 4))); do
        kill -0 "$RB_MIG_PID" 2>/dev/null || break
        sleep 0.25
    done
    if kill -0 "$RB_MIG_PID" 2>/dev/null; then
        kill "$RB_MIG_PID" 2>/dev/null
        wait "$RB_MIG_PID" 2>/dev/null
        return 124
    fi
    wait "$RB_MIG_PID"
}

# rb_set_speed HOST NAME MIBS: the domain's migration bandwidth (the next
# migration's, or the running one's); rb_unset_speed HOST NAME: unlimited.
rb_set_speed() { tb_virsh "$1" migrate-setspeed "$2" "$3" >/dev/null; }
rb_unset_speed() { tb_virsh "$1" migrate-setspeed "$2" 8796093022207 >/dev/null; }

# rb_guest_has_vf NAME: the guest's last failover report has a primary
# enslaved and that primary's link is up.
rb_guest_has_vf() {
    local log primary
    log=$(tb_console "$1")
    primary=$(tr -d '\r' < "$log" | grep -a 'vf-guest: slaves ' | tail -n1 |
                  sed -n 's/.* primary=\(eth[0-9]*\).*/\1/p')
    [ -n "$primary" ] &&
        [ "$(tr -d '\r' < "$log" | grep -a "vf-guest: link $primary " | tail -n1 | awk '{print $NF}')" = up ]
}

# rb_guest_replugged NAME FROM_LINE: after console line FROM_LINE the
# guest lost its VF (primary=-) and enslaved one again, whose link is up.
rb_guest_replugged() {
    tail -n +"$(($2 + 1))" "$(tb_console "$1")" | tr -d '\r' |
        awk '/vf-guest: slaves .* primary=-/ { lost = 1; next }
             lost && /vf-guest: slaves .* primary=eth/ { back = 1 }
             END { exit !(lost && back) }' && rb_guest_has_vf "$1"
}

# rb_pings: the peer in the physical network reaches the guest (30 tries).
rb_pings() {
    local i
    for i in $(seq 1 30); do
        tb_exec NET ping -c 1 -W 1 "$TB_GUEST_IP" >/dev/null 2>&1 && return 0
    done
    return 1
}

# rb_steered_to_vf HOST NAME: the PF's FDB steers the guest's MAC to the
# VF's tap hookd reserved for it.
rb_steered_to_vf() {
    local tap
    tap=$(rb_pair "$1" "$2" | jq -r '.vf.netdev // empty')
    [ -n "$tap" ] && tb_exec "$1" bridge fdb show br "$TB_PF" 2>/dev/null |
        grep -qi "^$TB_GUEST_MAC dev $tap "
}

# rb_vfs_owned HOST UUID: VFs HOST's hookd holds for the domain;
# rb_vfs_used HOST: VFs in use there at all.
rb_vfs_owned() {
    tb_vfoctl "$1" --json vfs | jq -r --arg u "$2" '[.vfs[] | select(.domain == $u)] | length'
}
rb_vfs_used() {
    tb_vfoctl "$1" --json vfs | jq -r '[.vfs[] | select(.state != "free" and .state != "kept")] | length'
}

# rb_dp_ports HOST NAME: the guest's ports in HOST's vfailover-dp.
rb_dp_ports() {
    tb_dp_call "$1" '{"command":"port-list"}' 2>/dev/null |
        jq -r --arg p "$2:" '[.. | objects | select(has("name")) | .name | select(startswith($p))] | length'
}

# rb_host_clean HOST NAME UUID: HOST has nothing of the guest: no domain,
# no hookd record, no VF held for it, no datapath port.
rb_host_clean() {
    [ "$(rb_domstate "$1" "$2")" = none ] && [ "$(rb_pair_state "$1" "$2")" = none ] &&
        [ "$(rb_vfs_owned "$1" "$3")" = 0 ] && [ "$(rb_dp_ports "$1" "$2")" = 0 ]
}

# rb_host_diag HOST NAME UUID: what HOST still has of the guest.
rb_host_diag() {
    diag "$1: domain $(rb_domstate "$1" "$2"), pair $(rb_pair_state "$1" "$2"), VFs held $(rb_vfs_owned "$1" "$3"), dp ports $(rb_dp_ports "$1" "$2")"
}

# rb_check_runs_on HOST OTHER NAME UUID LABEL [FROM_LINE]: the end state of
# every case:
# the guest runs on HOST with its VF (pair VF_ACTIVE, steering on the VF's
# tap, the guest enslaves the VF and its link is up), the peer reaches it,
# HOST holds exactly one VF for it and OTHER nothing of it. With
# FROM_LINE: the guest lost its VF after that console line and got it back.
rb_check_runs_on() {
    local h=$1 o=$2 name=$3 uuid=$4 label=$5 from=${6:-}
    wait_for 60 rb_is_domstate "$h" "$name" running && ! tb_virsh "$o" domstate "$name" >/dev/null 2>&1
    ok $? "$label: $name runs on $h only ($h: $(rb_domstate "$h" "$name"), $o: $(rb_domstate "$o" "$name"))"
    wait_for 60 rb_is_state "$h" "$name" VF_ACTIVE
    ok $? "$label: the pair on $h is back in VF_ACTIVE (is $(rb_pair_state "$h" "$name"))"
    wait_for 30 rb_steered_to_vf "$h" "$name"
    ok $? "$label: $h steers the guest's MAC to its VF's tap again"
    if [ -n "$from" ]; then
        wait_for 90 rb_guest_replugged "$name" "$from"
        ok $? "$label: the guest lost its VF, enslaves it again and the VF's link is up"
    else
        wait_for 90 rb_guest_has_vf "$name"
        ok $? "$label: the guest enslaves its VF and the VF's link is up"
    fi
    rb_pings
    ok $? "$label: the peer reaches the guest"
    [ "$(rb_vfs_owned "$h" "$uuid")" = 1 ]
    ok $? "$label: $h holds one VF for the guest ($(rb_vfs_owned "$h" "$uuid"))"
    wait_for 30 rb_host_clean "$o" "$name" "$uuid" && [ "$(rb_vfs_used "$o")" = 0 ]
    local rc=$?
    [ $rc = 0 ] || rb_host_diag "$o" "$name" "$uuid"
    ok $rc "$label: $o freed everything of the guest (no domain, record, VF or datapath port; VFs in use there: $(rb_vfs_used "$o"))"
    # The standby works too: QEMU (a vhost-user client with <reconnect>)
    # is back on a restarted datapath, and a link the source's dead
    # datapath took down with the migration was set up again (hookd).
    # No relay left on either (the source relays only while the VM
    # migrates away).
    wait_for 30 rb_standby_connected "$h" "$name" && [ "$(rb_relay "$h" "$name")" = false ]
    ok $? "$label: the guest's virtio standby is connected to $h's datapath, relay off (connected=$(rb_standby "$h" "$name"), relay=$(rb_relay "$h" "$name"))"
}

# rb_standby HOST NAME: the "connected" flag of NAME's vhost-user port on
# HOST's datapath (true, false or none).
rb_standby() {
    tb_dp_call "$1" '{"command":"port-list"}' 2>/dev/null |
        jq -r --arg n "$2:ua-backup0" '[.. | objects | select(.name? == $n) | .connected | tostring] | first // "none"'
}
rb_standby_connected() { [ "$(rb_standby "$1" "$2")" = true ]; }
# rb_relay HOST NAME: the "relay" flag of NAME's datapath pair on HOST.
rb_relay() {
    tb_dp_call "$1" '{"command":"stats","name":"'"$2"':ua-backup0"}' 2>/dev/null | jq -r 'if .pair.relay == null then "none" else (.pair.relay | tostring) end'
}
