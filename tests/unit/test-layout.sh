#!/bin/bash
# The folder boundaries of doc/architecture.md, checked on the sources and
# on the built objects: sriov/ (libvfsriov.a) knows nothing of hookd,
# libvirt or pairs; hookd/ and tools/ include only sriov/include/; in
# failover/dp the calls go ctl -> pair -> {port, vhost} -> rcu, never back.
set -u
. "${top_srcdir:-.}/tests/lib/tap.sh"
S=${top_srcdir:-.}
B=${top_builddir:-.}

plan 7

# Every #include "..." of the files under $1, as "file: header".
includes() { grep -rHo '^#include "[^"]*"' "$@" | sed 's/#include "\(.*\)"/\1/'; }

bad=$(includes "$S/sriov" | grep -E ': (hookd-|vfx-|libvirt/)')
[ -z "$bad" ]; ok $? "no file in sriov/ includes a hookd, libvfxml or libvirt header${bad:+: $bad}"

bad=$(grep -rlE '\bvir[A-Z][A-Za-z]+\(|\bhookd_[a-z_]+\(' "$S/sriov" 2>/dev/null)
[ -z "$bad" ]; ok $? "no file in sriov/ calls libvirt or hookd${bad:+: $bad}"

lib=$B/sriov/libvfsriov.a
if [ -f "$lib" ]; then
    bad=$(nm -u "$lib" | awk '{print $NF}' | grep -E '^(vir|hookd_|vfx_)' | sort -u | tr '\n' ' ')
    [ -z "$bad" ]; ok $? "libvfsriov.a needs no libvirt, hookd or libvfxml symbol${bad:+: $bad}"
else
    ok 1 "libvfsriov.a is built ($lib missing)"
fi

private=$(cd "$S/sriov" && find . -name '*.h' ! -path './include/*' -printf '%f\n' | paste -sd'|')
bad=$(includes "$S/hookd" "$S/tools" | grep -E ": ($private)\$")
[ -z "$bad" ]; ok $? "hookd/ and tools/ include no private sriov/ header${bad:+: $bad}"

[ -z "$(find "$S/hookd" -name 'sriov-*')" ]; ok $? "hookd/ has no sriov-* file"

dp=$S/failover/dp
if [ -d "$dp" ]; then
    bad=$(grep -HoE '\bdp_(pair|ctl)_[a-z_]+\(' "$dp/dp-port.c" "$dp/dp-vhost.c" "$dp/dp-rcu.c" 2>&1)
    [ -z "$bad" ]; ok $? "dp-port, dp-vhost and dp-rcu call nothing above them${bad:+: $bad}"
    bad=$(grep -HoE '\bdp_(pair|port|vhost|ctl)_[a-z_]+\(' "$dp/dp-rcu.c" 2>&1)
    [ -z "$bad" ]; ok $? "dp-rcu calls no other datapath file${bad:+: $bad}"
else
    ok 1 "failover/dp exists"; ok 1 "failover/dp exists"
fi
