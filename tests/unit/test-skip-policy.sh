#!/bin/bash
# tests/run-test's skip policy: a whole-program skip (exit 77) and a single
# "ok N # SKIP" pass normally, fail under VFAILOVER_NO_SKIP=1, and still pass
# there for tests listed in the hardware-only list.
set -u
. "${top_srcdir:-.}/tests/lib/tap.sh"
RUN="${top_srcdir:-.}/tests/run-test"

tmp=$(mktemp -d)
trap 'rm -f -r "$tmp"' EXIT
printf '#!/bin/sh\necho "1..0 # SKIP no frobnicator here"\nexit 77\n' > "$tmp/skips-all"
printf '#!/bin/sh\necho "no frobnicator" >&2\nexit 77\n' > "$tmp/exits-77"
printf '#!/bin/sh\necho 1..2\necho "ok 1 - works"\necho "ok 2 # SKIP not here"\n' > "$tmp/skips-one"
printf '#!/bin/sh\necho 1..1\necho "ok 1 - works"\n' > "$tmp/passes"
printf '#!/bin/sh\necho 1..1\necho "not ok 1 - broken"\nexit 1\n' > "$tmp/fails"
chmod +x "$tmp"/*
printf '# comment\nskips-all\n' > "$tmp/hw.list"

# run NAME NOSKIP -> sets out and rc
run() {
    out=$(VFAILOVER_NO_SKIP=$2 VFAILOVER_HW_ONLY_LIST="$tmp/${3:-none.list}" bash "$RUN" "$tmp/$1" 2>/dev/null)
    rc=$?
}

plan 10
run skips-all 0;  [ $rc = 0 ] && echo "$out" | grep -q '^1\.\.0 # SKIP no frobnicator'; ok $? "skip allowed by default"
run skips-all 1;  [ $rc != 0 ] && echo "$out" | grep -q '^not ok 1 - skipped, but VFAILOVER_NO_SKIP=1 forbids skips: no frobnicator'; ok $? "whole-program skip fails under NO_SKIP"
run skips-all 1 hw.list; [ $rc = 0 ] && echo "$out" | grep -q '^1\.\.0 # SKIP'; ok $? "hardware-only test may skip under NO_SKIP"
run exits-77 0;   [ $rc = 0 ] && echo "$out" | grep -q '^1\.\.0 # SKIP exits-77 exited 77'; ok $? "bare exit 77 becomes a TAP skip"
run exits-77 1;   [ $rc != 0 ] && echo "$out" | grep -q '^not ok'; ok $? "bare exit 77 fails under NO_SKIP"
run skips-one 0;  [ $rc = 0 ] && echo "$out" | grep -q '^ok 2 # SKIP not here'; ok $? "single skip passes by default"
run skips-one 1;  [ $rc = 0 ] && echo "$out" | grep -q '^not ok 2 - skip forbidden by VFAILOVER_NO_SKIP=1: not here'; ok $? "single skip becomes not ok under NO_SKIP"
run passes 1;     [ $rc = 0 ] && [ "$out" = "$(printf '1..1\nok 1 - works')" ]; ok $? "passing test output unchanged"
run fails 0;      [ $rc = 1 ] && echo "$out" | grep -q '^not ok 1 - broken'; ok $? "failing test keeps its exit status"
bash -n "$RUN"; ok $? "run-test is valid bash"
