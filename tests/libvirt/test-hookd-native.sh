#!/bin/bash
# Native mode and the steering policy against a REAL private libvirtd in its
# own mount and network namespaces, with one emulated PF of two VFs (a
# bridge; its VFs taps):
#  - a domain whose definition holds the VF stand-in gets exactly the VF
#    its XML names (tap vfotest0v1, not the first free VF); another domain
#    naming a taken or unknown tap is refused with one line;
#  - the VF device's removal (DEVICE_REMOVED, as when the guest lets go of
#    it) moves the pair to VIRTIO_ACTIVE and clears the VF's steering (the
#    bridge's static FDB entry for the VM MAC on the VF's tap goes away);
#    plugging it back (DEVICE_ADDED) moves it to VF_ACTIVE and restores it;
#  - the timeline has each transition (from, to, reason), pairs DOMAIN
#    and --timeline print it;
#  - the `migrate begin` hook (destination) through the real hook binary:
#    the incoming XML, whose VF device names the source host's tap, comes
#    back naming the VF reserved here; with no VF free and a refusing
#    policy the hook fails with one line;
#  - destroy and release give every VF back.
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
netns=vfn-$$
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
ns_prepare "$host" "$(printf '[pf:vfotest0]\nbackend = emulated\nnum-vfs = 2')"
cp "$kernel" "$host/lib-libvirt/images/vmlinuz"
chmod 0644 "$host/lib-libvirt/images/vmlinuz"

# native_xml NAME UUID MAC TAP NOVF
native_xml() {
    sed -e "s|@NAME@|$1|; s|@UUID@|$2|; s|@KERNEL@|/var/lib/libvirt/images/vmlinuz|; s|@NOVF@|$5|" \
        -e "s|@MAC@|$3|g; s|@MACHEX@|$(echo "$3" | tr -d :)|; s|@VFTAP@|$4|" \
        "$S/tests/libvirt/data/native.xml"
}
A=vfn-$$
uuid=$(cat /proc/sys/kernel/random/uuid)
mac=52:54:00:6a:00:01
native_xml "$A" "$uuid" $mac vfotest0v1 refuse > "$host/a.xml"
log=$host/hookd.log
ctl() { lvh_exec "$host" "$CTL" --config "$NSCONF" --json "$@"; }
# jq_ok JSON FILTER: FILTER holds on JSON (jq 1.6 -e succeeds on empty input).
jq_ok() { [ -n "$1" ] && printf '%s' "$1" | jq -e "$2" >/dev/null; }
pair_jq() { jq_ok "$(ctl pairs "$A")" ".domains[0].pairs[0] | $1"; }
pool_jq() { jq_ok "$(ctl status)" ".vf_manager | $1"; }
# fdb_steered TAP MAC: the emulated NIC's switch delivers MAC to TAP.
fdb_steered() { ip netns exec "$netns" bridge fdb show dev "$1" | grep -q "^$2 .*static"; }
vf_alias=ua-vfo-5254006a0001
vf_absent() { ! lvh_virsh "$host" dumpxml "$A" | grep -q "$vf_alias"; }

plan 30
lvh_start "$host" || bail_out "private libvirtd did not start (see $host/log-libvirt/libvirtd.log)"
lvh_bg "$host" "$HOOKD" --config "$NSCONF" --foreground --verbose >>"$log" 2>&1
hookd_pid=$!
wait_for 20 lvh_exec "$host" "$CTL" --config "$NSCONF" status; ok $? "hookd runs in the host's namespaces"
pool_jq '.vfs == 2 and .free == 2'; ok $? "the emulated PF has two free VFs"

# ---- fresh start: the definition names the VF ----
out=$(lvh_virsh "$host" create "$host/a.xml" 2>&1); ok $? "native domain with its VF device in the definition starts: $out"
wait_for 10 pair_jq '.vf.index == 1 and .vf.netdev == "vfotest0v1" and .vf_defined == true'
ok $? "prepare reserved exactly the VF the definition names (VF 1, tap vfotest0v1), not the first free one"
pool_jq '.in_use == 1 and .free == 1'; ok $? "only that VF is in use"
wait_for 10 sh -c "grep -q 'configured (its device is in the definition; steering off)' '$log'"
ok $? "after started hookd configured the VF without attaching it (QEMU plugs it), steering off"
pair_jq '.state == "VIRTIO_ACTIVE"'; ok $? "no failover negotiated yet: the pair is VIRTIO_ACTIVE"
ip netns exec "$netns" ip link show vfotest0v1 >/dev/null 2>&1 && ! fdb_steered vfotest0v1 $mac
ok $? "VIRTIO_ACTIVE: the VF's tap gets no steering for the VM MAC"

B=vfn-b-$$
native_xml "$B" "$(cat /proc/sys/kernel/random/uuid)" 52:54:00:6a:00:02 vfotest0v1 refuse > "$host/b.xml"
out=$(lvh_virsh "$host" create "$host/b.xml" 2>&1); rc=$?
[ $rc != 0 ] && echo "$out" | grep -q "domain $B: interface ua-net0: its VF device names vfotest0v1: PF vfotest0 VF 1 is in use by domain $uuid (ua-net0)"
ok $? "a second domain naming the same VF is refused: $(echo "$out" | tail -n 1)"
native_xml "$B" "$(cat /proc/sys/kernel/random/uuid)" 52:54:00:6a:00:02 vfonosuch0 refuse > "$host/b.xml"
out=$(lvh_virsh "$host" create "$host/b.xml" 2>&1); rc=$?
[ $rc != 0 ] && echo "$out" | grep -q "names vfonosuch0, which is no VF of a configured PF on this host"
ok $? "a domain naming an unknown tap is refused: $(echo "$out" | tail -n 1)"
pool_jq '.in_use == 1 and .free == 1'; ok $? "the refusals left the pool as it was"

# ---- the steering policy on device events ----
lvh_virsh "$host" dumpxml "$A" | sed -n "/<interface type='ethernet'>/,/<\/interface>/p" > "$host/vf.xml"
grep -q "$vf_alias" "$host/vf.xml"; ok $? "the domain runs with the VF device ($vf_alias)"
detach_until 60 "$host" "$A" "$host/vf.xml" vf_absent; ok $? "the VF device detached (still VIRTIO_ACTIVE: nothing to switch)"
lvh_virsh "$host" attach-device "$A" "$host/vf.xml" >/dev/null 2>&1
wait_for 30 pair_jq '.state == "VF_ACTIVE"'; ok $? "VF plugged (DEVICE_ADDED): the pair is VF_ACTIVE"
wait_for 10 fdb_steered vfotest0v1 $mac; ok $? "VF_ACTIVE: steering to the VF's tap (static FDB entry for the VM MAC)"
jq_ok "$(ctl vfs)" '.vfs[] | select(.vf == 1) | .config.mac == "52:54:00:6a:00:01"'
ok $? "the VF's configured MAC is the VM's"

detach_until 60 "$host" "$A" "$host/vf.xml" pair_jq '.state == "VIRTIO_ACTIVE"'; ok $? "VF unplugged (DEVICE_REMOVED): the pair is VIRTIO_ACTIVE"
wait_for 10 sh -c "ip netns exec '$netns' ip link show vfotest0v1 && ! ip netns exec '$netns' bridge fdb show dev vfotest0v1 | grep -q '^$mac .*static'"
ok $? "VIRTIO_ACTIVE: the VF's steering is cleared (no FDB entry for the VM MAC on its tap)"
grep -q "interface ua-net0: VF 1 of PF vfotest0: steering cleared" "$log"; ok $? "the steering change is logged"

lvh_virsh "$host" attach-device "$A" "$host/vf.xml" >/dev/null 2>&1
wait_for 30 pair_jq '.state == "VF_ACTIVE"'; ok $? "VF re-plugged: VF_ACTIVE again"
wait_for 10 fdb_steered vfotest0v1 $mac; ok $? "steering is back on the VF after the re-plug"

jq_ok "$(ctl pairs "$A")" '[.domains[0].timeline[] | select(.kind == "state" and .pair == "ua-net0") | "\(.from)>\(.to)"] | join(",") | test("VIRTIO_ACTIVE>VF_ACTIVE,VF_ACTIVE>VIRTIO_ACTIVE,VIRTIO_ACTIVE>VF_ACTIVE")'
ok $? "pairs DOMAIN --json: the timeline has each transition with from, to and reason"
out=$(lvh_exec "$host" "$CTL" --config "$NSCONF" pairs --timeline "$A")
echo "$out" | grep -q "state ua-net0: VF_ACTIVE -> VIRTIO_ACTIVE (VF device removed)"; ok $? "pairs --timeline DOMAIN prints the transitions"
lvh_exec "$host" "$CTL" --config "$NSCONF" pairs nosuchdomain >/dev/null 2>&1; [ $? = 1 ]
ok $? "pairs with an unknown domain fails"

# ---- migrate begin on a destination, through the real hook ----
C=vfn-c-$$
uuid_c=$(cat /proc/sys/kernel/random/uuid)
native_xml "$C" "$uuid_c" 52:54:00:6a:00:03 srchostv7 refuse > "$host/c.xml"
out=$(lvh_exec "$host" "$host/hook-wrapper" "$C" migrate begin - < "$host/c.xml" 2>"$host/c.err"); rc=$?
[ $rc = 0 ] && echo "$out" | grep -q "<target dev=\"vfotest0v0\" managed=\"no\"/>\|<target dev='vfotest0v0' managed='no'/>" &&
    echo "$out" | grep -q "<alias name=.ua-vfo-5254006a0003./>"
ok $? "migrate begin: the incoming XML comes back naming the VF reserved here (tap vfotest0v0) $(cat "$host/c.err")"
jq_ok "$(ctl pairs "$C")" '.domains[0].pairs[0] | .vf.netdev == "vfotest0v0" and .vf_defined == true and .state == "VIRTIO_ACTIVE"'
ok $? "the destination's pair has that VF, its device in the XML, and starts VIRTIO_ACTIVE"

D=vfn-d-$$
native_xml "$D" "$(cat /proc/sys/kernel/random/uuid)" 52:54:00:6a:00:04 srchostv8 refuse > "$host/d.xml"
out=$(lvh_exec "$host" "$host/hook-wrapper" "$D" migrate begin - < "$host/d.xml" 2>&1); rc=$?
[ $rc != 0 ] && one_line "$out" && echo "$out" | grep -q "no free VF"
ok $? "migrate begin with no VF free and no-vf=refuse fails with one line: $out"
E=vfn-e-$$
native_xml "$E" "$(cat /proc/sys/kernel/random/uuid)" 52:54:00:6a:00:05 srchostv9 virtio-only > "$host/e.xml"
out=$(lvh_exec "$host" "$host/hook-wrapper" "$E" migrate begin - < "$host/e.xml" 2>&1); rc=$?
[ $rc != 0 ] && one_line "$out" && echo "$out" | grep -q "no VF for it on this host, and its VF device .* is in the migrated definition" &&
    ! lvh_exec "$host" "$CTL" --config "$NSCONF" pairs "$E" >/dev/null 2>&1
ok $? "migrate begin with no VF free, no-vf=virtio-only and the VF device in the XML (native) is refused, no record left: $out"

lvh_exec "$host" "$host/hook-wrapper" "$C" release end - < "$host/c.xml" >/dev/null 2>&1
lvh_virsh "$host" destroy "$A" >/dev/null; ok $? "domain destroyed"
wait_for 20 pool_jq '.free == 2 and .in_use == 0'; ok $? "release (and the incoming domain's release) gave every VF back"

if [ "$_tap_failed" != 0 ]; then
    diag "hookd log:"; sed 's/^/#   /' "$log" | tail -n 40
    diag "libvirtd log:"; grep -i error "$host/log-libvirt/libvirtd.log" | tail -n 10 | sed 's/^/#   /'
fi
