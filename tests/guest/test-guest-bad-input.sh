#!/bin/bash
# vfailover-guest-fwd refuses bad input with one clear line, or falls back
# to the virtio path: no virtio with the pair's MAC, two VF candidates with
# the same MAC, a VF that fails to probe. Real DPDK (virtio-user against
# net_vhost, af_packet on veths), one lcore, --no-huge.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/guest/guest-lib.sh"

reason=$(vg_cannot_run)
[ -n "$reason" ] && skip_all "$reason"
trap vg_cleanup EXIT
plan 8

vg_setup; ok $? "namespaces and veths set up"
vg_start_peer 1000 30; ok $? "vhost peer listening"

run_guest() {
    # run_guest EXTRA-EAL-ARGS... -- APP-ARGS...: short run, output in $out
    out=$(ip netns exec "$VG_G" timeout 30 "$VG_FWD" -l "$VG_CPU_GUEST" --no-huge -m 256 \
        --no-pci --file-prefix "vgg${VG_ID}b" --log-level=lib.eal:error \
        --log-level=pmd.net.virtio.*:critical "$@" 2>&1)
    rc=$?
    rm -rf /var/run/dpdk/vgg${VG_ID}b
}
VIRTIO="net_virtio_user0,path=$VG_DIR/vhost.sock,queues=1,mac=$VG_MAC"

# 1. Asked for a MAC nobody carries: one error line naming it, exit 1.
run_guest --vdev "$VIRTIO" -- --mac 02:00:00:00:99:99 --duration 1
[ "$rc" = 1 ] && echo "$out" | grep -q "No virtio-net device carries MAC 02:00:00:00:99:99"
ok $? "no virtio with the asked MAC: clear error, exit 1 (rc=$rc)"
diag "$(echo "$out" | grep -E '^vfg|^vfailover' | head -3)"

# 2. Two VF candidates with the pair's MAC: refuse to guess.
ip -n "$VG_G" link add vfx$VG_ID type veth peer name vfy$VG_ID
ip -n "$VG_G" link set vfx$VG_ID address "$VG_MAC" up
run_guest --vdev "$VIRTIO" --vdev "net_af_packet0,iface=$VG_VFA" \
    --vdev "net_af_packet1,iface=vfx$VG_ID" -- --duration 1
[ "$rc" = 1 ] && echo "$out" | grep -q "Two VF candidates (net_af_packet0 and net_af_packet1) carry MAC $VG_MAC"
ok $? "two VFs with the pair's MAC: clear error, exit 1 (rc=$rc)"
diag "$(echo "$out" | grep -E '^vfg' | head -2)"

# 3. The named VF fails to probe (no such netdev): warn, run on virtio.
run_guest --vdev "$VIRTIO" -- --vf "net_af_packet5,iface=nosuch$VG_ID" --duration 1
[ "$rc" = 0 ] && echo "$out" | grep -q "failed to probe" &&
    echo "$out" | grep -q "runs over VF (none yet) and virtio net_virtio_user0"
ok $? "VF failing to probe: falls back to virtio, exit 0 (rc=$rc)"
diag "$(echo "$out" | grep -E '^vfg' | head -2)"

# 4. No virtio device at all.
run_guest --vdev "net_af_packet0,iface=$VG_VFA" -- --duration 1
[ "$rc" = 1 ] && echo "$out" | grep -q "No virtio-net device found"
ok $? "no virtio device: clear error, exit 1 (rc=$rc)"

# 5. No VF with the MAC: run on virtio alone (the VF may come later).
ip -n "$VG_G" link set "$VG_VFA" address 02:00:00:00:00:42
run_guest --vdev "$VIRTIO" --vdev "net_af_packet0,iface=$VG_VFA" -- --duration 1
[ "$rc" = 0 ] && echo "$out" | grep -q "No VF carries MAC $VG_MAC yet"
st=$?
ok $st "no VF with the pair's MAC: runs on virtio, exit 0 (rc=$rc)"
[ $st = 0 ] || diag "$(echo "$out" | tail -5)"

# 6. Bad option value: one line, exit 2.
run_guest --vdev "$VIRTIO" -- --mode bogus
[ "$rc" = 2 ] && echo "$out" | grep -q "takes failsafe or bonding"
ok $? "bad --mode: clear error, exit 2 (rc=$rc)"
exit $((_tap_failed > 0))
