#!/bin/bash
# vf-stream, the migration loss meter: its analysis on a hand-made record
# with known losses, clock offsets and windows (exact numbers), its CLI
# errors, and a live stream between the peer and the reflector in a
# private network namespace (both directions, a receive record larger than
# one report chunk).
. "$top_srcdir/tests/lib/tap.sh"
stream=$top_builddir/tests/lib/vf-stream
[ -x "$stream" ] || skip_all "tests/lib/vf-stream not built"

plan 9
tmp=$(mktemp -d)
ns=vfS-$$
cleanup() {
    [ -n "${rpid:-}" ] && kill "$rpid" 2>/dev/null
    ip netns del "$ns" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

# 100 pps from T0 = 1000 s. Forward: 40..49 and 80 lost. Reverse: the guest
# clock pauses 200 ms between its packets 59 and 60 (a migration); 30, 58
# and 59 lost. Windows: 395..455 ms and 700..750 ms after T0.
awk 'BEGIN {
    t0 = 1000000000000; g0 = 5000000000
    print "# vf-stream raw record v1"
    print "session 1 rate 100 report 1 rev_sent 100"
    for (i = 0; i < 100; i++)
        printf "fwd %d %.0f %d\n", i, t0 + i * 10000000, !((i >= 40 && i <= 49) || i == 80)
    for (i = 0; i < 100; i++) {
        if (i == 30 || i == 58 || i == 59) continue
        printf "rev %d %.0f %.0f\n", i, t0 + 1000000 + i * 10000000 + (i >= 60 ? 200000000 : 0), g0 + i * 10000000
    }
}' > "$tmp/raw"
out=$("$stream" analyze --raw "$tmp/raw" --label synth --window 1000.395,1000.455 --window 1000.700,1000.750 --gaps)
echo "$out" | sed 's/^/# /'
expect="vf-stream: label=synth fwd_sent=100 fwd_lost=11 fwd_lost_outside=5 fwd_longest_gap_ms=110.0 fwd_ok_before=40 fwd_ok_after=23 rev_sent=100 rev_lost=3 rev_lost_outside=1 rev_longest_gap_ms=230.0 rev_ok_before=39 rev_ok_after=40 window_ms=110.0 lost=14 lost_outside=6"
[ "$(echo "$out" | tail -n1)" = "$expect" ]
ok $? "analysis of a known record: losses per direction, outside the windows, gaps"

gaps=$(echo "$out" | grep ' gap ' | tr '\n' '|')
[ "$gaps" = "vf-stream: gap dir=fwd from_ms=5.0 to_ms=95.0 lost=10|vf-stream: gap dir=fwd from_ms=405.0 to_ms=405.0 lost=1|vf-stream: gap dir=rev from_ms=-94.0 to_ms=-94.0 lost=1|vf-stream: gap dir=rev from_ms=186.0 to_ms=396.0 lost=2|" ]
ok $? "--gaps lists each run of lost packets relative to the first window"

printf '# a comment\n1000.395 1000.455\n1000.700,1000.750\n' > "$tmp/win"
[ "$("$stream" analyze --raw "$tmp/raw" --label synth --window-file "$tmp/win" | tail -n1)" = "$expect" ]
ok $? "--window-file gives the same result"

"$stream" analyze --raw "$tmp/raw" --window 5,4 2>"$tmp/err"; rc=$?
[ $rc = 2 ] && grep -q 'window takes START,END' "$tmp/err"
ok $? "a reversed window is refused with one line"

"$stream" peer --to not-an-address 2>"$tmp/err"; rc=$?
[ $rc = 2 ] && [ "$(wc -l < "$tmp/err")" = 1 ]
ok $? "a bad --to is refused with one line ($(cat "$tmp/err"))"

printf 'fwd x\n' > "$tmp/bad"
"$stream" analyze --raw "$tmp/bad" 2>"$tmp/err"; rc=$?
[ $rc = 2 ] && grep -q 'line 1' "$tmp/err"
ok $? "a malformed record names its line"

if [ "$(id -u)" != 0 ] || ! ip netns add "$ns" 2>/dev/null; then
    for i in 7 8 9; do echo "ok $i # SKIP needs root for a network namespace"; done
    exit 0
fi
ip -n "$ns" link set lo up
ip netns exec "$ns" "$stream" reflect --port 7199 &
rpid=$!
sleep 0.3
out=$(ip netns exec "$ns" "$stream" peer --to 127.0.0.1:7199 --rate 100 --duration 2 --label live \
        --raw "$tmp/live.raw" --ready-file "$tmp/ready")
rc=$?
echo "$out" | sed 's/^/# /'
[ $rc = 0 ] && [ -e "$tmp/ready" ] && echo "$out" | grep -q 'label=live .*fwd_ok_before=[1-9].*rev_ok_before=[1-9]'
ok $? "a live stream flows both ways and the guest's record comes back"

[ "$("$stream" analyze --raw "$tmp/live.raw" --label live)" = "$(echo "$out" | tail -n1)" ]
ok $? "the raw record re-analyses to the same result"

# More packets than one report chunk (8192): the record comes back whole.
out=$(ip netns exec "$ns" "$stream" peer --to 127.0.0.1:7199 --rate 10000 --duration 2 --label big)
rc=$?
echo "$out" | sed 's/^/# /'
sent=$(echo "$out" | sed -n 's/.* fwd_sent=\([0-9]*\).*/\1/p')
[ $rc = 0 ] && ! echo "$out" | grep -q report=missing && [ "${sent:-0}" -gt 0 ]
ok $? "a fast stream's record ($sent packets, several report chunks if > 8192) comes back"
