#!/bin/bash
# The whole VF path against a REAL private libvirtd in its own mount and
# network namespaces, with one emulated PF (a bridge; its VF a tap): the
# annotated domain's prepare reserves the VF, after started hookd configures
# it, attaches it live as an e1000e (the emulated NIC's VF), DEVICE_ADDED
# moves the pair to VF_ACTIVE; detaching the VF moves it back to
# VIRTIO_ACTIVE; destroy releases the VF to the pool.
set -u
. "${top_srcdir:-.}/tests/lib/tap.sh"
. "${top_srcdir:-.}/tests/lib/libvirt-host.sh"
. "${top_srcdir:-.}/tests/libvirt/lib-hookd.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root (private libvirtd, network namespace)"
for t in libvirtd virtlogd virsh qemu-system-x86_64 unshare nsenter jq ip; do
    command -v $t >/dev/null || skip_all "$t not installed (scripts/setup-debian.sh)"
done
kernel=$(ls /boot/vmlinuz-* 2>/dev/null | head -n 1)
[ -n "$kernel" ] || skip_all "no /boot/vmlinuz-* (linux-image-amd64) to boot test domains"

tmp=$(mktemp -d)
chmod 0755 "$tmp"
host=$tmp/host
netns=vfv-$$
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

A=vfv-$$
uuid=$(cat /proc/sys/kernel/random/uuid)
# Room for the hot-plugged VF: free PCIe root ports.
domain_xml annotated "$A" "$uuid" /var/lib/libvirt/images/vmlinuz |
    sed "s|<serial type='pty'/>|<controller type='pci' index='0' model='pcie-root'/><controller type='pci' model='pcie-root-port'/><controller type='pci' model='pcie-root-port'/><controller type='pci' model='pcie-root-port'/><controller type='pci' model='pcie-root-port'/><serial type='pty'/>|" \
    > "$host/a.xml"
log=$host/hookd.log
ctl() { lvh_exec "$host" "$CTL" --config "$NSCONF" --json "$@"; }
pair_jq() { ctl pairs | jq -e --arg u "$uuid" ".domains[] | select(.uuid == \$u) | .pairs[0] | $1" >/dev/null; }
pool_jq() { ctl status | jq -e ".vf_manager | $1" >/dev/null; }
vf_alias=ua-vfo-5254006a0001

plan 11
lvh_start "$host" || bail_out "private libvirtd did not start (see $host/log-libvirt/libvirtd.log)"
lvh_bg "$host" "$HOOKD" --config "$NSCONF" --foreground --verbose >>"$log" 2>&1
hookd_pid=$!
wait_for 20 lvh_exec "$host" "$CTL" --config "$NSCONF" status; ok $? "hookd runs in the host's namespaces"
pool_jq '.vfs == 1 and .free == 1'; ok $? "the emulated PF has one free VF"

out=$(lvh_virsh "$host" create "$host/a.xml" 2>&1); ok $? "annotated domain starts: $out"
wait_for 10 pair_jq '.vf.pf == "vfotest0" and .vf.index == 0 and .vf.netdev == "vfotest0v0"'
ok $? "prepare reserved VF 0 (tap vfotest0v0) for the pair"
wait_for 30 pair_jq '.state == "VF_ACTIVE"'; ok $? "after started the VF was attached and DEVICE_ADDED made the pair VF_ACTIVE"
lvh_virsh "$host" dumpxml "$A" | grep -q "<alias name='$vf_alias'/>"; ok $? "the domain has the VF device ($vf_alias)"
ctl vfs | jq -e --arg u "$uuid" '.vfs[0].state == "reserved" and .vfs[0].domain == $u and .vfs[0].config.mac == "52:54:00:6a:00:01"' >/dev/null
ok $? "the VF is configured with the pair's MAC"

lvh_virsh "$host" dumpxml "$A" | sed -n "/<interface type='ethernet'>/,/<\/interface>/p" > "$host/vf.xml"
detach_until 60 "$host" "$A" "$host/vf.xml" pair_jq '.state == "VIRTIO_ACTIVE" and .transitions >= 2'
ok $? "VF detached: DEVICE_REMOVED moved the pair back to VIRTIO_ACTIVE"

lvh_virsh "$host" destroy "$A" >/dev/null; ok $? "domain destroyed"
wait_for 20 pool_jq '.free == 1 and .in_use == 0'; ok $? "release gave the VF back to the pool"
ctl pairs | jq -e '.domains | length == 0' >/dev/null; ok $? "no record left"

if [ "$_tap_failed" != 0 ]; then
    diag "hookd log:"; sed 's/^/#   /' "$log" | tail -n 30
    diag "libvirtd log:"; grep -i error "$host/log-libvirt/libvirtd.log" | tail -n 10 | sed 's/^/#   /'
fi
