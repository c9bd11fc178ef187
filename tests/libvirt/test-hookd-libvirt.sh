#!/bin/bash
# hookd and the hook against a REAL libvirtd (private, in its own mount
# namespace: tests/lib/libvirt-host.sh) running real QEMU (TCG) domains:
# annotated domains started, stopped, destroyed; hookd sees every hook call
# and event; its state survives kill -9 of hookd and a libvirtd restart
# (reconnect + resync); a domain that stops while hookd is down is released
# at resync; with hookd down an annotated domain refuses to start with our
# one-line reason in virsh's error while a plain domain starts normally.
set -u
. "${top_srcdir:-.}/tests/lib/tap.sh"
. "${top_srcdir:-.}/tests/lib/libvirt-host.sh"
. "${top_srcdir:-.}/tests/libvirt/lib-hookd.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root (private libvirtd in a mount namespace)"
for t in libvirtd virtlogd virsh qemu-system-x86_64 unshare nsenter jq; do
    command -v $t >/dev/null || skip_all "$t not installed (scripts/setup-debian.sh)"
done
kernel=$(ls /boot/vmlinuz-* 2>/dev/null | head -n 1)
[ -n "$kernel" ] || skip_all "no /boot/vmlinuz-* (linux-image-amd64) to boot test domains"

tmp=$(mktemp -d)
chmod 0755 "$tmp"
host=$tmp/host
hookd_pid=
cleanup() {
    [ -n "$hookd_pid" ] && kill "$hookd_pid" 2>/dev/null
    lvh_stop "$host"
    wait 2>/dev/null
    if [ -n "${KEEP_TMP:-}" ]; then echo "# kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

lvh_setup "$host" || bail_out "cannot prepare the private libvirt host"
ns_prepare "$host"
cp "$kernel" "$host/lib-libvirt/images/vmlinuz"
chmod 0644 "$host/lib-libvirt/images/vmlinuz"

suffix=$$
A=vfa-$suffix
P=vfp-$suffix
uuid_a=$(cat /proc/sys/kernel/random/uuid)
uuid_p=$(cat /proc/sys/kernel/random/uuid)
K=/var/lib/libvirt/images/vmlinuz
domain_xml annotated "$A" "$uuid_a" "$K" > "$host/a.xml"
domain_xml plain "$P" "$uuid_p" "$K" > "$host/p.xml"
log=$host/hookd.log

start_hookd() {
    lvh_bg "$host" "$HOOKD" --config "$NSCONF" --foreground --verbose >>"$log" 2>&1
    hookd_pid=$!
    wait_for 20 lvh_exec "$host" "$CTL" --config "$NSCONF" status
}
stop_hookd() {   # stop_hookd SIGNAL
    kill -"$1" "$hookd_pid"
    wait "$hookd_pid" 2>/dev/null
    hookd_pid=
}
ctl() { lvh_exec "$host" "$CTL" --config "$NSCONF" --json "$@"; }
# dom_jq FILTER: FILTER applied to domain $A's record in `pairs --json`.
dom_jq() { ctl pairs | jq -e --arg u "$uuid_a" ".domains[] | select(.uuid == \$u) | $1" >/dev/null; }
has_note() { dom_jq "[.timeline[].what] | any(startswith(\"$1\"))"; }
no_record() { ctl pairs | jq -e --arg u "$uuid_a" '[.domains[] | select(.uuid == $u)] | length == 0' >/dev/null; }
connected() { ctl status | jq -e ".libvirt.state == \"connected\" and .libvirt.connects >= $1" >/dev/null; }

plan 25

lvh_start "$host" || bail_out "private libvirtd did not start (see $host/log-libvirt/libvirtd.log)"
start_hookd; ok $? "hookd runs inside the private host"
wait_for 20 connected 1; ok $? "hookd connected to the private libvirtd"

lvh_virsh "$host" define "$host/a.xml" >/dev/null && lvh_virsh "$host" define "$host/p.xml" >/dev/null
ok $? "annotated and plain domains defined"

# --- start an annotated domain: every hook call and the events ---
out=$(lvh_virsh "$host" start "$A" 2>&1); ok $? "annotated domain starts: $out"
wait_for 20 dom_jq '.phase == "running" and .pairs[0].state == "VIRTIO_ACTIVE"'
ok $? "hookd records the domain running, pair VIRTIO_ACTIVE (no VF manager yet)"
has_note "prepare begin" && has_note "start begin" && has_note "started begin"
ok $? "hookd saw prepare, start and started hooks"
wait_for 10 has_note "lifecycle STARTED BOOTED"; ok $? "hookd saw the STARTED BOOTED lifecycle event"
ctl status | jq -e '.hook.calls["prepare begin"] >= 1 and .hook.refused == 0' >/dev/null
ok $? "status counts the hook calls"

# --- kill -9 hookd: state survives, resync keeps the live domain ---
# A domain without VF is written to the state dir a moment (<= 200 ms) after
# its hooks: kill only once the running phase is on disk, so what we test is
# that the persisted record survives, not the save's timing.
persisted() { jq -e --arg u "$uuid_a" '.domains[] | select(.uuid == $u) | .phase == "running"' "$host/lib-vfailover/pairs.json"; }
wait_for 10 persisted || diag "running phase not persisted within 10 s"
stop_hookd KILL
start_hookd; ok $? "hookd restarts after kill -9"
wait_for 20 dom_jq '.phase == "running" and ([.timeline[].what] | any(startswith("resync: live in libvirt")))'
ok $? "the record survived kill -9 and the resync found the domain live"

# --- libvirtd restart: reconnect, reconnect hook, resync ---
lvh_restart_libvirtd "$host"; ok $? "private libvirtd restarted (the domain keeps running)"
wait_for 30 connected 2; ok $? "hookd reconnected to libvirtd"
wait_for 10 has_note "reconnect begin"; ok $? "hookd saw the reconnect hook for the running domain"
dom_jq '.phase == "running" and .pairs[0].state == "VIRTIO_ACTIVE"'
ok $? "the record is unchanged after the libvirtd restart"
resynced() { ctl status | jq -e '.resync.count >= 2' >/dev/null; }
wait_for 10 resynced; ok $? "a resync ran after the reconnect"

# --- destroy: stopped/release hooks and events, record released ---
lvh_virsh "$host" destroy "$A" >/dev/null; ok $? "annotated domain destroyed"
wait_for 10 no_record; ok $? "release forgot the domain's record"
grep -q "domain $A: released" "$log"; ok $? "hookd logged the release"

# --- stop while hookd is down: released at the next resync ---
lvh_virsh "$host" start "$A" >/dev/null && wait_for 20 dom_jq '.phase == "running"'
ok $? "annotated domain started again"
wait_for 10 persisted; ok $? "its record reached the state dir"
stop_hookd KILL
lvh_virsh "$host" destroy "$A" >/dev/null
start_hookd
wait_for 20 no_record && grep -q "domain $A: stopped while hookd was not watching" "$log"
ok $? "a domain destroyed while hookd was down is released at resync"

# --- hookd down: annotated refuses to start, plain starts ---
stop_hookd TERM
out=$(lvh_virsh "$host" start "$A" 2>&1); rc=$?
[ $rc != 0 ] && echo "$out" | grep -q "vfailover: domain $A is annotated for vfailover but vfailover-hookd is not reachable"
ok $? "hookd down: annotated domain refuses to start with our reason: $(echo "$out" | grep -o 'vfailover: .*' | head -n 1)"
[ "$(lvh_virsh "$host" domstate "$A" 2>/dev/null)" = "shut off" ]; ok $? "and it stays shut off"
out=$(lvh_virsh "$host" start "$P" 2>&1); ok $? "hookd down: plain domain starts normally: $out"
lvh_virsh "$host" destroy "$P" >/dev/null; ok $? "plain domain destroyed"

if [ "$_tap_failed" != 0 ]; then
    diag "hookd log:"; sed 's/^/#   /' "$log" | tail -n 40
    diag "libvirtd log:"; grep -i error "$host/log-libvirt/libvirtd.log" | tail -n 10 | sed 's/^/#   /'
fi
