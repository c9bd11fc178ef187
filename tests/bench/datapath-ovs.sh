# OVS-DPDK as a contender in tests/bench/datapath (sourced by it, after
# tests/dp/lib.sh and after DP_TMP/DP_NS are set). Everything is private:
# an ovsdb-server on a database made with ovsdb-tool in $DP_TMP/ovs, an
# ovs-vswitchd-dpdk (openvswitch-switch-dpdk) with its own run directory,
# DPDK --file-prefix "$DP_NS-ovs" and, for the netdev bridge's internal
# tap, the private network namespace $DP_NS. A system OVS is never used.
# The bridge has two dpdkvhostuser ports, "vm" and "up": like testpmd and
# vfailover-dp, OVS is the vhost-user server and the generator's two
# virtio-user ports connect to $OVS_DIR/vm and $OVS_DIR/up.
# OVS_FLOW=normal uses actions=NORMAL instead of in_port->output flows.

OVS_VSWITCHD=${OVS_VSWITCHD:-/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk}
OVS_SCHEMA=${OVS_SCHEMA:-/usr/share/openvswitch/vswitch.ovsschema}
OVS_DIR=
OVS_BR=vfb$$
OVS_BR=${OVS_BR:0:15}

# ovs_off REASON: OVS is not compared in this run; the reason is printed
# once as a comment line by the caller (ovs_reason).
ovs_off() {
    [ -s "$DP_TMP/ovs.off" ] || echo "$1" > "$DP_TMP/ovs.off"
}
ovs_reason() { cat "$DP_TMP/ovs.off" 2>/dev/null; }
ovs_usable() { [ ! -s "$DP_TMP/ovs.off" ]; }

ovs_vsctl() { ovs-vsctl --db="unix:$OVS_DIR/db.sock" --timeout=20 "$@"; }

# ovs_kill PIDFILE: stop the process named in one of our pid files.
ovs_kill() {
    local pid
    pid=$(cat "$1" 2>/dev/null) || return 0
    case $(cat "/proc/$pid/comm" 2>/dev/null) in
        ovs*) ;;
        *) return 0 ;;
    esac
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
}

ovs_cleanup() {
    [ -n "$OVS_DIR" ] || return 0
    ovs_kill "$OVS_DIR/ovs-vswitchd.pid"
    ovs_kill "$OVS_DIR/ovsdb-server.pid"
}

# ovs_init: check the tools, start the private ovsdb-server and describe the
# bridge in it (ovs-vswitchd itself runs only during OVS rounds: its PMD
# busy-polls CPU 1 even without traffic).
ovs_init() {
    local t
    [ -n "${DATAPATH_NO_OVS:-}" ] && { ovs_off "OVS-DPDK not compared: DATAPATH_NO_OVS is set"; return 1; }
    [ -x "$OVS_VSWITCHD" ] || {
        ovs_off "OVS-DPDK not compared: $OVS_VSWITCHD missing (Debian: apt-get install openvswitch-switch-dpdk)"
        return 1
    }
    for t in ovsdb-tool ovsdb-server ovs-vsctl ovs-ofctl taskset; do
        command -v "$t" >/dev/null || { ovs_off "OVS-DPDK not compared: $t missing"; return 1; }
    done
    [ -r "$OVS_SCHEMA" ] || { ovs_off "OVS-DPDK not compared: $OVS_SCHEMA missing"; return 1; }
    OVS_DIR=$DP_TMP/ovs
    mkdir -p "$OVS_DIR"
    ovsdb-tool create "$OVS_DIR/conf.db" "$OVS_SCHEMA" > "$OVS_DIR/ovsdb-tool.log" 2>&1 ||
        { ovs_off "OVS-DPDK not compared: ovsdb-tool create failed: $(tail -1 "$OVS_DIR/ovsdb-tool.log")"; return 1; }
    ovsdb-server "$OVS_DIR/conf.db" --remote="punix:$OVS_DIR/db.sock" \
        --pidfile="$OVS_DIR/ovsdb-server.pid" --unixctl="$OVS_DIR/ovsdb-server.ctl" \
        --log-file="$OVS_DIR/ovsdb-server.log" --no-chdir > "$OVS_DIR/ovsdb-server.out" 2>&1 &
    for _ in $(seq 100); do [ -S "$OVS_DIR/db.sock" ] && break; sleep 0.1; done
    [ -S "$OVS_DIR/db.sock" ] ||
        { ovs_off "OVS-DPDK not compared: ovsdb-server did not start: $(tail -1 "$OVS_DIR/ovsdb-server.out")"; return 1; }
    ip netns add "$DP_NS" 2>/dev/null
    # Recipe of TESTING.md: no hugepages here; --legacy-mem keeps -m in
    # one piece. per-port-memory sizes each port's mbuf pool for its queues
    # instead of OVS's shared 262144-mbuf pool, whose first use (touching
    # ~1 GB of anonymous memory) stalls the first guest connection ~5 s.
    ovs_vsctl --no-wait init -- set Open_vSwitch . \
        other_config:dpdk-init=true \
        other_config:dpdk-extra="--no-huge -m 2048 --legacy-mem --file-prefix $DP_NS-ovs --no-pci" \
        other_config:pmd-cpu-mask=0x2 other_config:per-port-memory=true \
        -- add-br "$OVS_BR" -- set Bridge "$OVS_BR" datapath_type=netdev \
        -- add-port "$OVS_BR" vm -- set Interface vm type=dpdkvhostuser ofport_request=1 \
        -- add-port "$OVS_BR" up -- set Interface up type=dpdkvhostuser ofport_request=2 \
        > "$OVS_DIR/vsctl.log" 2>&1 ||
        { ovs_off "OVS-DPDK not compared: ovs-vsctl failed: $(tail -1 "$OVS_DIR/vsctl.log")"; return 1; }
    return 0
}

# run_ovs NAME: start ovs-vswitchd on CPU 1 (all its threads; one PMD),
# install the flows, run the generator, stop ovs-vswitchd. Prints the run's
# median Mpps (0 when OVS is off).
run_ovs() {
    local name=$1 pid ofc=unix:$OVS_DIR/$OVS_BR.mgmt ok=
    ovs_usable || { echo 0; return; }
    ip netns exec "$DP_NS" env OVS_RUNDIR="$OVS_DIR" OVS_DBDIR="$OVS_DIR" OVS_LOGDIR="$OVS_DIR" \
        OVS_SYSCONFDIR="$OVS_DIR" taskset -c 1 "$OVS_VSWITCHD" "unix:$OVS_DIR/db.sock" \
        --pidfile="$OVS_DIR/ovs-vswitchd.pid" --unixctl="$OVS_DIR/ovs-vswitchd.ctl" \
        --log-file="$OVS_DIR/ovs-vswitchd-$name.log" --no-chdir > "$OVS_DIR/ovs-vswitchd-$name.out" 2>&1 &
    pid=$!
    for _ in $(seq 300); do
        [ -S "$OVS_DIR/$OVS_BR.mgmt" ] && [ -S "$OVS_DIR/vm" ] && [ -S "$OVS_DIR/up" ] && { ok=1; break; }
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$ok" ]; then
        ovs_off "OVS-DPDK not compared: ovs-vswitchd-dpdk did not bring up its vhost-user ports: $(grep -h -E 'ERR|EMER' "$OVS_DIR/ovs-vswitchd-$name.log" "$OVS_DIR/ovs-vswitchd-$name.out" 2>/dev/null | tail -1)"
        ovs_kill "$OVS_DIR/ovs-vswitchd.pid"
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        echo 0
        return
    fi
    ovs-ofctl del-flows "$ofc" &&
        if [ "${OVS_FLOW:-port}" = normal ]; then
            ovs-ofctl add-flow "$ofc" actions=NORMAL
        else
            ovs-ofctl add-flow "$ofc" in_port=1,actions=output:2 &&
                ovs-ofctl add-flow "$ofc" in_port=2,actions=output:1
        fi > "$OVS_DIR/ofctl.log" 2>&1 ||
        ovs_off "OVS-DPDK not compared: ovs-ofctl failed: $(tail -1 "$OVS_DIR/ofctl.log")"
    if ovs_usable; then
        VM_SOCK=$OVS_DIR/vm UP_SOCK=$OVS_DIR/up gen "$name" "$pid"
        ovs-ofctl dump-flows "$ofc" > "$OVS_DIR/flows-$name.txt" 2>&1
    else
        echo 0
    fi
    ovs_kill "$OVS_DIR/ovs-vswitchd.pid"
    wait "$pid" 2>/dev/null
}
