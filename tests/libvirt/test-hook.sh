#!/bin/bash
# vfailover-hook <-> vfailover-hookd without libvirtd (hookd on test:///default,
# in its own network namespace with one emulated PF of one VF): the hook
# protocol for plain and annotated domains, VF reservation at prepare and
# release at release, the no-VF policies, clear one-line errors
# for bad input (garbage XML, huge stdin, unknown operation, wrong argv,
# garbage frames, a non-root peer), fail closed/open with hookd down, and
# hookd still serving afterwards.
set -u
. "${top_srcdir:-.}/tests/lib/tap.sh"
. "${top_srcdir:-.}/tests/libvirt/lib-hookd.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root (hook socket is root-only; runs a peer as another uid)"
command -v jq >/dev/null || skip_all "jq not installed (scripts/setup-debian.sh installs it)"
command -v python3 >/dev/null || skip_all "python3 not installed"
command -v ip >/dev/null || skip_all "ip (iproute2) not installed"

tmp=$(mktemp -d)
chmod 0755 "$tmp"
hookd_pid=
netns=vfh-$$
cleanup() {
    [ -n "$hookd_pid" ] && kill "$hookd_pid" 2>/dev/null
    wait 2>/dev/null
    ip netns del "$netns" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$netns" || bail_out "cannot create network namespace $netns"

conf=$tmp/vfailover.conf
cat > "$conf" <<EOC
[hookd]
socket = $tmp/run/hook.sock
ctl-socket = $tmp/run/ctl.sock
state-dir = $tmp/state
libvirt-uri = test:///default
max-message-bytes = 65536
hook-timeout-ms = 3000

[pf:vfotest0]
backend = emulated
num-vfs = 1
EOC
chmod 0644 "$conf"
export VFAILOVER_CONFIG=$conf

start_hookd() {
    ip netns exec "$netns" "$HOOKD" --config "$conf" --foreground --verbose 2>>"$tmp/hookd.log" &
    hookd_pid=$!
    wait_for 10 "$CTL" --config "$conf" status
}
hook() { "$HOOK" "$@" 2>"$tmp/err"; }
pairs() { "$CTL" --config "$conf" --json pairs; }

uuid=5f0c7a52-8d33-4c52-9a51-0c1e2d3f4a01
domain_xml annotated vfa-t "$uuid" /nonexistent > "$tmp/annotated.xml"
domain_xml annotated vfr-t 5f0c7a52-8d33-4c52-9a51-0c1e2d3f4a02 /nonexistent refuse > "$tmp/refuse.xml"
domain_xml plain vfp-t 5f0c7a52-8d33-4c52-9a51-0c1e2d3f4a03 /nonexistent > "$tmp/plain.xml"
domain_xml annotated vfu-t 5f0c7a52-8d33-4c52-9a51-0c1e2d3f4a04 /nonexistent refuse |
    sed 's/vfotest0/vfnope0/' > "$tmp/unknown-pf.xml"

plan 29
start_hookd; ok $? "hookd serves on test:///default"

out=$(hook vfp-t prepare begin - < "$tmp/plain.xml"); rc=$?
[ $rc = 0 ] && [ -z "$out" ] && [ ! -s "$tmp/err" ]; ok $? "plain domain: prepare passes silently (hookd not asked)"

out=$(hook vfa-t prepare begin - < "$tmp/annotated.xml"); rc=$?
[ $rc = 0 ] && [ -z "$out" ]; ok $? "annotated domain: prepare passes (rc $rc: $(cat "$tmp/err"))"
pairs | jq -e --arg u "$uuid" '.domains[] | select(.uuid == $u) | .phase == "preparing" and .pairs[0].alias == "ua-net0" and .pairs[0].state == "VIRTIO_ACTIVE" and .pairs[0].vf.pf == "vfotest0" and .pairs[0].vf.index == 0 and .pairs[0].vf.netdev == "vfotest0v0"' >/dev/null
ok $? "prepare registered the pair (VIRTIO_ACTIVE) with VF 0 of PF vfotest0 reserved"
[ -s "$tmp/state/vf/vfotest0-vf0.json" ]; ok $? "the reservation is in the state dir before the reply"

hook vfa-t start begin - < "$tmp/annotated.xml" && hook vfa-t started begin - < "$tmp/annotated.xml"
ok $? "start and started pass"
pairs | jq -e --arg u "$uuid" '.domains[] | select(.uuid == $u) | .phase == "running" and ([.timeline[].what] | index("started begin") != null)' >/dev/null
ok $? "started moves the domain to running, on its timeline"

out=$(hook vfa-t migrate begin - < "$tmp/annotated.xml"); rc=$?
[ $rc = 0 ] && [ -z "$out" ]; ok $? "migrate begin without a VF to rewrite prints nothing (unchanged)"

out=$(hook vfr-t prepare begin - < "$tmp/refuse.xml"); rc=$?; err=$(cat "$tmp/err")
[ $rc = 1 ] && one_line "$err" && echo "$err" | grep -q "^vfailover: domain vfr-t: interface ua-net0: PF vfotest0: no free VF.*refuses to start without a VF"
ok $? "no free VF and policy refuse: start refused with one line: $err"
hook vfu-t prepare begin - < "$tmp/unknown-pf.xml"; rc=$?; err=$(cat "$tmp/err")
[ $rc = 1 ] && one_line "$err" && echo "$err" | grep -q "^vfailover: domain vfu-t: interface ua-net0: PF vfnope0 is not configured"
ok $? "unknown PF and policy refuse: refused with one line: $err"
pairs | jq -e '[.domains[].name] | index("vfr-t") == null' >/dev/null
ok $? "a refused start leaves no record behind"

printf '<domain><name>vfg-t</name><metadata><x xmlns="http://vfailover.org/schemas/domain/1.0">' > "$tmp/garbage.xml"
head -c 3000 /dev/urandom >> "$tmp/garbage.xml"
hook vfg-t prepare begin - < "$tmp/garbage.xml"; rc=$?; err=$(cat "$tmp/err")
[ $rc = 1 ] && one_line "$err" && echo "$err" | grep -q "^vfailover: domain vfg-t: prepare begin: .*not valid UTF-8"
ok $? "annotated binary garbage: refused with one line: $err"
printf '<domain><name>vfm-t</name><metadata><x xmlns="http://vfailover.org/schemas/domain/1.0"><y>' > "$tmp/malformed.xml"
hook vfm-t prepare begin - < "$tmp/malformed.xml"; rc=$?; err=$(cat "$tmp/err")
[ $rc = 1 ] && one_line "$err" && echo "$err" | grep -q "^vfailover: .*vfm-t"
ok $? "annotated malformed XML: refused by hookd with one line naming the domain: $err"

head -c 3000 /dev/urandom > "$tmp/noise"
hook vfn-t prepare begin - < "$tmp/noise"; rc=$?
[ $rc = 0 ]; ok $? "unannotated garbage: not vfailover's business, passes"

head -c 200000 /dev/zero | tr '\0' 'x' > "$tmp/huge"
hook vfh-t prepare begin - < "$tmp/huge"; rc=$?; err=$(cat "$tmp/err")
[ $rc = 1 ] && one_line "$err" && echo "$err" | grep -q "larger than .* bytes (max-message-bytes"
ok $? "stdin over max-message-bytes: one line: $err"

hook vfa-t frobnicate begin - < "$tmp/annotated.xml"; rc=$?; err=$(cat "$tmp/err")
[ $rc = 1 ] && one_line "$err" && echo "$err" | grep -q "unknown hook operation 'frobnicate begin'"
ok $? "unknown operation on an annotated domain: one line: $err"
hook vfp-t frobnicate begin - < "$tmp/plain.xml"; ok $? "unknown operation on a plain domain passes"

hook vfa-t prepare; rc=$?; err=$(cat "$tmp/err")
[ $rc = 2 ] && one_line "$err"; ok $? "wrong argv: exit 2 and one line: $err"

python3 - "$tmp/run/hook.sock" <<'EOP'
import socket, struct, sys
for payload in (b"\xff\xfe garbage", b'{"protocol": 1, "object": 5}', b"[1,2]"):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
    s.sendall(struct.pack(">I", len(payload)) + payload); s.recv(4096); s.close()
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(struct.pack(">I", 1 << 30)); s.recv(4096); s.close()
EOP
st=$("$CTL" --config "$conf" --json status)
echo "$st" | jq -e '.hook.bad_requests >= 4' >/dev/null; ok $? "garbage frames counted as bad requests"
kill -0 "$hookd_pid"; ok $? "hookd keeps running after bad input"

chmod 0666 "$tmp/run/hook.sock"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$HOOK" vfa-t prepare begin - < "$tmp/annotated.xml" 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "only uid 0 may connect"; ok $? "non-root peer refused by SO_PEERCRED: $out"

hook vfa-t stopped end - < "$tmp/annotated.xml" && hook vfa-t release end - < "$tmp/annotated.xml"
ok $? "stopped and release pass"
pairs | jq -e '.domains | length == 0' >/dev/null; ok $? "release forgets the domain"
"$CTL" --config "$conf" --json status | jq -e '.vf_manager.vfs == 1 and .vf_manager.free == 1' >/dev/null &&
    [ ! -e "$tmp/state/vf/vfotest0-vf0.json" ]
ok $? "release gave the VF back to the pool"
echo "$st" | jq -e '.hook.calls["prepare begin"] == 4 and .hook.calls["started begin"] == 1 and .hook.calls["frobnicate begin"] == 1' >/dev/null
ok $? "status counts the hook calls of annotated domains by operation"

kill "$hookd_pid"; wait "$hookd_pid" 2>/dev/null; hookd_pid=
hook vfa-t prepare begin - < "$tmp/annotated.xml"; rc=$?; err=$(cat "$tmp/err")
[ $rc = 1 ] && one_line "$err" && echo "$err" | grep -q "domain vfa-t is annotated for vfailover but vfailover-hookd is not reachable"
ok $? "hookd down, annotated domain: fails closed with one line: $err"
hook vfp-t prepare begin - < "$tmp/plain.xml"; rc=$?
[ $rc = 0 ] && [ ! -s "$tmp/err" ]; ok $? "hookd down, plain domain: silent success"
hook vfa-t release end - < "$tmp/annotated.xml"; ok $? "hookd down, annotated release still passes (never blocks a stop)"

printf '[hookd]\nhook-timeout-ms = x\n' > "$tmp/broken.conf"
VFAILOVER_CONFIG=$tmp/broken.conf "$HOOK" vfa-t prepare begin - < "$tmp/annotated.xml" 2>"$tmp/err"; rc=$?; err=$(cat "$tmp/err")
[ $rc = 1 ] && one_line "$err" && echo "$err" | grep -q "hook-timeout-ms has an invalid value"
ok $? "broken configuration, annotated domain: fails closed naming the key: $err"
