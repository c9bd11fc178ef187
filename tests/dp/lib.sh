# Helpers for the vfailover-dp tests and benchmarks (source after tap.sh).
# A test calls dp_setup once: it makes a private network namespace with a
# veth pair (vd: the datapath's uplink, vw: the wire the test reads and
# writes), a scratch directory, and a cleanup trap that kills every process
# it started and deletes the namespace.

DP_BIN=${top_builddir:-.}/failover/dp/vfailover-dp
DP_CALL=${top_builddir:-.}/tests/dp/dp-call
DP_TRAFFIC=${top_builddir:-.}/tests/dp/dp-traffic
DP_PIDS=()

dp_require() {
    [ "$(id -u)" = 0 ] || skip_all "needs root (network namespace, DPDK)"
    [ -x "$DP_BIN" ] || skip_all "vfailover-dp not built (configure found no DPDK?)"
    [ -x "$DP_TRAFFIC" ] || skip_all "tests/dp/dp-traffic not built"
    command -v ip >/dev/null || skip_all "iproute2 missing"
    command -v python3 >/dev/null || skip_all "python3 missing"
}

dp_cleanup() {
    local pid
    for pid in "${DP_PIDS[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${DP_PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null
    done
    [ -n "${DP_NS:-}" ] && ip netns del "$DP_NS" 2>/dev/null
    [ -n "${DP_NS:-}" ] && rm -rf /var/run/dpdk/"$DP_NS"-* 2>/dev/null
    # DP_KEEP=1 keeps the scratch directory (logs) for debugging.
    if [ -n "${DP_TMP:-}" ] && [ -z "${DP_KEEP:-}" ]; then
        rm -rf "$DP_TMP"
    fi
}

dp_setup() {
    DP_NS=vfdp$$$RANDOM
    DP_TMP=$(mktemp -d /tmp/vfdp-test.XXXXXX)
    chmod 0755 "$DP_TMP"
    trap dp_cleanup EXIT
    ip netns add "$DP_NS" || bail_out "cannot create namespace $DP_NS"
    ip -n "$DP_NS" link add vd type veth peer name vw || bail_out "cannot create veth"
    ip netns exec "$DP_NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
        net.ipv6.conf.vd.disable_ipv6=1 net.ipv6.conf.vw.disable_ipv6=1
    ip -n "$DP_NS" link set vd up
    ip -n "$DP_NS" link set vw up
    DP_CTL=$DP_TMP/ctl.sock
}

# dp_start [extra dp options...]: start the datapath on lcore 1. A test
# running a second one sets DP_INST (its file prefix and log name: the
# default is dp, $DP_TMP/dp.log), DP_CTL and DP_UPLINK_ARGS around the call.
dp_start() {
    ip netns exec "$DP_NS" "$DP_BIN" -l 1 --no-huge -m 256 --file-prefix "$DP_NS-${DP_INST:-dp}" \
        --no-pci -- --ctl "$DP_CTL" ${DP_UPLINK_ARGS:---uplink net_af_packet0,iface=vd,framecnt=8192} \
        --vhost-dir "$DP_TMP" --vhost-owner '' "$@" >> "$DP_TMP/${DP_INST:-dp}.log" 2>&1 &
    DP_PID=$!
    DP_PIDS+=("$DP_PID")
    for _ in $(seq 100); do
        [ -S "$DP_CTL" ] && "$DP_CALL" "$DP_CTL" '{"command":"list-commands"}' >/dev/null 2>&1 && return 0
        kill -0 "$DP_PID" 2>/dev/null || break
        sleep 0.1
    done
    diag "vfailover-dp did not come up; log:"
    sed 's/^/#   /' "$DP_TMP/${DP_INST:-dp}.log"
    return 1
}

dp_stop() {
    kill "$DP_PID" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$DP_PID" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$DP_PID"
    return 1
}

# dp_call JSON: print the reply; status 0 when "ok" is true.
dp_call() {
    "$DP_CALL" "$DP_CTL" "$1"
}

# json_get 'expr' < reply: evaluate a Python expression on the reply `r`.
json_get() {
    python3 -c 'import json,sys; r=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

# dp_counter PAIR NAME: one counter of a pair.
dp_counter() {
    dp_call "{\"command\":\"stats\",\"name\":\"$1\"}" | json_get "r['pair']['counters']['$2']"
}

dp_uplink_counter() {
    dp_call '{"command":"stats"}' | json_get "r['uplink']['counters']['$1']"
}

# dp_snap PAIR: print "uplink_rx=N uplink_tx=N from_guest=N ..." (the
# uplink's and the pair's counters) for dp_delta.
dp_snap() {
    dp_call '{"command":"stats"}' | python3 -c '
import json, sys
r = json.load(sys.stdin)
c = {"uplink_" + k: v for k, v in r["uplink"]["counters"].items()}
for p in r["pairs"]:
    if p["name"] == sys.argv[1]:
        c.update(p["counters"])
print(" ".join("%s=%d" % kv for kv in c.items()))' "$1"
}

# dp_delta BEFORE AFTER KEY: AFTER's KEY minus BEFORE's.
dp_delta() {
    local a b
    a=$(echo "$1" | tr ' ' '\n' | sed -n "s/^$3=//p")
    b=$(echo "$2" | tr ' ' '\n' | sed -n "s/^$3=//p")
    echo $(( ${b:-0} - ${a:-0} ))
}

# dp_wait_connected PAIR [yes|no]: wait until the pair's guest is (dis)connected.
dp_wait_connected() {
    local want=${2:-True}
    [ "$want" = no ] && want=False
    [ "$want" = yes ] && want=True
    for _ in $(seq 100); do
        [ "$(dp_call "{\"command\":\"stats\",\"name\":\"$1\"}" | json_get "r['pair']['connected']")" = "$want" ] && return 0
        sleep 0.1
    done
    return 1
}

# traffic_start NAME VIRTIO_ARGS [dp-traffic options]: start a guest+wire
# process on lcore 0 (output in $DP_TMP/NAME.out); go with traffic_go NAME.
# DP_WIRE_VDEV replaces the af_packet wire; TRAFFIC_READY=wire-ready returns
# as soon as the wire is up (with --late-guest, VIRTIO_ARGS "").
traffic_start() {
    local name=$1 vargs=$2
    shift 2
    rm -f "$DP_TMP/$name.go"
    ip netns exec "$DP_NS" "$DP_TRAFFIC" -l 0 --no-huge -m 256 --file-prefix "$DP_NS-$name" \
        --no-pci ${vargs:+--vdev "virtio_user0,$vargs"} --vdev "${DP_WIRE_VDEV:-net_af_packet1,iface=${DP_WIRE_IF:-vw},framecnt=8192}" \
        -- --go-file "$DP_TMP/$name.go" "$@" > "$DP_TMP/$name.out" 2> "$DP_TMP/$name.err" &
    eval "TRAFFIC_PID_$name=$!"
    DP_PIDS+=("$!")
    for _ in $(seq 100); do
        grep -q "^${TRAFFIC_READY:-ready}" "$DP_TMP/$name.out" 2>/dev/null && return 0
        sleep 0.1
    done
    diag "dp-traffic $name did not start:"
    sed 's/^/#   /' "$DP_TMP/$name.err"
    return 1
}

traffic_go() {
    touch "$DP_TMP/$1.go"
}

# traffic_wait NAME: wait for the process to finish (at most 60 s).
traffic_wait() {
    local pid
    eval "pid=\$TRAFFIC_PID_$1"
    for _ in $(seq 600); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
        sleep 0.1
    done
    kill "$pid"
    return 1
}

# traffic_field NAME LINE KEY: e.g. traffic_field t1 g2w recv
traffic_field() {
    sed -n "s/.*\\b$3=\\([0-9]*\\).*/\\1/p" < <(grep "^$2\\b" "$DP_TMP/$1.out" 2>/dev/null) | head -1
}

# traffic_lines NAME REGEX: the result lines of traffic run NAME whose
# first word matches REGEX (e.g. 'g2w|w2g'), on one line.
traffic_lines() {
    grep -E "^($2) " "$DP_TMP/$1.out" | tr '\n' ' '
}

# dp_wire_send GUEST_MAC WIRE_MAC N FIRST [PAYLOAD_BYTES]: N dp-traffic
# stream-1 frames (seq FIRST...) for the guest, written on the wire (vw) by a
# raw socket: what a peer on the network sends while no dp-traffic runs.
dp_wire_send() {
    ip netns exec "$DP_NS" python3 -c '
import socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("vw", 0))
g, w = (bytes.fromhex(m.replace(":", "")) for m in sys.argv[1:3])
for i in range(int(sys.argv[4]), int(sys.argv[4]) + int(sys.argv[3])):
    f = g + w + struct.pack("!H", 0x88b5) + struct.pack("<III", 0x56464450, 1, i)
    s.send(f.ljust(14 + int(sys.argv[5]), b"\0"))
' "$1" "$2" "$3" "$4" "${5:-46}"
}
