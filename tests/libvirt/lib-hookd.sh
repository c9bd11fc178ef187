# Helpers shared by the tests in tests/libvirt/ (source after tap.sh).

B=${top_builddir:-.}
S=${top_srcdir:-.}
HOOK=$B/libvirt-hooks/vfailover-hook
HOOKD=$B/hookd/vfailover-hookd
CTL=$B/hookd/vfailoverctl

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

# one_line TEXT: exactly one non-empty line.
one_line() {
    [ -n "$1" ] && [ "$(printf '%s\n' "$1" | wc -l)" = 1 ]
}
