#!/bin/bash
# Managed-mode migration from the source's side, and its rollback, against a
# REAL private libvirtd (own mount and network namespaces) with one emulated
# PF: `vfailoverctl migrate DOM URI --mode managed` detaches the VF hookd
# plugged, DEVICE_REMOVED moves the pair to VIRTIO_ACTIVE and clears the
# VF's steering, libvirt's peer-to-peer migration then fails (the
# destination URI names no libvirtd), and the rollback plugs the VF back:
# DEVICE_ADDED, VF_ACTIVE, steering on the VF again. The migration itself
# between two hosts is the end-to-end test's (tests/e2e/).
set -u
. "${top_srcdir:-.}/tests/lib/tap.sh"
. "${top_srcdir:-.}/tests/lib/libvirt-host.sh"
. "${top_srcdir:-.}/tests/libvirt/lib-hookd.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root (private libvirtd, network namespace)"
for t in libvirtd virtlogd virsh qemu-system-x86_64 unshare nsenter jq ip bridge; do
    command -v $t >/dev/null || skip_all "$t not installed (scripts/setup-debian.sh)"
done
kernel=$(ls /boot/vmlinuz-* 2>/dev/null | head -n 1)
[ -n "$kernel" ] || skip_all "no /boot/vmlinuz-* (linux-image-amd64) to boot test domains"

tmp=$(mktemp -d)
chmod 0755 "$tmp"
host=$tmp/host
netns=vfm-$$
hookd_pid=
cleanup() {
    [ -n "$hookd_pid" ] && kill "$hookd_pid" 2>/dev/null
    lvh_stop "$host"
    wait 2>/dev/null
    ip netns del "$netns" 2>/dev/null
    if [ -n "${KEEP_TMP:-}" ]; then echo "# kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
ip netns add "$netns" || bail_out "cannot create network namespace $netns"

lvh_setup "$host" "$netns" || bail_out "cannot prepare the private libvirt host"
ns_prepare "$host" "$(printf '[pf:vfotest0]\nbackend = emulated\nnum-vfs = 1')"
cp "$kernel" "$host/lib-libvirt/images/vmlinuz"
chmod 0644 "$host/lib-libvirt/images/vmlinuz"

A=vfm-$$
uuid=$(cat /proc/sys/kernel/random/uuid)
mac=52:54:00:6a:00:01
domain_xml annotated "$A" "$uuid" /var/lib/libvirt/images/vmlinuz |
    sed "s|<serial type='pty'/>|<controller type='pci' index='0' model='pcie-root'/><controller type='pci' model='pcie-root-port'/><controller type='pci' model='pcie-root-port'/><controller type='pci' model='pcie-root-port'/><controller type='pci' model='pcie-root-port'/><serial type='pty'/>|" \
    > "$host/a.xml"
log=$host/hookd.log
ctl() { lvh_exec "$host" "$CTL" --config "$NSCONF" --json "$@"; }
jq_ok() { [ -n "$1" ] && printf '%s' "$1" | jq -e "$2" >/dev/null; }
pair_jq() { jq_ok "$(ctl pairs "$A")" ".domains[0].pairs[0] | $1"; }
fdb_steered() { ip netns exec "$netns" bridge fdb show dev vfotest0v0 | grep -q "^$mac .*static"; }

plan 11
lvh_start "$host" || bail_out "private libvirtd did not start (see $host/log-libvirt/libvirtd.log)"
lvh_bg "$host" "$HOOKD" --config "$NSCONF" --foreground --verbose >>"$log" 2>&1
hookd_pid=$!
wait_for 20 lvh_exec "$host" "$CTL" --config "$NSCONF" status; ok $? "hookd runs in the host's namespaces"
out=$(lvh_virsh "$host" create "$host/a.xml" 2>&1); ok $? "managed-mode domain starts: $out"
wait_for 30 pair_jq '.state == "VF_ACTIVE"'; ok $? "hookd plugged its VF: VF_ACTIVE"
wait_for 10 fdb_steered; ok $? "steering on the VF"

# A destination that cannot be reached: the migration fails after the switch.
out=$(lvh_exec "$host" "$CTL" --config "$NSCONF" migrate "$A" "qemu+unix:///system?socket=/run/vfo-nosuch-$$.sock" --mode managed 2>&1); rc=$?
[ $rc = 1 ] && one_line "$out" && echo "$out" | grep -q "rolled back"
ok $? "vfailoverctl migrate --mode managed to an unreachable destination fails with one line: $out"
grep -q "interface ua-net0: VF_ACTIVE -> SWITCHING (managed migration: the VF is about to be detached)" "$log" &&
    grep -q "interface ua-net0: SWITCHING -> VIRTIO_ACTIVE (VF device removed)" "$log"
ok $? "before migrating: SWITCHING before the detach (make before break), DEVICE_REMOVED moved the pair to VIRTIO_ACTIVE"
awk '/ua-net0: VF_ACTIVE -> SWITCHING/ { s = NR } /VF 0 of PF vfotest0: steering cleared/ && s { c = NR } END { exit !(s && c > s) }' "$log"
ok $? "and the VF's steering was cleared only after that"
! jq_ok "$(ctl pairs "$A")" '.domains[0].timeline[] | select(.what | test("FAILOVER_NEGOTIATED"))'
ok $? "the guest never negotiated STANDBY (its virtio driver is not even loaded): managed mode works without it"
wait_for 30 pair_jq '.state == "VF_ACTIVE" and .transitions >= 3'; ok $? "rollback: the VF is plugged back, VF_ACTIVE"
wait_for 10 fdb_steered; ok $? "rollback: steering on the VF again"
jq_ok "$(ctl migrate-status "$A")" '.migration.state == "failed" and (.migration.error | length > 0)'
ok $? "migrate-status reports the failed migration and its error"

if [ "$_tap_failed" != 0 ]; then
    diag "hookd log:"; sed 's/^/#   /' "$log" | tail -n 40
fi
lvh_virsh "$host" destroy "$A" >/dev/null 2>&1
