#!/bin/bash
# vfailover-dp's relay (a migration's source sends on what reaches it for
# the VM after the VM stopped there, until the network learnt the MAC's
# new place): two datapaths, A (the source) and B (the destination), on a
# real bridge with a wire. The bridge has learnt the MAC behind A. While
# A's guest runs, A delivers; once it is gone and relay is on, A wraps each
# frame for the relay group and B keeps it until its guest's device starts,
# then delivers it (once, in order); with B's guest running, relayed frames
# are delivered at once. Frames that would not fit the MTU wrapped, relay
# off, malformed relay frames and relays for unknown MACs are counted and
# dropped; no mbuf leaked on either side.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/dp/lib.sh"
dp_require
command -v bridge >/dev/null || skip_all "iproute2's bridge missing"
dp_setup
plan 16

GMAC=52:54:00:dd:00:71
WMAC=02:00:00:ee:00:72
# The wire: the veth dp_setup made becomes A's uplink; B and the wire get
# their own, all on one bridge.
ip -n "$DP_NS" link del vd
ip -n "$DP_NS" link add br0 type bridge
for pair in "vd vdp" "vdb vdbp" "vw vwp"; do
    set -- $pair
    ip -n "$DP_NS" link add "$1" type veth peer name "$2"
    ip -n "$DP_NS" link set "$2" master br0
    ip netns exec "$DP_NS" sysctl -qw "net.ipv6.conf.$1.disable_ipv6=1" "net.ipv6.conf.$2.disable_ipv6=1"
    ip -n "$DP_NS" link set "$1" up
    ip -n "$DP_NS" link set "$2" up
done
ip netns exec "$DP_NS" sysctl -qw net.ipv6.conf.br0.disable_ipv6=1
ip -n "$DP_NS" link set br0 up

CTL_A=$DP_TMP/a.sock
CTL_B=$DP_TMP/b.sock
on_a() { DP_CTL=$CTL_A "$@"; }
on_b() { DP_CTL=$CTL_B "$@"; }
wait_until() { local n=$(($1 * 10)); shift; while [ $n -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done; return 1; }
wire_send() { dp_wire_send "$GMAC" "$WMAC" "$@"; }   # N FIRST [PAYLOAD_BYTES]
# raw_send HEX: one frame from the wire.
raw_send() {
    ip netns exec "$DP_NS" python3 -c '
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("vw", 0))
s.send(bytes.fromhex(sys.argv[1]).ljust(60, b"\0"))' "$1"
}
snap_a() { on_a dp_snap vm1; }
snap_b() { on_b dp_snap vm1; }
# at_least SNAP_FN BASE KEY N
at_least() { [ "$(dp_delta "$2" "$($1)" "$3")" -ge "$4" ]; }

DP_INST=a DP_CTL=$CTL_A DP_UPLINK_ARGS="--uplink net_af_packet0,iface=vd,framecnt=4096" dp_start
ok $? "datapath A (the source) starts"
PID_A=$DP_PID
DP_INST=b DP_CTL=$CTL_B DP_UPLINK_ARGS="--uplink net_af_packet0,iface=vdb,framecnt=4096" dp_start --hold-ms 20000
ok $? "datapath B (the destination, --hold-ms 20000) starts"
PID_B=$DP_PID

on_a dp_call "{\"command\":\"pair-add\",\"name\":\"vm1\",\"mac\":\"$GMAC\",\"socket\":\"a-vm1.sock\",\"mode\":\"server\"}" >/dev/null &&
on_a dp_call '{"command":"pair-set-state","name":"vm1","state":"virtio","relay":"on"}' > "$DP_TMP/r" &&
on_b dp_call "{\"command\":\"pair-add\",\"name\":\"vm1\",\"mac\":\"$GMAC\",\"socket\":\"b-vm1.sock\",\"mode\":\"server\"}" >/dev/null &&
on_b dp_call '{"command":"pair-set-state","name":"vm1","state":"virtio","announce":"on-start"}' >/dev/null
ok $? "A: vm1 virtio, relay on; B: vm1 virtio, announce on start ($(json_get "r['pair']['relay']" < "$DP_TMP/r"))"
fdb_on_a() { bridge -n "$DP_NS" fdb show br br0 | grep -qi "^$GMAC dev vdp "; }
wait_until 10 fdb_on_a
ok $? "A's announcement taught the bridge the MAC is behind A"

# 1. A's guest runs: A delivers, nothing is relayed.
a0=$(snap_a); b0=$(snap_b)
DP_CTL=$CTL_A traffic_start ta "path=$DP_TMP/a-vm1.sock,mac=$GMAC,queues=1,queue_size=256" \
    --guest-mac $GMAC --wire-mac $WMAC --dir none --count 200 --drain-ms 3000
on_a dp_wait_connected vm1
traffic_go ta
wire_send 10 0
traffic_wait ta
a1=$(snap_a)
ok "$([ "$(traffic_field ta w2g recv)" = 10 ] && [ "$(dp_delta "$a0" "$a1" relayed_out)" = 0 ]; echo $?)" \
    "A's guest running: it got $(traffic_field ta w2g recv) of 10, relayed $(dp_delta "$a0" "$a1" relayed_out)"
on_a dp_wait_connected vm1 no

# 2. A's guest has stopped: A relays, B keeps them (no guest yet).
a0=$(snap_a); b0=$(snap_b)
wire_send 50 10
wait_until 20 at_least snap_b "$b0" held 50
a1=$(snap_a); b1=$(snap_b)
ok "$([ "$(dp_delta "$a0" "$a1" relayed_out)" = 50 ] && [ "$(dp_delta "$a0" "$a1" dropped_no_guest)" = 0 ] &&
      [ "$(dp_delta "$b0" "$b1" relayed_in)" = 50 ] && [ "$(dp_delta "$b0" "$b1" held)" = 50 ]; echo $?)" \
    "A's guest gone: A relayed $(dp_delta "$a0" "$a1" relayed_out) of 50, B took $(dp_delta "$b0" "$b1" relayed_in) and keeps $(dp_delta "$b0" "$b1" held)"
wire_send 1 60 1500
wait_until 10 at_least snap_a "$a1" dropped_relay_mtu 1
ok $? "a full-MTU frame does not fit once wrapped: dropped and counted on A"
ok "$([ "$(dp_delta "$b0" "$(snap_b)" to_guest)" = 0 ]; echo $?)" "B delivered nothing before its guest's device started"

# 3. B's guest starts: it gets what B kept, then what A relays to it
#    while the bridge still sends the MAC to A.
DP_CTL=$CTL_B traffic_start tb "path=$DP_TMP/b-vm1.sock,mac=$GMAC,queues=1,queue_size=256" \
    --guest-mac $GMAC --wire-mac $WMAC --dir none --count 200 --drain-ms 4000
on_b dp_wait_connected vm1
traffic_go tb
# B announced the MAC when its guest's device started: the bridge sends to
# B now. The relay covers the moment before that: teach the bridge A again
# once B's three rounds are out.
wait_until 10 at_least snap_b "$b0" announces 3
on_a dp_call '{"command":"pair-announce","name":"vm1"}' >/dev/null
wait_until 10 fdb_on_a
wire_send 20 70
traffic_wait tb
a2=$(snap_a); b2=$(snap_b)
diag "tb: $(traffic_lines tb w2g) A: $a2 B: $b2"
ok "$([ "$(traffic_field tb w2g recv)" = 70 ] && [ "$(traffic_field tb w2g dup)" = 0 ] &&
      [ "$(dp_delta "$b0" "$b2" to_guest)" -ge 70 ] && [ "$(dp_delta "$b0" "$b2" dropped_hold)" = 0 ]; echo $?)" \
    "B's guest got the 50 kept and the 20 relayed after it started: $(traffic_field tb w2g recv) of 70, $(traffic_field tb w2g dup) duplicates"
ok "$([ "$(dp_delta "$a0" "$a2" relayed_out)" = 70 ] && [ "$(dp_delta "$b0" "$b2" relayed_in)" = 70 ]; echo $?)" \
    "A relayed $(dp_delta "$a0" "$a2" relayed_out), B took $(dp_delta "$b0" "$b2" relayed_in)"
on_b dp_wait_connected vm1 no

# 4. Relay off (the migration failed, or the pair moved on): A drops again.
a0=$(snap_a)
on_a dp_call '{"command":"pair-set-state","name":"vm1","state":"virtio"}' >/dev/null
wire_send 10 100
wait_until 10 at_least snap_a "$a0" dropped_no_guest 10
ok "$([ "$(dp_delta "$a0" "$(snap_a)" relayed_out)" = 0 ]; echo $?)" "relay off: A counts the 10 frames as no guest, relays none"

# 5. What B does not take: a malformed relay frame, a relay for a MAC it
#    has no pair for.
u0=$(on_b dp_uplink_counter relay_bad); k0=$(on_b dp_uplink_counter relay_unknown)
GROUP=035646 ; GROUP=${GROUP}4f5201
raw_send "${GROUP}${WMAC//:/}88b6585201000040"      # magic "XR"
inner="020000000099${WMAC//:/}88b5"
raw_send "${GROUP}${WMAC//:/}88b6565201000010${inner}"
bad_seen() { [ "$(on_b dp_uplink_counter relay_bad)" -gt "$u0" ] && [ "$(on_b dp_uplink_counter relay_unknown)" -gt "$k0" ]; }
wait_until 10 bad_seen
ok $? "B: a malformed relay frame and one for an unknown MAC are counted (relay_bad, relay_unknown)"
# A relayed frame that comes back to its sender (a loop in the network) is
# not taken, even by a pair that would: A's vm1 has no guest and relays.
on_a dp_call '{"command":"pair-set-state","name":"vm1","state":"virtio","relay":"on"}' >/dev/null
a0=$(snap_a); k0=$(on_a dp_uplink_counter relay_unknown)
AMAC=$(ip -n "$DP_NS" -br link show vd | awk '{print $3}')
raw_send "${GROUP}${AMAC//:/}88b6565201000040${GMAC//:/}${WMAC//:/}88b5"
own_seen() { [ "$(on_a dp_uplink_counter relay_unknown)" -gt "$k0" ]; }
wait_until 10 own_seen
st=$?
a1=$(snap_a)
ok "$([ $st = 0 ] && [ "$(dp_delta "$a0" "$a1" relayed_in)" = 0 ] && [ "$(dp_delta "$a0" "$a1" relayed_out)" = 0 ]; echo $?)" \
    "A ignores its own relayed frame come back (relayed in $(dp_delta "$a0" "$a1" relayed_in), out $(dp_delta "$a0" "$a1" relayed_out))"
ok "$(on_b dp_call '{"command":"pair-set-state","name":"vm1","state":"virtio","relay":"maybe"}' >/dev/null; [ $? != 0 ]; echo $?)" \
    "pair-set-state refuses relay 'maybe'"

DP_PID=$PID_A; dp_stop && grep -q "stopped: 0 mbufs still in use" "$DP_TMP/a.log"
ok $? "A: clean stop, no mbuf in use"
DP_PID=$PID_B; dp_stop && grep -q "stopped: 0 mbufs still in use" "$DP_TMP/b.log"
ok $? "B: clean stop, no mbuf in use"
[ $_tap_failed = 0 ] || for l in a b; do diag "$l log:"; grep -v VHOST_CONFIG "$DP_TMP/$l.log" | sed 's/^/#   /' | tail -30; done
exit $_tap_failed
