#!/bin/bash
# What libvirt 9.0 does with the XML libvfxml renders, checked on a private
# libvirtd (tests/lib/libvirt-host.sh) running a TCG domain in a network
# namespace made here:
#  - the emulated backend's VF device XML (the default model, vmxnet3, on
#    a tap, with an explicit address on a free PCIe root port: libvirt 9.0
#    would place a vmxnet3 on conventional PCI) is accepted cold in a
#    domain and for a live attach (rendered from the live XML, as hookd
#    does);
#  - the <qemu:override> failover_pair_id that vfx_pair_render_qemu_override()
#    gives reaches QEMU's command line for a device defined with the domain
#    (QEMU then hides it as a failover primary until the guest negotiates),
#  - but NOT a device hot-plugged with virDomainAttachDeviceFlags: libvirt
#    applies overrides only when building the command line. A QEMU-native
#    failover primary on the emulated backend must therefore be in the
#    domain definition when QEMU starts (or arrive with a migration), never
#    hot-plugged. If libvirt ever changes this, the last check fails.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/libvirt-host.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root (private libvirtd in namespaces)"
for t in libvirtd virtlogd virsh qemu-system-x86_64 ip nsenter unshare; do
    command -v "$t" >/dev/null || skip_all "$t not installed"
done
tool=$top_builddir/tests/xml/vfx-tool
[ -x "$tool" ] || bail_out "$tool not built"

plan 8

id=$$$RANDOM
ns=vfoxml$id
host=$(mktemp -d /tmp/vfoxml-lv.XXXXXX)
dom=vfoxml-$id
tap0=vfoc$((id % 100000))
tap1=vfoh$((id % 100000))
cleanup() {
    lvh_stop "$host/h"
    ip netns del "$ns" 2>/dev/null
    rm -rf "$host"
}
trap cleanup EXIT

ip netns add "$ns" || bail_out "cannot create network namespace $ns"
for t in "$tap0" "$tap1"; do
    ip -n "$ns" tuntap add dev "$t" mode tap && ip -n "$ns" link set "$t" up ||
        bail_out "cannot create tap $t in $ns"
done

# Two native-mode pairs on virtio interfaces; pair 0's VF is in the
# definition, pair 1's is hot-plugged later. Both overrides are defined.
virtio_if() {
    cat <<XML
    <interface type='user'>
      <mac address='$1'/>
      <model type='virtio'/>
      <teaming type='persistent'/>
      <alias name='$2'/>
    </interface>
XML
}
domain_xml() {
    cat <<XML
<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>$dom</name>
  <metadata>
    <vfo:failover xmlns:vfo='http://vfailover.org/schemas/domain/1.0' version='1'>
      <vfo:pair alias='ua-backup0'><vfo:pf dev='vfo-pf0'/></vfo:pair>
      <vfo:pair alias='ua-backup1'><vfo:pf dev='vfo-pf0'/></vfo:pair>
    </vfo:failover>
  </metadata>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <features><acpi/></features>
  <devices>
$(for i in 1 2 3 4 5 6 7 8; do echo "    <controller type='pci' index='$i' model='pcie-root-port'/>"; done)
$(virtio_if 52:54:00:5a:00:01 ua-backup0)
$(virtio_if 52:54:00:5a:00:02 ua-backup1)
$1
  </devices>
  <qemu:override>
$2
  </qemu:override>
</domain>
XML
}
domain_xml "" "" > "$host/base.xml"
vf0=$("$tool" render "$host/base.xml" ua-backup0 --tap "$tap0") &&
ov0=$("$tool" override "$host/base.xml" ua-backup0) &&
ov1=$("$tool" override "$host/base.xml" ua-backup1) &&
grep -q "<model type='vmxnet3'/>" <<<"$vf0" && grep -q "<address type='pci' bus='0x01' slot='0x00'" <<<"$vf0"
ok $? "libvfxml renders the defined VF (vmxnet3 on root port 1) and both overrides" || diag "$vf0"
# <qemu:device> carries its own xmlns:qemu; inside <qemu:override> it is redundant but valid.
domain_xml "$vf0" "$ov0
$ov1" > "$host/dom.xml"
alias0=$(sed -n "s/.*<alias name='\(ua-vfo-[0-9a-f]*\)'.*/\1/p" <<<"$vf0")

lvh_setup "$host/h" "$ns" && lvh_start "$host/h" || bail_out "private libvirtd did not start"

out=$(lvh_virsh "$host/h" define "$host/dom.xml" 2>&1 && lvh_virsh "$host/h" start "$dom" 2>&1)
ok $? "a domain with the rendered VF and its override defines and starts" || diag "$out"

grep -q "\"id\":\"$alias0\".*\"failover_pair_id\":\"ua-backup0\"\|\"failover_pair_id\":\"ua-backup0\".*\"id\":\"$alias0\"" \
    "$host/h/log-libvirt/qemu/$dom.log"
ok $? "QEMU's command line gives the defined VF failover_pair_id=ua-backup0"

qom() {
    lvh_virsh "$host/h" qemu-monitor-command "$dom" \
        "{\"execute\":\"qom-get\",\"arguments\":{\"path\":\"/machine/peripheral/$1\",\"property\":\"failover_pair_id\"}}" 2>&1
}
out=$(qom "$alias0")
grep -q DeviceNotFound <<<"$out"
ok $? "QEMU holds the defined VF back as a failover primary (guest has not negotiated)" || diag "$out"

lvh_virsh "$host/h" dumpxml "$dom" > "$host/live.xml" &&
    "$tool" render "$host/live.xml" ua-backup1 --tap "$tap1" > "$host/vf1.xml" &&
    out=$(lvh_virsh "$host/h" attach-device "$dom" "$host/vf1.xml" --live 2>&1)
ok $? "libvirt hot-plugs the VF rendered from the live XML" || diag "$out $(cat "$host/vf1.xml")"
alias1=$(sed -n "s/.*<alias name='\(ua-vfo-[0-9a-f]*\)'.*/\1/p" "$host/vf1.xml")

lvh_virsh "$host/h" dumpxml "$dom" | grep -q "<alias name='$alias1'/>"
ok $? "the hot-plugged VF is in the live XML under its vfailover alias"

out=$(qom "$alias1")
grep -q '"return":""' <<<"$out"
ok $? "libvirt 9.0 does not apply <qemu:override> to a hot-plugged device (failover_pair_id stays empty)" ||
    diag "$out"

# And the hook-side rewrite of this live domain still validates.
lvh_virsh "$host/h" dumpxml "$dom" > "$host/live.xml"
"$tool" rewrite "$host/live.xml" ua-backup0 --tap vfo-dst0 > "$host/rewritten.xml" &&
    grep -q "<target dev=\"vfo-dst0\" managed=\"no\"/>" "$host/rewritten.xml" &&
    virt-xml-validate "$host/rewritten.xml" domain >/dev/null 2>&1
ok $? "the live XML rewritten for a destination tap is a valid domain"
exit $(( _tap_failed > 0 ))
