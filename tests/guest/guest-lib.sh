# Shared set-up for the DPDK-guest tests and benchmark (sourced).
#
# Topology (all made here, unique names, removed on exit):
#   netns vgG<id>: the "guest", vfailover-guest-fwd, with
#       net_virtio_user0 (virtio half)  --vhost-user-->  net_vhost0 (peer)
#       net_tap0 (VF stand-in, pair MAC): its kernel netdev vft<id> is the
#           wire; the peer reads it with a packet socket
#     and vfg-peer (the host side), one lcore: sends on vhost, counts the
#     guest's replies on both paths.
#   netns vgP<id>: where the "VF" goes when unplugged: moving vft out of
#       the guest namespace makes it vanish there, as a VF does on
#       hot-unplug. Its return after migration is a new net_tap0 with the
#       pair's MAC, offered with the control command vf-add.
# (net_tap, not net_af_packet, stands in for the VF: failsafe 22.11 cannot
# hot-add a sub-device without dev_set_link_up, and af_packet has none.)
# veths vfa<id>/vfb<id> in vgG serve the bad-input test (af_packet).
# Every DPDK process: one lcore, --no-huge -m 256, its own --file-prefix.

VG_ID=${VG_ID:-$$$RANDOM}
VG_ID=${VG_ID:0:8}
VG_G=vgG$VG_ID
VG_H=vgH$VG_ID
VG_P=vgP$VG_ID
VG_VFA=vfa$VG_ID
VG_VFB=vfb$VG_ID
VG_VFT=vft$VG_ID
VG_MAC=02:76:67:00:00:01
VG_DIR=
VG_GUEST_PID=
VG_PEER_PID=
VG_FWD=${top_builddir:-.}/failover/guest/vfailover-guest-fwd
VG_PEER=${top_builddir:-.}/tests/guest/vfg-peer
VG_CPU_GUEST=${VG_CPU_GUEST:-0}
VG_CPU_PEER=${VG_CPU_PEER:-1}

vg_cleanup() {
    [ -n "$VG_GUEST_PID" ] && kill "$VG_GUEST_PID" 2>/dev/null
    [ -n "$VG_PEER_PID" ] && kill "$VG_PEER_PID" 2>/dev/null
    [ -n "$VG_GUEST_PID" ] && wait "$VG_GUEST_PID" 2>/dev/null
    [ -n "$VG_PEER_PID" ] && wait "$VG_PEER_PID" 2>/dev/null
    VG_GUEST_PID= VG_PEER_PID=
    ip netns del "$VG_G" 2>/dev/null
    ip netns del "$VG_P" 2>/dev/null
    rm -rf /var/run/dpdk/vgg$VG_ID* /var/run/dpdk/vgh$VG_ID*
    [ -n "$VG_DIR" ] && [ -z "${VG_KEEP:-}" ] && rm -rf "$VG_DIR"
    return 0
}

# Reasons this machine cannot run the tests, or nothing.
vg_cannot_run() {
    [ "$(id -u)" = 0 ] || { echo "needs root (network namespaces, af_packet)"; return; }
    [ -x "$VG_FWD" ] || { echo "vfailover-guest-fwd not built (configure found no DPDK)"; return; }
    [ -x "$VG_PEER" ] || { echo "tests/guest/vfg-peer not built"; return; }
    command -v ip >/dev/null || { echo "iproute2 missing"; return; }
}

vg_setup() {
    VG_DIR=$(mktemp -d /tmp/vfg-test.XXXXXX)
    ip netns add "$VG_G" && ip netns add "$VG_P" || return 1
    ip -n "$VG_G" link add "$VG_VFA" type veth peer name "$VG_VFB" || return 1
    ip -n "$VG_G" link set "$VG_VFA" address "$VG_MAC" up || return 1
    ip -n "$VG_G" link set "$VG_VFB" up || return 1
}

# vg_start_peer RATE DURATION [PEER OPTIONS...]
vg_start_peer() {
    local rate=$1 duration=$2
    shift 2
    ip netns exec "$VG_G" "$VG_PEER" -l "$VG_CPU_PEER" --no-huge -m 256 --no-pci \
        --file-prefix "vgh$VG_ID" --log-level=lib.eal:error \
        --vdev "net_vhost0,iface=$VG_DIR/vhost.sock,queues=1" -- \
        --dst "$VG_MAC" --rate "$rate" --duration "$duration" \
        --virtio-port net_vhost0 --vf-iface "$VG_VFT" --warmup 500 "$@" \
        > "$VG_DIR/peer.out" 2> "$VG_DIR/peer.err" &
    VG_PEER_PID=$!
    local i
    for i in $(seq 100); do
        [ -S "$VG_DIR/vhost.sock" ] && return 0
        kill -0 "$VG_PEER_PID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# vg_start_guest [GUEST OPTIONS...]  (VF = net_tap, virtio = virtio-user)
vg_start_guest() {
    ip netns exec "$VG_G" ${VG_GUEST_WRAP:-} "$VG_FWD" -l "$VG_CPU_GUEST" --no-huge -m 256 --no-pci \
        --file-prefix "vgg$VG_ID" --log-level=lib.eal:error \
        --vdev "net_virtio_user0,path=$VG_DIR/vhost.sock,queues=1,mac=$VG_MAC" \
        --vdev "$(vg_vf_devargs)" -- \
        --ctl "$VG_DIR/ctl.sock" "$@" \
        > "$VG_DIR/guest.out" 2> "$VG_DIR/guest.err" &
    VG_GUEST_PID=$!
    local i
    for i in $(seq 100); do
        vg_ctl status >/dev/null 2>&1 && return 0
        kill -0 "$VG_GUEST_PID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

vg_ctl() {
    "$VG_FWD" ctl "$VG_DIR/ctl.sock" "$@"
}

# vg_wait_status REGEX [TENTHS]: wait until the guest's status matches.
vg_wait_status() {
    local i
    for i in $(seq "${2:-50}"); do
        vg_ctl status 2>/dev/null | grep -Eq "$1" && return 0
        sleep 0.1
    done
    diag "status never matched '$1': $(vg_ctl status 2>&1)"
    return 1
}

vg_vf_devargs() { echo "net_tap0,iface=$VG_VFT,mac=$VG_MAC"; }

# Surprise removal: the VF's netdev vanishes from the guest.
vg_remove_vf() { ip -n "$VG_G" link set "$VG_VFT" netns "$VG_P" 2>/dev/null; }

# Return after migration: a VF with the pair's MAC is offered again.
vg_return_vf() { vg_ctl vf-add "$(vg_vf_devargs)" >/dev/null; }

vg_wait_peer() {
    wait "$VG_PEER_PID"
    local rc=$?
    VG_PEER_PID=
    return $rc
}

vg_stop_guest() {
    diag "guest: $(vg_ctl status 2>&1)"
    vg_ctl quit >/dev/null 2>&1
    local i
    for i in $(seq 50); do
        kill -0 "$VG_GUEST_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill "$VG_GUEST_PID" 2>/dev/null
    wait "$VG_GUEST_PID"
    local rc=$?
    [ $rc = 0 ] || diag "guest exit status $rc: $(grep -v ^EAL "$VG_DIR/guest.err" | tail -5)"
    VG_GUEST_PID=
    return $rc
}

# vg_peer_value KEY: a key=value from the peer's report.
vg_peer_value() { sed -n "s/^$1=//p" "$VG_DIR/peer.out" | tail -1; }
