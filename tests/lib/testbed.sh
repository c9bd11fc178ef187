# Two libvirt hosts on one machine, for vfailover's end-to-end tests, the
# demo and the migration benchmark (bash; source it). Layout, per run
# (names carry a per-run suffix S so that concurrent runs do not collide):
#
#   netns vfN-S ("physical network"): bridge br0 198.18.0.1/15 = traffic peer
#     ├─ veth hA ── netns vfA-S (host A): bridge br0 (uplink up0), libvirtd
#     └─ veth hB ── netns vfB-S (host B): bridge br0 (uplink up0), libvirtd
#   management: vfA-S mgmt0 192.0.2.1/24 ── vfB-S mgmt0 192.0.2.2/24
#
# Each host is a private virtlogd + libvirtd (tests/lib/libvirt-host.sh,
# lvh_*) in its own mount namespace inside its netns, its trees under
# $TB_DIR/hostX/ (DIR/etc-libvirt = its /etc/libvirt, DIR/log-libvirt = its
# /var/log/libvirt, ...), listening on TCP without auth on its management
# address (a fresh host_uuid each); QEMU runs as root, no cgroups, no
# security driver, migration_address/host = the management address.
# Guests are TCG q35 domains on the host's br0 (see tb_guest_xml).
#
# API (HOST is A or B; NET is the physical-network namespace):
#   tb_can_run                prints why the testbed cannot run here, or 0
#   tb_setup [HOSTS]          network + hosts ("A B" default; "A" for one);
#                             installs a teardown trap on EXIT/INT/TERM/HUP
#                             unless TB_TRAP=0. Before each libvirtd starts,
#                             calls tb_pre_start HOST DIR if such a function
#                             exists (e.g. lvh_install_hook DIR SRC there).
#   tb_teardown               destroys everything (idempotent, never fails);
#                             calls tb_pre_teardown first if it exists (the
#                             trap replaces any EXIT trap of the caller: put
#                             the caller's cleanup there)
#   tb_host_start HOST / tb_host_stop HOST   (re)start / stop one libvirtd
#   tb_exec HOST|NET CMD...   run inside a host (its netns + mount ns)
#   tb_virsh HOST ARGS...     virsh against that host's libvirtd (unix socket)
#   tb_virsh_tcp HOST ARGS... the same over qemu+tcp://ADDR/system
#   tb_host_dir HOST          the host's libvirt-host.sh DIR
#   tb_guest_image            builds the guest image (sets GUEST_KERNEL/INITRD)
#   tb_guest_xml NAME         prints a domain XML (env: TB_GUEST_MAC,
#                             TB_GUEST_IP, TB_GUEST_MEM, TB_GUEST_PRIMARY=0|1,
#                             TB_GUEST_SHARED_MEM, TB_GUEST_BACKUP_IF,
#                             TB_GUEST_DEVICES, TB_GUEST_METADATA,
#                             TB_GUEST_QEMU_DEVICES: see the function)
#   tb_guest_start HOST NAME  create the guest from tb_guest_xml (transient;
#                             sets TB_GUEST_MAC; the XML is $TB_DIR/NAME.xml)
#   tb_console NAME           path of the guest's serial console log
#   tb_wait_console NAME ERE [TIMEOUT] [FROM_LINE]  wait for a console line
#   tb_wait_guest_ready NAME [TIMEOUT] [FROM_LINE]  master up, primary up
#   tb_console_lines NAME     lines in the console log so far (a FROM_LINE)
#   tb_guest_oops NAME        the first line of a kernel oops on the guest's
#                             console (fails when there is none)
#   tb_note_migrated NAME     a live migration of NAME started (tb_migrate
#                             notes its own; teardown reports oopses after
#                             one as QEMU's where QEMU < 9.0: see below)
#   tb_migrate SRC DST NAME [VIRSH_MIGRATE_ARGS...]
#                             live p2p migration (or the function/command
#                             TB_MIGRATE_CMD SRC DST NAME ARGS when set,
#                             e.g. tb_vfo_migrate_managed); writes $TB_DIR/NAME.mig.N
#                             files and sets TB_MIG_WINDOW ("STOP RESUME"
#                             epoch seconds from QEMU's events) and
#                             TB_MIG_DOWNTIME_MS / TB_MIG_TOTAL_MS
#   tb_stream_migrate SRC DST NAME [LABEL [ARGS...]]  tb_migrate with
#                             vf-stream running; sets TB_STREAM_RESULT (its
#                             label line ends in rev_dropped_in_guest=N
#                             when the guest traces its drops)
#   tb_result KEY [RESULT]    one value of a vf-stream result line
#   tb_vf_attach HOST NAME / tb_vf_detach HOST NAME  hot-plug / unplug the
#                             VF stand-in (alias ua-vf0, guest's MAC)
#   tb_loss_table_header / tb_loss_table_row [RESULT]  the loss table
#   tb_lost_outside_not_in_guest [RESULT]  lost_outside less the guest's
#                             own drops of its packets
# Variables after tb_setup: TB_SUFFIX TB_DIR TB_HOSTS TB_NS_A TB_NS_B
# TB_NS_NET TB_ADDR_A TB_ADDR_B TB_URI_A TB_URI_B TB_BRIDGE TB_PEER_IP
# TB_GUEST_IP TB_PREFIXLEN TB_STREAM (vf-stream binary for the peer side).
# TB_DP_ARGS: extra vfailover-dp options for every host (e.g. "--hold-ms 1").
# TB_GUEST_CMDLINE: extra guest kernel arguments (default "vf.trace=stack":
# the guest prints what its kernel drops, see tests/lib/guest-image.sh and
# tb_guest_tx_drops; set it empty for none).
# Teardown prints a TAP diagnostic for each guest whose kernel oopsed. After
# a live migration under QEMU < 9.0 (TCG) that is QEMU's bug (doc/testbed.md,
# "Guest memory lost by TCG migrations") and, when VFAILOVER_RERUN_MARK
# names a file (tests/run-test sets it), it is noted there: run-test then
# reruns a failed test once.
# TB_KEEP=1 keeps $TB_DIR (logs, console) after teardown. A caller-given
# TB_DIR is never removed (only a /tmp/vftb-S the testbed created); a
# caller-given TB_SUFFIX is used when no run holds it.

TB_ADDR_A=192.0.2.1
TB_ADDR_B=192.0.2.2
TB_URI_A=qemu+tcp://$TB_ADDR_A/system
TB_URI_B=qemu+tcp://$TB_ADDR_B/system
TB_BRIDGE=br0
# The host-side bridge the guests' interfaces join: br0, or with
# TB_VFAILOVER=1 the emulated PF (hookd's [pf:TB_PF] bridge, uplink up0).
TB_PF=${TB_PF:-vfopf0}
TB_HOST_BRIDGE=$TB_BRIDGE
TB_PEER_IP=198.18.0.1
TB_PREFIXLEN=15
TB_GUEST_IP=${TB_GUEST_IP:-198.18.0.10}
TB_STREAM_PORT=7100
# Guests report the packets their own kernel drops (tb_guest_tx_drops).
TB_GUEST_CMDLINE=${TB_GUEST_CMDLINE-vf.trace=stack}
# The VF stand-in's NIC model, in every guest and for hookd ([pf:*]
# vf-model): vmxnet3 (hookd's default) or e1000e (doc/testbed.md, "The
# stand-in's model").
TB_VF_MODEL=${TB_VF_MODEL:-vmxnet3}

_tb_top_builddir=${top_builddir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
_tb_top_srcdir=${top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TB_STREAM=${TB_STREAM:-$_tb_top_builddir/tests/lib/vf-stream}
# shellcheck source=tests/lib/libvirt-host.sh
. "$_tb_top_srcdir/tests/lib/libvirt-host.sh"
TB_STREAM_STATIC=${TB_STREAM_STATIC:-$_tb_top_builddir/tests/lib/vf-stream.static}

_tb_log() { echo "testbed: $*" >&2; }

_tb_ns() {
    case "$1" in
        A) echo "$TB_NS_A" ;;
        B) echo "$TB_NS_B" ;;
        NET|N) echo "$TB_NS_NET" ;;
        *) _tb_log "unknown host '$1' (A, B or NET)"; return 1 ;;
    esac
}

_tb_addr() {
    case "$1" in
        A) echo "$TB_ADDR_A" ;;
        B) echo "$TB_ADDR_B" ;;
        *) _tb_log "unknown host '$1' (A or B)"; return 1 ;;
    esac
}

# Checks that this machine can run the testbed; prints the reason if not.
tb_can_run() {
    [ "$(id -u)" = 0 ] || { echo "needs root (network namespaces, libvirtd)"; return 1; }
    local c
    for c in ip unshare nsenter libvirtd virtlogd virsh qemu-system-x86_64 cpio busybox flock ethtool; do
        command -v "$c" >/dev/null 2>&1 || { echo "missing $c (run scripts/setup-debian.sh)"; return 1; }
    done
    ip netns list >/dev/null 2>&1 || { echo "ip netns does not work here"; return 1; }
    return 0
}

tb_setup() {
    local hosts=${1:-A B} h ns two=0 i
    TB_HOSTS=$hosts
    TB_HOST_BRIDGE=$TB_BRIDGE
    [ "${TB_VFAILOVER:-0}" = 1 ] && TB_HOST_BRIDGE=$TB_PF
    _tb_created_ns=""
    _tb_created_dir=""
    # A suffix no other run uses (its namespaces and directory are free).
    for i in $(seq 1 20); do
        TB_SUFFIX=${TB_SUFFIX:-$(printf '%04x%02x' $(($$ % 65536)) $((RANDOM % 256)))}
        if [ ! -e "/run/netns/vfN-$TB_SUFFIX" ] && [ ! -e "/run/netns/vfA-$TB_SUFFIX" ] &&
           [ ! -e "/run/netns/vfB-$TB_SUFFIX" ] && [ ! -e "/tmp/vftb-$TB_SUFFIX" ]; then
            break
        fi
        TB_SUFFIX=""
    done
    [ -n "$TB_SUFFIX" ] || { _tb_log "no free run suffix"; return 1; }
    TB_NS_A=vfA-$TB_SUFFIX
    TB_NS_B=vfB-$TB_SUFFIX
    TB_NS_NET=vfN-$TB_SUFFIX
    _tb_mig_count=0
    if [ "${TB_TRAP:-1}" != 0 ]; then
        trap 'tb_teardown' EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
        trap 'exit 129' HUP
    fi
    if [ -z "${TB_DIR:-}" ]; then
        TB_DIR=/tmp/vftb-$TB_SUFFIX
        mkdir -m 0755 "$TB_DIR" || return 1
        _tb_created_dir=$TB_DIR
    else
        mkdir -p "$TB_DIR" || return 1
    fi
    _tb_log "run $TB_SUFFIX in $TB_DIR (namespaces $TB_NS_NET, $(for h in $hosts; do _tb_ns $h; done | tr '\n' ' '))"

    ip netns add "$TB_NS_NET" || return 1
    _tb_created_ns="$TB_NS_NET"
    ip -n "$TB_NS_NET" link set lo up
    ip -n "$TB_NS_NET" link add "$TB_BRIDGE" type bridge || return 1
    ip -n "$TB_NS_NET" addr add "$TB_PEER_IP/$TB_PREFIXLEN" dev "$TB_BRIDGE"
    # The traffic peer sends like a host on a real wire: full checksums.
    # With offload its UDP leaves with only the pseudo-header sum
    # (CHECKSUM_PARTIAL across the veths); QEMU's tap backends complete it,
    # a datapath reading the wire (vfailover-dp's af_packet uplink) cannot,
    # and the guest drops every such packet arriving on virtio.
    ip netns exec "$TB_NS_NET" ethtool -K "$TB_BRIDGE" tx off >/dev/null 2>&1 ||
        { _tb_log "cannot turn off checksum offload on the physical network's $TB_BRIDGE"; return 1; }
    ip -n "$TB_NS_NET" link set "$TB_BRIDGE" up
    for h in $hosts; do
        ns=$(_tb_ns "$h") || return 1
        ip netns add "$ns" || return 1
        _tb_created_ns="$_tb_created_ns $ns"
        ip -n "$ns" link set lo up
        ip -n "$ns" link add "$TB_HOST_BRIDGE" type bridge || return 1
        ip -n "$ns" link set "$TB_HOST_BRIDGE" up
        ip -n "$ns" link add up0 type veth peer name "h$h" netns "$TB_NS_NET" || return 1
        ip -n "$ns" link set up0 master "$TB_HOST_BRIDGE" up
        if [ "${TB_VFAILOVER:-0}" = 1 ]; then
            # vfailover-dp's uplink: a veth into the emulated PF (the
            # stand-in for the trusted VF / representor).
            ip -n "$ns" link add dpu0 type veth peer name dpp0 || return 1
            ip -n "$ns" link set dpp0 master "$TB_HOST_BRIDGE" up
            # A representor does not teach the embedded switch: the
            # datapath sending as the VM (virtio) must not move the VF's
            # steering entry (the kernel bridge moves even a static entry
            # on learning). What is not steered floods to it.
            ip netns exec "$ns" bridge link set dev dpp0 learning off
            ip -n "$ns" link set dpu0 up
        fi
        ip -n "$TB_NS_NET" link set "h$h" master "$TB_BRIDGE" up
    done
    case " $hosts " in
        *" A "*) case " $hosts " in *" B "*) two=1 ;; esac ;;
    esac
    case $two in
        1)
            ip -n "$TB_NS_A" link add mgmt0 type veth peer name mgmt0 netns "$TB_NS_B" || return 1
            ip -n "$TB_NS_A" addr add "$TB_ADDR_A/24" dev mgmt0
            ip -n "$TB_NS_B" addr add "$TB_ADDR_B/24" dev mgmt0
            ip -n "$TB_NS_A" link set mgmt0 up
            ip -n "$TB_NS_B" link set mgmt0 up
            ;;
        *)
            # One host: its management address lives on loopback (this
            # kernel has no dummy links).
            for h in $hosts; do
                ns=$(_tb_ns "$h")
                ip -n "$ns" addr add "$(_tb_addr "$h")/32" dev lo || return 1
            done
            ;;
    esac
    for h in $hosts; do
        tb_host_start "$h" || return 1
    done
}

# The private libvirt tree of a host (tests/lib/libvirt-host.sh's DIR:
# DIR/etc-libvirt is its /etc/libvirt, DIR/log-libvirt its /var/log/libvirt).
tb_host_dir() { echo "$TB_DIR/host$1"; }

_tb_setup_host() {
    local h=$1 dir=$2 ns addr c
    ns=$(_tb_ns "$h") || return 1
    addr=$(_tb_addr "$h") || return 1
    lvh_setup "$dir" "$ns" || return 1
    for c in 'listen_tls = 0' 'listen_tcp = 1' "listen_addr = \"$addr\"" 'auth_tcp = "none"' \
             "host_uuid = \"$(cat /proc/sys/kernel/random/uuid)\""; do
        lvh_conf "$dir" libvirtd.conf "$c"
    done
    # QEMU as root without relabelling: the guest image, console logs and
    # the sockets tests create are then reachable without chown games.
    for c in 'user = "root"' 'group = "root"' 'dynamic_ownership = 0' 'remember_owner = 0' \
             'security_driver = "none"' 'namespaces = [ ]' \
             "migration_address = \"$addr\"" "migration_host = \"$addr\""; do
        lvh_conf "$dir" qemu.conf "$c"
    done
    touch "$dir/tb-configured"
}

tb_host_start() {
    local h=$1 dir
    dir=$(tb_host_dir "$h")
    if [ ! -f "$dir/tb-configured" ]; then
        _tb_setup_host "$h" "$dir" || return 1
    fi
    if [ "${TB_VFAILOVER:-0}" = 1 ]; then
        _tb_vfo_configure "$h" "$dir" || return 1
    fi
    if declare -F tb_pre_start >/dev/null; then
        tb_pre_start "$h" "$dir" || return 1
    fi
    lvh_start "$dir" --listen || { _tb_log "host $h: libvirtd did not start (see $dir/log-libvirt/libvirtd.log)"; return 1; }
    tb_virsh_tcp "$h" version >/dev/null 2>&1 ||
        { _tb_log "host $h: libvirtd does not answer on qemu+tcp://$(_tb_addr "$h")/system"; return 1; }
    if [ "${TB_VFAILOVER:-0}" = 1 ]; then
        tb_vfo_start "$h" || return 1
    fi
}

# ---- vfailover on each host (TB_VFAILOVER=1 before tb_setup) ----
# Per host: vfailover-dp (one lcore, --no-huge -m 256, its own file prefix,
# uplink = af_packet on dpu0, whose veth peer dpp0 is a port of the
# emulated PF), vfailover-hookd (emulated VF backend; PF TB_PF = the host's
# bridge with uplink up0, TB_PF_VFS VFs = taps TB_PFv0..; datapath-port
# dpp0, where a re-plugged VF's frames are mirrored: TB_DATAPATH_PORT=''
# turns that off), and the libvirt hook. Both daemons run inside the
# host's namespaces with their default
# paths (/run/vfailover/..., private to the host; logs DIR/hookd.log and
# DIR/dp.log).
TB_HOOKD=${TB_HOOKD:-$_tb_top_builddir/hookd/vfailover-hookd}
TB_VFOCTL=${TB_VFOCTL:-$_tb_top_builddir/tools/vfailoverctl}
TB_HOOK=${TB_HOOK:-$_tb_top_builddir/libvirt-hooks/vfailover-hook}
TB_DP=${TB_DP:-$_tb_top_builddir/failover/dp/vfailover-dp}
TB_VFX_TOOL=${TB_VFX_TOOL:-$_tb_top_builddir/tests/xml/vfx-tool}
TB_VFO_CONF=/etc/vfailover/vfailover.conf   # inside a host (private)

# Prints why vfailover cannot run on the testbed, or nothing.
tb_vfo_can_run() {
    local f
    for f in "$TB_HOOKD" "$TB_VFOCTL" "$TB_HOOK" "$TB_DP" "$TB_VFX_TOOL"; do
        [ -x "$f" ] || { echo "not built: $f (./scripts/build.sh; make tests/xml/vfx-tool)"; return 1; }
    done
    command -v jq >/dev/null || { echo "jq not installed (scripts/setup-debian.sh)"; return 1; }
    return 0
}

_tb_vfo_configure() {
    local h=$1 dir=$2
    mkdir -p "$dir/run-vfailover/vhost" "$dir/lib-vfailover" || return 1
    chmod 0755 "$dir/run-vfailover" "$dir/run-vfailover/vhost"
    # Explicit private paths: the same whatever prefix the build was
    # configured with (make distcheck). libvirtd clears the hook's
    # environment: a wrapper hands it VFAILOVER_CONFIG.
    cat > "$dir/etc-vfailover/vfailover.conf" <<EOC
[hookd]
socket = /run/vfailover/hook.sock
ctl-socket = /run/vfailover/ctl.sock
state-dir = /var/lib/vfailover
vf-backend = emulated
hook-timeout-ms = ${TB_HOOK_TIMEOUT_MS:-20000}
log-level = info

[datapath]
ctl-socket = /run/vfailover/dp.sock
vhost-socket-dir = /run/vfailover/vhost

[pf:$TB_PF]
backend = emulated
num-vfs = ${TB_PF_VFS:-2}
uplink = up0
datapath-port = ${TB_DATAPATH_PORT-dpp0}
vf-model = $TB_VF_MODEL
EOC
    printf '#!/bin/sh\nVFAILOVER_CONFIG=%s exec %s "$@"\n' "$TB_VFO_CONF" \
        "$(cd "$(dirname "$TB_HOOK")" && pwd)/$(basename "$TB_HOOK")" > "$dir/hook-wrapper"
    chmod 0755 "$dir/hook-wrapper"
    lvh_install_hook "$dir" "$dir/hook-wrapper"
}

_tb_pid_alive() { local p; p=$(cat "$1" 2>/dev/null) && [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

# tb_vfo_start HOST: start the host's vfailover-dp and vfailover-hookd
# (unless running) and wait until both answer.
tb_vfo_start() {
    local h=$1 dir i
    dir=$(tb_host_dir "$h")
    if ! _tb_pid_alive "$dir/dp.pid"; then
        # nice -10: as the systemd units run them.
        lvh_bg "$dir" nice -n -10 "$TB_DP" -l 1 --no-huge -m 256 --file-prefix "vftb-$TB_SUFFIX-$h" --no-pci \
            -- --ctl /run/vfailover/dp.sock --uplink net_af_packet0,iface=dpu0,framecnt=4096 \
            --vhost-dir /run/vfailover/vhost --vhost-owner '' ${TB_DP_ARGS:-} >> "$dir/dp.log" 2>&1
        echo $! > "$dir/dp.pid"
        for i in $(seq 1 150); do
            [ -S "$dir/run-vfailover/dp.sock" ] && break
            _tb_pid_alive "$dir/dp.pid" || break
            sleep 0.1
        done
        [ -S "$dir/run-vfailover/dp.sock" ] ||
            { _tb_log "host $h: vfailover-dp did not start: $(tail -n 3 "$dir/dp.log")"; return 1; }
    fi
    if ! _tb_pid_alive "$dir/hookd.pid"; then
        lvh_bg "$dir" nice -n -10 "$TB_HOOKD" --config "$TB_VFO_CONF" --foreground --verbose >> "$dir/hookd.log" 2>&1
        echo $! > "$dir/hookd.pid"
        for i in $(seq 1 150); do
            tb_vfoctl "$h" status >/dev/null 2>&1 && break
            _tb_pid_alive "$dir/hookd.pid" || break
            sleep 0.1
        done
        tb_vfoctl "$h" status >/dev/null 2>&1 ||
            { _tb_log "host $h: vfailover-hookd did not start: $(tail -n 3 "$dir/hookd.log")"; return 1; }
    fi
}

# tb_vfo_stop HOST [DAEMON]: stop hookd and/or dp (hookd, dp; both by default).
tb_vfo_stop() {
    local h=$1 which=${2:-hookd dp} dir d
    dir=$(tb_host_dir "$h")
    for d in $which; do
        _tb_pid_alive "$dir/$d.pid" && _tb_kill_wait "$(cat "$dir/$d.pid")"
        rm -f "$dir/$d.pid"
    done
    case " $which " in *" dp "*) rm -rf "/run/dpdk/vftb-$TB_SUFFIX-$h" ;; esac
    return 0
}

# tb_vfoctl HOST ARGS...: vfailoverctl inside the host.
tb_vfoctl() {
    local h=$1
    shift
    tb_exec "$h" "$TB_VFOCTL" --config "$TB_VFO_CONF" "$@"
}

# tb_dp_call HOST JSON: one vfailover-dp control request inside the host.
tb_dp_call() {
    tb_exec "$1" "$_tb_top_builddir/tests/dp/dp-call" /run/vfailover/dp.sock "$2"
}

# tb_vfo_guest_xml NAME: the vfailover guest (native mode) on stdout: the
# annotated domain (pair ua-backup0, PF TB_PF), its standby a vhost-user
# interface served by vfailover-dp (/run/vfailover/vhost/NAME.sock, QEMU
# the client; memfd shared memory; vectors=0 against QEMU 7.2's TCG crash),
# and the VF stand-in (TB_VF_MODEL) on tap TB_VF_TAP (default TB_PFv0) in
# the definition, on its first free root port, with failover_pair_id,
# rendered by libvfxml (vfx-tool) as hookd would render it. Needs
# TB_GUEST_MAC.
tb_vfo_guest_xml() {
    local name=$1 tap=${TB_VF_TAP:-${TB_PF}v0} base dev ovr
    base=$TB_DIR/$name.novf.xml
    TB_GUEST_PRIMARY=0 TB_GUEST_SHARED_MEM=1 \
    TB_GUEST_METADATA="    <vfo:failover xmlns:vfo='http://vfailover.org/schemas/domain/1.0' version='1'>
      <vfo:pair alias='ua-backup0' mode='native'>
        <vfo:pf dev='$TB_PF'/>
      </vfo:pair>
    </vfo:failover>" \
    TB_GUEST_BACKUP_IF="    <interface type='vhostuser'>
      <mac address='@MAC@'/>
      <source type='unix' path='/run/vfailover/vhost/$name.sock' mode='client'>
        <reconnect enabled='yes' timeout='1'/>
      </source>
      <model type='virtio'/>
      <teaming type='persistent'/>
      <alias name='ua-backup0'/>
      <address type='pci' bus='1' slot='0' function='0'/>
    </interface>" \
    TB_GUEST_QEMU_DEVICES="    <qemu:device alias='ua-backup0'>
      <qemu:frontend>
        <qemu:property name='vectors' type='unsigned' value='0'/>
      </qemu:frontend>
    </qemu:device>" \
        tb_guest_xml "$name" > "$base" || return 1
    dev=$("$TB_VFX_TOOL" render "$base" ua-backup0 --tap "$tap" --model "$TB_VF_MODEL") || return 1
    ovr=$("$TB_VFX_TOOL" override "$base" ua-backup0) || return 1
    # Into <devices> before the serial port, into <qemu:override> at its end.
    awk -v dev="$dev" -v ovr="$ovr" '
        /<serial type=/ && !d { print dev; d = 1 }
        /<\/qemu:override>/ && !o { print ovr; o = 1 }
        { print }' "$base"
}

# tb_vfo_guest_start HOST NAME: create the vfailover guest (transient).
tb_vfo_guest_start() {
    local h=$1 name=$2 xml
    [ -n "${GUEST_KERNEL:-}" ] || tb_guest_image >/dev/null || return 1
    TB_GUEST_MAC=${TB_GUEST_MAC:-$(tb_random_mac)}
    xml=$TB_DIR/$name.xml
    tb_vfo_guest_xml "$name" > "$xml" || return 1
    : > "$(tb_console "$name")"
    tb_virsh "$h" create "$xml" >/dev/null
}

# tb_vfo_managed_guest_start HOST NAME: a managed-mode guest (pair
# ua-backup0, PF TB_PF; vhost-user standby as above, no VF in the
# definition: hookd hot-plugs one after the start).
tb_vfo_managed_guest_start() {
    local h=$1 name=$2 xml
    [ -n "${GUEST_KERNEL:-}" ] || tb_guest_image >/dev/null || return 1
    TB_GUEST_MAC=${TB_GUEST_MAC:-$(tb_random_mac)}
    xml=$TB_DIR/$name.xml
    TB_GUEST_PRIMARY=0 TB_GUEST_SHARED_MEM=1 \
    TB_GUEST_METADATA="    <vfo:failover xmlns:vfo='http://vfailover.org/schemas/domain/1.0' version='1'>
      <vfo:pair alias='ua-backup0' mode='managed'>
        <vfo:pf dev='$TB_PF'/>
      </vfo:pair>
    </vfo:failover>" \
    TB_GUEST_BACKUP_IF="    <interface type='vhostuser'>
      <mac address='@MAC@'/>
      <source type='unix' path='/run/vfailover/vhost/$name.sock' mode='client'>
        <reconnect enabled='yes' timeout='1'/>
      </source>
      <model type='virtio'/>
      <teaming type='persistent'/>
      <alias name='ua-backup0'/>
      <address type='pci' bus='1' slot='0' function='0'/>
    </interface>" \
    TB_GUEST_QEMU_DEVICES="    <qemu:device alias='ua-backup0'>
      <qemu:frontend>
        <qemu:property name='vectors' type='unsigned' value='0'/>
      </qemu:frontend>
    </qemu:device>" \
        tb_guest_xml "$name" > "$xml" || return 1
    : > "$(tb_console "$name")"
    tb_virsh "$h" create "$xml" >/dev/null
}

# tb_vfo_migrate_managed SRC DST NAME: vfailoverctl migrate --mode managed
# on SRC (a TB_MIGRATE_CMD).
tb_vfo_migrate_managed() {
    tb_exec "$1" timeout 180 "$TB_VFOCTL" --config "$TB_VFO_CONF" migrate "$3" \
        "qemu+tcp://$(_tb_addr "$2")/system" --mode managed
}

# tb_vfo_vfs HOST: the host's VFs as `PF INDEX STATE DOMAIN` lines.
tb_vfo_vfs() {
    tb_vfoctl "$1" --json vfs | jq -r '.vfs[] | "\(.pf) \(.vf) \(.state) \(.domain // "-")"'
}

# Kills PIDs (TERM, up to ~5 s, then KILL).
_tb_kill_wait() {
    local pids="$*" p i alive
    [ -n "$pids" ] || return 0
    kill $pids 2>/dev/null
    for i in $(seq 1 50); do
        alive=""
        for p in $pids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
        [ -z "$alive" ] && return 0
        sleep 0.1
    done
    kill -9 $alive 2>/dev/null
    sleep 0.2
}

tb_host_stop() {
    local h=$1 ns pids
    ns=$(_tb_ns "$h") || return 0
    lvh_stop "$(tb_host_dir "$h")"
    # Anything else still running in the host's network namespace (daemons
    # a test started there) was started by this run.
    if [ -e "/run/netns/$ns" ]; then
        pids=$(ip netns pids "$ns" 2>/dev/null)
        _tb_kill_wait $pids
    fi
}

tb_teardown() {
    local h ns pids rc=$?
    trap - EXIT INT TERM HUP
    [ -n "${TB_SUFFIX:-}" ] || return 0
    # The caller's own cleanup first (stop its daemons, save logs).
    if declare -F tb_pre_teardown >/dev/null; then
        tb_pre_teardown || true
    fi
    _tb_report_oopses
    # Only what this run created: a run that failed to start never touches
    # another run's namespaces.
    for h in ${TB_HOSTS:-}; do
        case " ${_tb_created_ns:-} " in
            *" $(_tb_ns "$h") "*) tb_host_stop "$h"; tb_vfo_stop "$h" ;;
        esac
    done
    for ns in ${_tb_created_ns:-}; do
        [ -e "/run/netns/$ns" ] || continue
        pids=$(ip netns pids "$ns" 2>/dev/null)
        _tb_kill_wait $pids
        ip netns del "$ns" 2>/dev/null
    done
    if [ "${TB_KEEP:-0}" = 1 ]; then
        _tb_log "kept $TB_DIR"
    elif [ -n "${_tb_created_dir:-}" ] && [ -d "$_tb_created_dir" ]; then
        rm -rf "$_tb_created_dir"
    fi
    [ -n "${_tb_created_dir:-}" ] && TB_DIR=""
    _tb_created_ns=""
    _tb_created_dir=""
    TB_SUFFIX=""
    return $rc
}

# Runs a command inside a host (its network namespace and the private mount
# namespace of its libvirtd) or, for NET, in the physical network.
tb_exec() {
    local h=$1
    shift
    if [ "$h" = NET ] || [ "$h" = N ]; then
        ip netns exec "$TB_NS_NET" "$@"
        return
    fi
    _tb_addr "$h" >/dev/null || return 1
    lvh_exec "$(tb_host_dir "$h")" "$@"
}

# virsh against a host's libvirtd (its unix socket, inside the host).
tb_virsh() {
    _tb_addr "$1" >/dev/null || return 1
    local dir
    dir=$(tb_host_dir "$1")
    shift
    lvh_virsh "$dir" "$@"
}

# The same over TCP, the way the other host reaches it.
tb_virsh_tcp() {
    local h=$1
    shift
    ip netns exec "$(_tb_ns "$h")" virsh -q -c "qemu+tcp://$(_tb_addr "$h")/system" "$@"
}

tb_guest_image() {
    # shellcheck source=tests/lib/guest-image.sh
    . "$_tb_top_srcdir/tests/lib/guest-image.sh"
    local stream=""
    [ -x "$TB_STREAM_STATIC" ] && stream=$TB_STREAM_STATIC
    guest_image_build "${TB_GUEST_IMAGE_DIR:-$_tb_top_builddir/tests/e2e/guest-image}" "$stream"
}

tb_console() { echo "$TB_DIR/$1.console"; }

# A random locally administered MAC in QEMU's 52:54:00 range.
tb_random_mac() {
    printf '52:54:00:%02x:%02x:%02x\n' $((RANDOM % 256)) $((RANDOM % 256)) $((RANDOM % 256))
}

# tb_guest_xml NAME: the test guest's domain XML. Environment:
#   TB_GUEST_MAC          the pair's MAC (default: random)
#   TB_GUEST_MEM          MiB (default 192)
#   TB_GUEST_PRIMARY=0    no QEMU-failover primary (TB_VF_MODEL) (e.g. when the VF
#                         is hot-plugged by vfailover)
#   TB_GUEST_SHARED_MEM=1 memfd + shared memory (needed for vhost-user)
#   TB_GUEST_BACKUP_IF    replaces the standby <interface> (virtio on br0,
#                         alias ua-backup0); @MAC@ is replaced by the MAC
#   TB_GUEST_DEVICES      more XML inside <devices>
#   TB_GUEST_METADATA     XML inside <metadata> (vfailover's annotations)
#   TB_GUEST_QEMU_DEVICES more <qemu:device> elements for <qemu:override>
tb_guest_xml() {
    local name=$1
    local mac=${TB_GUEST_MAC:-$(tb_random_mac)}
    local mem=${TB_GUEST_MEM:-192} primary=${TB_GUEST_PRIMARY:-1}
    echo "<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>"
    echo "  <name>$name</name>"
    [ -n "${TB_GUEST_METADATA:-}" ] && printf '  <metadata>\n%s\n  </metadata>\n' "$TB_GUEST_METADATA"
    echo "  <memory unit='MiB'>$mem</memory>"
    [ "${TB_GUEST_SHARED_MEM:-0}" = 1 ] &&
        echo "  <memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>"
    cat <<EOF
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>$GUEST_KERNEL</kernel>
    <initrd>$GUEST_INITRD</initrd>
    <cmdline>console=ttyS0 panic=-1 vf.ip=$TB_GUEST_IP/$TB_PREFIXLEN vf.port=$TB_STREAM_PORT${TB_GUEST_CMDLINE:+ $TB_GUEST_CMDLINE}</cmdline>
  </os>
  <features><acpi/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <controller type='usb' model='none'/>
    <controller type='pci' model='pcie-root'/>
    <controller type='pci' index='1' model='pcie-root-port'/>
    <controller type='pci' index='2' model='pcie-root-port'/>
    <controller type='pci' index='3' model='pcie-root-port'/>
    <controller type='pci' index='4' model='pcie-root-port'/>
    <controller type='pci' index='5' model='pcie-root-port'/>
EOF
    if [ -n "${TB_GUEST_BACKUP_IF:-}" ]; then
        printf '%s\n' "${TB_GUEST_BACKUP_IF//@MAC@/$mac}"
    else
        cat <<EOF
    <interface type='bridge'>
      <mac address='$mac'/>
      <source bridge='$TB_HOST_BRIDGE'/>
      <model type='virtio'/>
      <teaming type='persistent'/>
      <alias name='ua-backup0'/>
      <address type='pci' bus='1' slot='0' function='0'/>
    </interface>
EOF
    fi
    if [ "$primary" = 1 ]; then
        cat <<EOF
    <interface type='bridge'>
      <mac address='$mac'/>
      <source bridge='$TB_HOST_BRIDGE'/>
      <model type='$TB_VF_MODEL'/>
      <rom enabled='no'/>
      <alias name='ua-vf0'/>
      <address type='pci' bus='2' slot='0' function='0'/>
    </interface>
EOF
    fi
    [ -n "${TB_GUEST_DEVICES:-}" ] && printf '%s\n' "$TB_GUEST_DEVICES"
    cat <<EOF
    <serial type='file'>
      <source path='$(tb_console "$name")' append='on'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
EOF
    if [ "$primary" = 1 ] || [ -n "${TB_GUEST_QEMU_DEVICES:-}" ]; then
        echo "  <qemu:override>"
        [ "$primary" = 1 ] && cat <<EOF
    <qemu:device alias='ua-vf0'>
      <qemu:frontend>
        <qemu:property name='failover_pair_id' type='string' value='ua-backup0'/>
      </qemu:frontend>
    </qemu:device>
EOF
        [ -n "${TB_GUEST_QEMU_DEVICES:-}" ] && printf '%s\n' "$TB_GUEST_QEMU_DEVICES"
        echo "  </qemu:override>"
    fi
    echo "</domain>"
}

tb_guest_start() {
    local h=$1 name=$2 xml
    [ -n "${GUEST_KERNEL:-}" ] || tb_guest_image || return 1
    TB_GUEST_MAC=${TB_GUEST_MAC:-$(tb_random_mac)}
    xml=$TB_DIR/$name.xml
    tb_guest_xml "$name" > "$xml" || return 1
    : > "$(tb_console "$name")"
    tb_virsh "$h" create "$xml" >/dev/null
}

# tb_wait_console NAME ERE [TIMEOUT_S] [FROM_LINE]: waits until a console
# line after line FROM_LINE matches; prints the match.
tb_wait_console() {
    local name=$1 re=$2 timeout=${3:-180} from=${4:-0} log end
    log=$(tb_console "$name")
    end=$(( $(date +%s) + timeout ))
    while [ "$(date +%s)" -lt "$end" ]; do
        if [ -f "$log" ] && tail -n +"$((from + 1))" "$log" | tr -d '\r' | grep -aE -m1 -- "$re"; then
            return 0
        fi
        sleep 0.25
    done
    _tb_log "guest $name: no console line matching '$re' within ${timeout}s"
    return 1
}

tb_console_lines() { local f; f=$(tb_console "$1"); [ -f "$f" ] && wc -l < "$f" || echo 0; }

# The first line of a kernel oops report on NAME's console.
tb_guest_oops() {
    grep -a -m1 -E 'general protection fault|Kernel panic|BUG: |Oops: |invalid opcode: ' \
        "$(tb_console "$1")" 2>/dev/null | tr -d '\r'
}

tb_note_migrated() { echo "$1" >> "$TB_DIR/migrated"; }

# tb_guest_tx_drops NAME [FROM_LINE]: the IPv4 packets the guest's own
# kernel dropped while the stream reflector sent them (a kfree_skb whose
# stack holds udp_sendmsg and no receive path), from the guest's console
# after FROM_LINE; needs the guest booted with vf.trace=stack
# (TB_GUEST_CMDLINE). Prints "N" and, when N > 0, the dropping functions
# with their counts and any reason but NOT_SPECIFIED ("3 e1000_xmit_frame:2,
# __dev_queue_xmit/QDISC_DROP:1"). Such a packet never left the
# guest: no host saw it.
tb_guest_tx_drops() {
    local from=${2:-0}
    tail -n +"$((from + 1))" "$(tb_console "$1")" 2>/dev/null | tr -d '\r' | awk '
        function flush() {
            if (ev && tx == 1) { n++; by[fn]++ }
            ev = 0; tx = 0; fn = "?"
        }
        /vf-guest: drop .*kfree_skb: / {
            flush()
            ev = ($0 ~ /vf-guest: drop vf-stream-[0-9]+ / && $0 ~ /protocol=2048 /)
            reason = $0; sub(/.*reason: */, "", reason); sub(/[ \r].*/, "", reason)
            next
        }
        ev && match($0, /vf-guest: drop => [A-Za-z0-9_.]+/) {
            f = substr($0, RSTART + 18, RLENGTH - 18)
            if (f == "udp_sendmsg" && tx == 0) tx = 1
            # Received and dropped in softirq work run inside the send.
            if (f ~ /^(net_rx_action|__netif_receive_skb|__netif_receive_skb_core)/) tx = -1
            if (fn == "?" && f != "trace_event_raw_event_kfree_skb" && f != "kfree_skb_reason" &&
                f != "kfree_skb" && f != "kfree_skb_list_reason")
                fn = f (reason == "NOT_SPECIFIED" ? "" : "/" reason)
        }
        END {
            flush()
            printf "%d", n
            sep = " "
            for (f in by) { printf "%s%s:%d", sep, f, by[f]; sep = "," }
            print ""
        }'
}

# QEMU before 9.0 loses guest writes during a live migration under TCG: the
# fast path of its dirty-bitmap sync clears the migration's dirty bits
# without resetting the TCG TLB, so the vCPU's later stores through cached
# TLB entries mark nothing dirty and the destination gets stale pages
# (upstream fix "physmem: Fix migration dirty bitmap coherency with TCG
# memory access", QEMU 9.0; not in Debian 12's 7.2.x). KVM is not affected.
_tb_qemu_version() {
    qemu-system-x86_64 --version 2>/dev/null | sed -n '1s/^QEMU emulator version \([0-9][^ ]*\).*/\1/p'
}
_tb_qemu_loses_tcg_writes() {
    local v
    v=$(_tb_qemu_version)
    [ -n "$v" ] && [ "${v%%.*}" -lt 9 ]
}

# Teardown: a TAP diagnostic for each guest whose kernel oopsed; one that
# had been migrated under an affected QEMU is noted in VFAILOVER_RERUN_MARK.
_tb_report_oopses() {
    local c name line
    [ -n "${TB_DIR:-}" ] && [ -d "$TB_DIR" ] || return 0
    for c in "$TB_DIR"/*.console; do
        [ -f "$c" ] || continue
        name=$(basename "$c" .console)
        line=$(tb_guest_oops "$name")
        [ -n "$line" ] || continue
        if grep -qxF -- "$name" "$TB_DIR/migrated" 2>/dev/null && _tb_qemu_loses_tcg_writes; then
            echo "# testbed: guest $name: kernel oops after a live migration: $line"
            echo "#   (QEMU $(_tb_qemu_version) under TCG loses guest writes while migrating: doc/testbed.md)"
            [ -n "${VFAILOVER_RERUN_MARK:-}" ] && echo "$name: $line" >> "$VFAILOVER_RERUN_MARK"
        else
            echo "# testbed: guest $name: kernel oops: $line"
        fi
    done
    return 0
}

# Prints the "at SECONDS" timestamp of the first QEMU monitor event EVENT for
# domain NAME in a `virsh qemu-monitor-event` log.
_tb_event_time() {
    local file=$1 event=$2 name=$3
    sed -n "s/^event $event at \([0-9.]*\) for domain '\?$name'\?:.*/\1/p" "$file" | head -n1
}

tb_migrate() {
    local src=$1 dst=$2 name=$3 base srcpid dstpid rc t0 t1 stop resume
    shift 3
    _tb_mig_count=$((_tb_mig_count + 1))
    base=$TB_DIR/$name.mig.$_tb_mig_count
    tb_note_migrated "$name"
    # QEMU's own event timestamps (host realtime) mark the stop-and-copy
    # window: STOP on the source, RESUME on the destination.
    ip netns exec "$(_tb_ns "$src")" virsh -c "qemu+tcp://$(_tb_addr "$src")/system" \
        qemu-monitor-event --loop > "$base.src-events" 2>&1 &
    srcpid=$!
    # The same with the time virsh received each event (ms; --timestamp
    # replaces QEMU's): libvirt's delivery delay, apart from hookd's own
    # (its timeline notes the event with QEMU's time and its own).
    ip netns exec "$(_tb_ns "$src")" virsh -c "qemu+tcp://$(_tb_addr "$src")/system" \
        qemu-monitor-event --loop --timestamp > "$base.src-events-rx" 2>&1 &
    srcpid="$srcpid $!"
    ip netns exec "$(_tb_ns "$dst")" virsh -c "qemu+tcp://$(_tb_addr "$dst")/system" \
        qemu-monitor-event --loop > "$base.dst-events" 2>&1 &
    dstpid=$!
    sleep 1
    t0=$(date +%s.%N)
    if [ -n "${TB_MIGRATE_CMD:-}" ]; then
        # Another migration driver (e.g. vfailoverctl migrate --mode
        # managed); it bounds its own time.
        "$TB_MIGRATE_CMD" "$src" "$dst" "$name" "$@" > "$base.log" 2>&1
    else
        timeout 180 ip netns exec "$(_tb_ns "$src")" virsh -c "qemu+tcp://$(_tb_addr "$src")/system" \
            migrate --live --p2p "$@" "$name" "qemu+tcp://$(_tb_addr "$dst")/system" > "$base.log" 2>&1
    fi
    rc=$?
    t1=$(date +%s.%N)
    sleep 0.5
    kill $srcpid "$dstpid" 2>/dev/null
    wait $srcpid "$dstpid" 2>/dev/null
    TB_MIG_TOTAL_MS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
    tb_virsh "$dst" domjobinfo --completed "$name" > "$base.jobinfo" 2>&1 ||
        tb_virsh "$src" domjobinfo --completed "$name" > "$base.jobinfo" 2>&1
    TB_MIG_DOWNTIME_MS=$(sed -n 's/^Total downtime: *\([0-9]*\) *ms.*/\1/p' "$base.jobinfo" | head -n1)
    stop=$(_tb_event_time "$base.src-events" STOP "$name")
    resume=$(_tb_event_time "$base.dst-events" RESUME "$name")
    # A listener that registered too late (a loaded machine) missed its
    # event: derive that end from the other one and QEMU's downtime.
    if [ -n "$TB_MIG_DOWNTIME_MS" ]; then
        [ -z "$stop" ] && [ -n "$resume" ] &&
            stop=$(awk -v r="$resume" -v d="$TB_MIG_DOWNTIME_MS" 'BEGIN { printf "%.6f", r - d / 1000 }')
        [ -n "$stop" ] && [ -z "$resume" ] &&
            resume=$(awk -v s="$stop" -v d="$TB_MIG_DOWNTIME_MS" 'BEGIN { printf "%.6f", s + d / 1000 }')
    fi
    TB_MIG_WINDOW=""
    [ -n "$stop" ] && [ -n "$resume" ] && TB_MIG_WINDOW="$stop $resume"
    echo "${TB_MIG_WINDOW:-}" > "$base.window"
    if [ $rc != 0 ]; then
        _tb_log "migration of $name $src->$dst failed: $(tail -n 3 "$base.log")"
        return 1
    fi
    return 0
}

# tb_wait_guest_ready NAME [TIMEOUT] [FROM_LINE]: waits (console lines after
# FROM_LINE) until the failover master is up and, for a guest with a
# primary (TB_GUEST_PRIMARY=1, the default), the primary is enslaved and its
# link is up: only then does the host bridge steer the guest's MAC to the
# primary's port, where the guest listens. Prints the primary's name.
tb_wait_guest_ready() {
    local name=$1 timeout=${2:-240} from=${3:-0} line primary
    if [ "$from" = 0 ]; then
        tb_wait_console "$name" 'vf-guest: link eth0 up' "$timeout" >/dev/null || return 1
    fi
    [ "${TB_WAIT_PRIMARY:-${TB_GUEST_PRIMARY:-1}}" = 1 ] || return 0
    line=$(tb_wait_console "$name" 'vf-guest: slaves .* primary=eth[0-9]+' "$timeout" "$from") || return 1
    primary=$(echo "$line" | sed -n 's/.* primary=\(eth[0-9]*\).*/\1/p')
    tb_wait_console "$name" "vf-guest: link $primary up" "$timeout" "$from" >/dev/null || return 1
    echo "$primary"
}

# tb_stream_migrate SRC DST NAME [LABEL [VIRSH_MIGRATE_ARGS...]]: runs the
# vf-stream between the physical network's peer and the guest around one
# live migration: stream flowing (TB_STREAM_LEAD s, default 2), migrate,
# wait until the guest's primary is back and up on the destination (when
# the guest has one, or TB_WAIT_PRIMARY=1), TB_STREAM_TAIL more seconds
# (default 3), then stop
# and analyse with QEMU's STOP..RESUME window. Prints vf-stream's output
# (gap lines, then the result line) and sets TB_STREAM_RESULT to it; the
# raw record stays in $TB_DIR/NAME.stream.N.raw (with vfailover, both
# hookd's pairs JSON in NAME.stream.N.src-pairs and .dst-pairs). Fails if the migration
# failed. Functions named by TB_BEFORE_MIGRATE / TB_AFTER_MIGRATE are
# called with SRC DST NAME just before / after the migration (e.g. the
# managed mode's VF detach and re-attach).
tb_stream_migrate() {
    local src=$1 dst=$2 name=$3 label=${4:-$1->$2} base pid from rc i drops
    shift 3
    [ $# -gt 0 ] && shift
    base=$TB_DIR/$name.stream.$((_tb_mig_count + 1))
    rm -f "$base.ready"
    # The forward path must work before the stream starts: otherwise loss
    # from an earlier event (a primary link still coming up) is counted.
    for i in $(seq 1 30); do
        ip netns exec "$TB_NS_NET" ping -c 1 -W 1 "$TB_GUEST_IP" >/dev/null 2>&1 && break
    done
    ip netns exec "$TB_NS_NET" "$TB_STREAM" peer --to "$TB_GUEST_IP:$TB_STREAM_PORT" \
        --rate "${TB_STREAM_RATE:-100}" --raw "$base.raw" --ready-file "$base.ready" \
        --label "$label" > "$base.out" 2> "$base.err" &
    pid=$!
    for i in $(seq 1 200); do
        [ -e "$base.ready" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if [ ! -e "$base.ready" ]; then
        _tb_log "guest $name: the stream does not flow before migrating (see $base.err)"
        kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
        TB_STREAM_RESULT=""
        return 1
    fi
    sleep "${TB_STREAM_LEAD:-2}"
    from=$(tb_console_lines "$name")
    rc=0
    if [ -n "${TB_BEFORE_MIGRATE:-}" ]; then
        "$TB_BEFORE_MIGRATE" "$src" "$dst" "$name" || rc=1
    fi
    [ $rc = 0 ] && { tb_migrate "$src" "$dst" "$name" "$@"; rc=$?; }
    if [ $rc = 0 ] && [ -n "${TB_AFTER_MIGRATE:-}" ]; then
        "$TB_AFTER_MIGRATE" "$src" "$dst" "$name" || rc=1
    fi
    [ $rc = 0 ] && tb_wait_guest_ready "$name" 60 "$from" >/dev/null
    sleep "${TB_STREAM_TAIL:-3}"
    kill -TERM "$pid" 2>/dev/null
    wait "$pid"
    echo "${TB_MIG_WINDOW:-}" > "$base.window"
    # Both hosts' hookd timelines (µs timestamps; the source keeps the
    # released domain's), to line up with the lost packets' times.
    if [ "${TB_VFAILOVER:-0}" = 1 ]; then
        tb_vfoctl "$src" --json pairs "$name" > "$base.src-pairs" 2>&1
        tb_vfoctl "$dst" --json pairs "$name" > "$base.dst-pairs" 2>&1
    fi
    TB_STREAM_RESULT=$("$TB_STREAM" analyze --raw "$base.raw" --label "$label" \
                         --window-file "$base.window" --gaps 2>&1)
    # The guest's own drops of its packets (they never reached a host).
    case " ${TB_GUEST_CMDLINE:-} " in
        *" vf.trace=stack "*)
            drops=$(tb_guest_tx_drops "$name" "$from")
            [ "${drops%% *}" != 0 ] &&
                TB_STREAM_RESULT="vf-stream: the guest's kernel dropped ${drops%% *} of its packets: ${drops#* }
$TB_STREAM_RESULT"
            TB_STREAM_RESULT=$(echo "$TB_STREAM_RESULT" | sed "/^vf-stream: label=/s/\$/ rev_dropped_in_guest=${drops%% *}/") ;;
    esac
    echo "$TB_STREAM_RESULT"
    return $rc
}

# The VF stand-in (TB_VF_MODEL) as a hot-pluggable device: same MAC as the
# standby (the guest's net_failover pairs it by MAC), alias ua-vf0, no
# option ROM, on root port 2 (free in a guest without a primary; libvirt
# 9.0 would put a vmxnet3 on conventional PCI, where q35 has no hot-plug).
tb_vf_xml() {
    cat <<EOF
<interface type='bridge'>
  <mac address='$TB_GUEST_MAC'/>
  <source bridge='$TB_HOST_BRIDGE'/>
  <model type='$TB_VF_MODEL'/>
  <rom enabled='no'/>
  <alias name='ua-vf0'/>
  <address type='pci' bus='2' slot='0' function='0'/>
</interface>
EOF
}

# tb_vf_attach HOST NAME: hot-plug the stand-in VF (managed mode, no QEMU
# failover); tb_vf_detach HOST NAME: unplug it and wait until the guest
# released it (bounded: 60 s).
tb_vf_attach() {
    tb_vf_xml > "$TB_DIR/$2.vf.xml"
    tb_virsh "$1" attach-device "$2" "$TB_DIR/$2.vf.xml" --live >/dev/null
}

tb_vf_detach() {
    local i
    tb_virsh "$1" detach-device-alias "$2" ua-vf0 --live >/dev/null || return 1
    for i in $(seq 1 600); do
        tb_virsh "$1" dumpxml "$2" 2>/dev/null | grep -q "alias name='ua-vf0'" || return 0
        sleep 0.1
    done
    _tb_log "guest $2: the VF was not released within 60 s"
    return 1
}

# tb_result KEY [RESULT]: one value of a vf-stream result line.
tb_result() {
    echo "${2:-$TB_STREAM_RESULT}" | grep '^vf-stream: label=' | sed -n "s/.* $1=\([^ ]*\).*/\1/p" | head -n1
}

# tb_unplug_heard_ms NAME [N]: how long after QEMU emitted UNPLUG_PRIMARY
# the source's hookd noted it, in whole ms, for streamed migration N
# (default: the last), from NAME.stream.N.src-pairs; empty if unknown. The
# guest's VF driver may begin its remove 15-20 ms after QEMU's request, and
# the frames still steered to the VF then are lost (doc/testbed.md, "Known
# loss"): the e2e test lets a native migration whose event came over 10 ms
# late lose them.
tb_unplug_heard_ms() {
    local n=${2:-$_tb_mig_count}
    jq -r '[.domains[] | select(.released) | .timeline[] |
            select(.what | startswith("qemu UNPLUG_PRIMARY ")) |
            ((.at_us / 1000) - ((.what | capture("\\(at (?<t>[0-9.]+)\\)").t | tonumber) * 1000))] |
           last // empty | floor' "$TB_DIR/$1.stream.$n.src-pairs" 2>/dev/null
}

# tb_lost_outside_not_in_guest [RESULT]: lost_outside less the guest-to-peer
# packets the guest's own kernel dropped (at most its rev_lost_outside).
tb_lost_outside_not_in_guest() {
    local r=${1:-$TB_STREAM_RESULT} o g ro
    o=$(tb_result lost_outside "$r")
    g=$(tb_result rev_dropped_in_guest "$r")
    ro=$(tb_result rev_lost_outside "$r")
    g=${g:-0}
    [ "$g" -gt "${ro:-0}" ] && g=${ro:-0}
    echo $((${o:-0} - g))
}

tb_loss_table_header() {
    printf '%-10s %8s %8s %8s %8s %8s %8s %10s %10s %9s %9s %9s\n' migration fwd_sent fwd_lost \
        rev_sent rev_lost lost_out in_guest fwd_gap_ms rev_gap_ms window_ms downtime migrate_ms
}

# tb_loss_table_row [RESULT]: after tb_stream_migrate.
tb_loss_table_row() {
    local r=${1:-$TB_STREAM_RESULT}
    local g
    g=$(tb_result rev_dropped_in_guest "$r")
    printf '%-10s %8s %8s %8s %8s %8s %8s %10s %10s %9s %9s %9s\n' "$(tb_result label "$r")" \
        "$(tb_result fwd_sent "$r")" "$(tb_result fwd_lost "$r")" "$(tb_result rev_sent "$r")" \
        "$(tb_result rev_lost "$r")" "$(tb_result lost_outside "$r")" "${g:--}" \
        "$(tb_result fwd_longest_gap_ms "$r")" "$(tb_result rev_longest_gap_ms "$r")" \
        "$(tb_result window_ms "$r")" "${TB_MIG_DOWNTIME_MS:--}" "${TB_MIG_TOTAL_MS:--}"
}
