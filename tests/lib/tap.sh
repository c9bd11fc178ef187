# Minimal TAP helpers for vfailover's shell tests. Source it, call `plan N`,
# then `cmd; ok $? "description"` for each check; `skip_all "reason"` when the
# test cannot run here (exit 77; tests/run-test applies VFAILOVER_NO_SKIP).
_tap_n=0
_tap_failed=0

plan() { echo "1..$1"; }

ok() {
    local rc=$1; shift
    _tap_n=$((_tap_n + 1))
    if [ "$rc" = 0 ]; then
        echo "ok $_tap_n - $*"
    else
        echo "not ok $_tap_n - $*"
        _tap_failed=$((_tap_failed + 1))
    fi
    return 0
}

diag() { echo "# $*"; }

skip_all() {
    echo "1..0 # SKIP $*"
    exit 77
}

bail_out() {
    echo "Bail out! $*"
    exit 1
}
