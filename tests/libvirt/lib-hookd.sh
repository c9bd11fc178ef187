# Helpers shared by the tests in tests/libvirt/ (source after tap.sh).

B=${top_builddir:-.}
S=${top_srcdir:-.}
HOOK=$B/libvirt-hooks/vfailover-hook
HOOKD=$B/hookd/vfailover-hookd
CTL=$B/tools/vfailoverctl

# domain_xml TEMPLATE NAME UUID KERNEL [NOVF]: a test domain on stdout.
domain_xml() {
    sed -e "s|@NAME@|$2|; s|@UUID@|$3|; s|@KERNEL@|$4|; s|@NOVF@|${5:-virtio-only}|" \
        "$S/tests/libvirt/data/$1.xml"
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
    local n=$(($1 * 10))
    shift
    while [ $n -gt 0 ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
        n=$((n - 1))
    done
    return 1
}

# detach_until SECONDS HOST DOMAIN XMLFILE CMD...: detach the device in
# XMLFILE from DOMAIN and poll CMD, re-sending the request every 6 s until
# CMD succeeds. A PCIe unplug is a request the guest must answer; a test
# domain that is still booting (or rebooting: these guests panic without a
# root fs and restart) can miss it, and QEMU accepts the request again once
# its 5 s pending window has passed.
detach_until() {
    local deadline=$(($(date +%s) + $1)) host=$2 dom=$3 xml=$4 n=0
    shift 4
    while [ "$(date +%s)" -lt "$deadline" ]; do
        lvh_virsh "$host" detach-device "$dom" "$xml" >/dev/null 2>&1
        n=$((n + 1))
        if wait_for 6 "$@"; then
            [ $n = 1 ] || diag "the guest answered unplug request $n of $dom"
            return 0
        fi
    done
    return 1
}

# one_line TEXT: exactly one non-empty line.
one_line() {
    [ -n "$1" ] && [ "$(printf '%s\n' "$1" | wc -l)" = 1 ]
}

# Inside a private libvirt host (tests/lib/libvirt-host.sh): hookd, the hook
# and vfailoverctl all read NSCONF, whose paths are the host's private
# /run/vfailover and /var/lib/vfailover, whatever prefix the build was
# configured with (make distcheck installs under its own). libvirtd clears
# the hook's environment: a wrapper hands it VFAILOVER_CONFIG.
NSCONF=/etc/vfailover/vfailover.conf

# ns_prepare DIR [EXTRA_CONFIG_LINES]: write DIR's config and install the
# hook wrapper (call between lvh_setup and lvh_start).
ns_prepare() {
    local dir=$1 hook_abs
    hook_abs=$(cd "$(dirname "$HOOK")" && pwd)/$(basename "$HOOK")
    printf '[hookd]\nsocket = /run/vfailover/hook.sock\nctl-socket = /run/vfailover/ctl.sock\nstate-dir = /var/lib/vfailover\nhook-timeout-ms = 5000\n%s\n' \
        "${2:-}" > "$dir/etc-vfailover/vfailover.conf"
    printf '#!/bin/sh\nVFAILOVER_CONFIG=%s exec %s "$@"\n' "$NSCONF" "$hook_abs" > "$dir/hook-wrapper"
    chmod 0755 "$dir/hook-wrapper"
    lvh_install_hook "$dir" "$dir/hook-wrapper"
}
