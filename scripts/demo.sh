#!/bin/bash
# The main job, from a fresh Debian 12 machine (run as root): install the
# packages, build, then the two-host live-migration demo on the emulated
# SR-IOV backend (tests/lib/testbed.sh, doc/testbed.md):
#   - two libvirt hosts A and B and a "physical network" in network
#     namespaces; on each host vfailover-hookd (emulated PF vfopf0 whose
#     uplink is the host's link to the network), vfailover-dp (one lcore,
#     no hugepages) and the libvirt hook;
#   - a TCG guest with net_failover: a vhost-user virtio standby served by
#     vfailover-dp and a VF stand-in (vmxnet3) on the VF hookd reserved;
#   - live migrations A -> B -> A (native mode; managed mode once hookd has
#     it: vfailoverctl migrate --mode managed) while vf-stream sends 100 packets/s each way between the guest
#     and a peer in the physical network; then the same guest without
#     vfailover (plain QEMU failover on bridge ports) for comparison;
#   - the per-migration loss table and each host's pair timeline.
# Everything is removed at the end, also on Ctrl-C or failure.
#   scripts/demo.sh [--rounds N] [--no-baseline] [--no-install]
set -u
cd "$(dirname "$0")/.." || exit 1
rounds=2 baseline=1 install=1
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds=$2; shift 2 ;;
        --no-baseline) baseline=0; shift ;;
        --no-install) install=0; shift ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        *) echo "demo.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
case "$rounds" in ''|*[!0-9]*|0) echo "demo.sh: --rounds takes a positive number" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root (network namespaces, libvirtd)" >&2; exit 1; }

if [ $install = 1 ]; then
    ./scripts/setup-debian.sh || exit 1
fi
./scripts/build.sh || exit 1
make -s tests/xml/vfx-tool tests/dp/dp-call || exit 1

export top_srcdir=$PWD top_builddir=$PWD
. tests/lib/testbed.sh
reason=$(tb_can_run) || { echo "demo.sh: $reason" >&2; exit 1; }
reason=$(tb_vfo_can_run) || { echo "demo.sh: $reason" >&2; exit 1; }

say() { printf '\n== %s\n' "$*"; }
TB_VFAILOVER=1
TB_GUEST_MAC=$(tb_random_mac)
# tb_setup installs the teardown trap (EXIT, INT, TERM, HUP).
say "creating hosts A and B (libvirtd + vfailover-hookd + vfailover-dp each) and the physical network"
tb_setup "A B" || exit 1
tb_guest_image >/dev/null || exit 1

# run_rounds KIND NAME: rounds migrations A->B->A... with the stream.
table=$(tb_loss_table_header)
worst_vfo=0 worst_host=0
run_rounds() {
    local kind=$1 name=$2 src=A dst=B r t o h
    for r in $(seq 1 "$rounds"); do
        say "$kind: live migration $r: $name $src -> $dst (stream running)"
        tb_stream_migrate "$src" "$dst" "$name" "$kind:$src->$dst" ||
            { echo "demo.sh: $kind migration $src -> $dst failed" >&2; return 1; }
        table="$table
$(tb_loss_table_row)"
        if [ "$kind" != baseline ]; then
            o=$(tb_result lost_outside) h=$(tb_lost_outside_not_in_guest)
            [ "$o" -gt "$worst_vfo" ] && worst_vfo=$o
            [ "$h" -gt "$worst_host" ] && worst_host=$h
            echo "VFs held for $name: host $dst: $(tb_vfo_vfs "$dst" | grep -c reserved)," \
                 "host $src: $(tb_vfo_vfs "$src" | grep -c reserved)"
        fi
        t=$src; src=$dst; dst=$t
    done
}

say "booting the vfailover guest on A (TCG: a minute or two)"
tb_vfo_guest_start A demo && tb_wait_guest_ready demo 300 >/dev/null ||
    { echo "demo.sh: the guest did not come up (console: $(tb_console demo))" >&2; exit 1; }
tb_vfoctl A pairs
run_rounds native demo || exit 1
say "pair timelines (native mode; each host's live record, then what it kept after releasing the guest)"
for h in A B; do
    echo "-- host $h"
    tb_vfoctl "$h" --timeline pairs demo
done
tb_virsh A destroy demo >/dev/null 2>&1
tb_virsh B destroy demo >/dev/null 2>&1

if tb_vfoctl A list-commands 2>/dev/null | grep -qw migrate; then
    say "managed mode: booting a managed-mode guest on A (hookd hot-plugs its VF)"
    TB_WAIT_PRIMARY=1
    tb_vfo_managed_guest_start A demo-m && tb_wait_guest_ready demo-m 300 >/dev/null ||
        { echo "demo.sh: the managed-mode guest did not come up" >&2; exit 1; }
    TB_MIGRATE_CMD=tb_vfo_migrate_managed
    run_rounds managed demo-m || exit 1
    TB_MIGRATE_CMD=""
    say "pair timelines (managed mode; each host's live record, then what it kept after releasing the guest)"
    for h in A B; do
        echo "-- host $h"
        tb_vfoctl "$h" --timeline pairs demo-m
    done
    tb_virsh A destroy demo-m >/dev/null 2>&1
    tb_virsh B destroy demo-m >/dev/null 2>&1
    TB_WAIT_PRIMARY=""
else
    say "managed mode: not in this hookd (vfailoverctl migrate --mode managed) - skipped"
fi

if [ $baseline = 1 ]; then
    say "the same guest WITHOUT vfailover (QEMU failover, $TB_VF_MODEL + virtio on plain bridge ports)"
    tb_guest_start A demo-base && tb_wait_guest_ready demo-base 300 >/dev/null ||
        { echo "demo.sh: the baseline guest did not come up" >&2; exit 1; }
    run_rounds baseline demo-base || exit 1
fi

say "packets lost per migration (100 pps each way; fwd = peer->guest, rev = guest->peer;"
echo "   lost_out = lost outside QEMU's stop-and-copy window; in_guest = rev packets the guest's"
echo "   own kernel dropped (its VF driver closing: no host sees them); native, managed = with vfailover)"
echo "$table"
echo
echo "lost_outside_downtime (vfailover, worst migration): $worst_vfo"
echo "  of which not dropped by the guest's own kernel: $worst_host"
say "cleaning up"
