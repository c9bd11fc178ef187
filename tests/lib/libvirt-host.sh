# A private libvirt host for tests: libvirtd + virtlogd in their own mount
# namespace (optionally inside a given network namespace), never the
# machine's. Source it from a test (bash); every function takes the host's
# directory DIR (created by the caller, e.g. "$tmp/hostA") as its handle.
#
#   lvh_setup DIR [NETNS]        private trees + config under DIR (no daemon yet)
#   lvh_conf DIR FILE LINE       append LINE to DIR's /etc/libvirt/FILE
#   lvh_install_hook DIR SRC [NAME]
#                                install SRC as /etc/libvirt/hooks/qemu.d/NAME
#                                (default 50-vfailover); hooks are read when
#                                libvirtd starts: install before lvh_start
#   lvh_start DIR [LIBVIRTD_ARGS...]
#                                namespace holder + virtlogd + libvirtd; waits
#                                until libvirtd answers
#   lvh_exec DIR CMD [ARGS...]   run CMD inside the host's namespaces
#   lvh_bg DIR CMD [ARGS...]     same, in the background ($! is CMD's pid)
#   lvh_virsh DIR ARGS...        virsh -c qemu:///system inside the host
#   lvh_uri DIR                  a URI reaching this libvirtd from outside
#   lvh_restart_libvirtd DIR [LIBVIRTD_ARGS...]
#                                kill libvirtd (domains keep running), start again
#   lvh_stop_libvirtd DIR        kill libvirtd only
#   lvh_start_libvirtd DIR [LIBVIRTD_ARGS...]
#   lvh_stop DIR                 destroy domains, stop daemons and QEMUs, leave
#                                nothing running (safe to call twice, from traps)
#
# Inside the namespace these are private bind mounts of DIR's sub-directories:
#   /etc/libvirt /run/libvirt /var/lib/libvirt /var/log/libvirt
#   /var/cache/libvirt /etc/vfailover /run/vfailover /var/lib/vfailover
# so a vfailover-hookd started with lvh_exec/lvh_bg uses its default paths,
# and the hook libvirtd runs finds it. From outside, the same files are under
# DIR/etc-libvirt, DIR/run-libvirt, ... (see _lvh_binds). libvirtd's log is
# DIR/log-libvirt/libvirtd.log, QEMU's DIR/log-libvirt/qemu/NAME.log.
#
# The packaged /etc/libvirt is copied in without hooks and without
# autostarted networks; qemu.conf gets `cgroup_controllers = [ ]`.

_lvh_binds="etc-libvirt:/etc/libvirt run-libvirt:/run/libvirt lib-libvirt:/var/lib/libvirt
log-libvirt:/var/log/libvirt cache-libvirt:/var/cache/libvirt etc-vfailover:/etc/vfailover
run-vfailover:/run/vfailover lib-vfailover:/var/lib/vfailover"

lvh_setup() {
    local dir=$1 netns=${2:-} b src dst
    mkdir -p "$dir" || return 1
    dir=$(cd "$dir" && pwd)
    for b in $_lvh_binds; do
        src=${b%%:*}; dst=${b#*:}
        mkdir -p "$dir/$src" || return 1
    done
    cp -a /etc/libvirt/. "$dir/etc-libvirt/" || return 1
    rm -rf "$dir/etc-libvirt/hooks" "$dir/etc-libvirt/qemu/networks/autostart"
    mkdir -p "$dir/etc-libvirt/hooks/qemu.d" "$dir/etc-libvirt/qemu/networks/autostart"
    # Only our own domains: none survive from the machine's configuration.
    find "$dir/etc-libvirt/qemu" -maxdepth 1 -name '*.xml' -delete
    mkdir -p "$dir/lib-libvirt/qemu" "$dir/lib-libvirt/images" "$dir/log-libvirt/qemu" \
        "$dir/cache-libvirt/qemu"
    chown libvirt-qemu:libvirt-qemu "$dir/lib-libvirt/qemu" 2>/dev/null
    chmod 0751 "$dir/lib-libvirt/qemu"
    printf '%s\n' 'cgroup_controllers = [ ]' >> "$dir/etc-libvirt/qemu.conf"
    printf '%s\n' 'log_outputs = "3:file:/var/log/libvirt/libvirtd.log"' \
        >> "$dir/etc-libvirt/libvirtd.conf"
    printf '%s\n' "$netns" > "$dir/netns"
    # Sockets of a test host live under DIR: keep it traversable for QEMU's
    # user (vhost-user sockets) while the files themselves stay private.
    chmod 0755 "$dir"
}

lvh_conf() {
    printf '%s\n' "$3" >> "$1/etc-libvirt/$2"
}

lvh_install_hook() {
    local dir=$1 src=$2 name=${3:-50-vfailover}
    src=$(cd "$(dirname "$src")" && pwd)/$(basename "$src")
    ln -sf "$src" "$dir/etc-libvirt/hooks/qemu.d/$name"
}

# The namespace holder: mounts the private trees, records its pid, sleeps.
# Every daemon and lvh_exec enters its namespaces with nsenter.
_lvh_holder_script='
set -e
dir=$1; shift
for b in '"$(echo $_lvh_binds)"'; do
    mount --bind "$dir/${b%%:*}" "${b#*:}"
done
echo $$ > "$dir/holder.pid"
exec sleep 2147483647
'

lvh_start() {
    local dir=$1 netns b i
    shift
    dir=$(cd "$dir" && pwd)
    netns=$(cat "$dir/netns" 2>/dev/null)
    # Mount points must exist on the machine (empty directories, never used).
    for b in $_lvh_binds; do
        mkdir -p "${b#*:}" || return 1
    done
    rm -f "$dir/holder.pid"
    if [ -n "$netns" ]; then
        ip netns exec "$netns" unshare --mount --propagation private --fork \
            sh -c "$_lvh_holder_script" lvh-holder "$dir" </dev/null >/dev/null 2>&1 &
    else
        unshare --mount --propagation private --fork \
            sh -c "$_lvh_holder_script" lvh-holder "$dir" </dev/null >/dev/null 2>&1 &
    fi
    echo $! > "$dir/unshare.pid"
    for i in $(seq 100); do
        [ -s "$dir/holder.pid" ] && break
        sleep 0.05
    done
    [ -s "$dir/holder.pid" ] || { echo "lvh_start: namespace holder did not start" >&2; return 1; }
    lvh_exec "$dir" virtlogd -d -p /run/libvirt/virtlogd.pid || return 1
    lvh_start_libvirtd "$dir" "$@"
}

lvh_start_libvirtd() {
    local dir=$1 i
    shift
    rm -f "$dir/run-libvirt/libvirtd.pid"
    lvh_exec "$dir" libvirtd -d -p /run/libvirt/libvirtd.pid "$@" || return 1
    # libvirtd probes QEMU's capabilities on its first start (a few seconds).
    for i in $(seq 600); do
        if [ -S "$dir/run-libvirt/libvirt-sock" ] &&
           lvh_virsh "$dir" version >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    echo "lvh_start: libvirtd in $dir did not answer within 60 s (see $dir/log-libvirt/libvirtd.log)" >&2
    return 1
}

# The nsenter options that enter DIR's namespaces, one per line.
_lvh_nsenter_args() {
    local dir=$1 pid
    pid=$(cat "$dir/holder.pid" 2>/dev/null) || { echo "lvh: host $dir is not running" >&2; return 1; }
    printf '%s\n' -t "$pid" -m
    [ -n "$(cat "$dir/netns" 2>/dev/null)" ] && printf '%s\n' -n
    return 0
}

lvh_exec() {
    local dir=$1 args
    shift
    args=$(_lvh_nsenter_args "$dir") || return 1
    # shellcheck disable=SC2086
    nsenter $args -- "$@"
}

# nsenter execs CMD (no fork without -p): $! is CMD's own pid, so the
# caller can signal it (kill -9 a daemon under test).
lvh_bg() {
    local dir=$1 args
    shift
    args=$(_lvh_nsenter_args "$dir") || return 1
    # shellcheck disable=SC2086
    nsenter $args -- "$@" &
}

lvh_virsh() {
    local dir=$1
    shift
    lvh_exec "$dir" virsh -q -c qemu:///system "$@"
}

lvh_uri() {
    echo "qemu:///system?socket=$(cd "$1" && pwd)/run-libvirt/libvirt-sock"
}

# Kill the daemon named by a pidfile and wait for it to go (bounded).
_lvh_kill_pidfile() {
    local pidfile=$1 sig=${2:-TERM} pid i
    pid=$(cat "$pidfile" 2>/dev/null) || return 0
    [ -n "$pid" ] || return 0
    kill -"$sig" "$pid" 2>/dev/null || { rm -f "$pidfile"; return 0; }
    for i in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    rm -f "$pidfile"
    return 0
}

lvh_stop_libvirtd() {
    _lvh_kill_pidfile "$1/run-libvirt/libvirtd.pid"
    rm -f "$1/run-libvirt/libvirt-sock"
}

lvh_restart_libvirtd() {
    local dir=$1
    shift
    lvh_stop_libvirtd "$dir"
    lvh_start_libvirtd "$dir" "$@"
}

lvh_stop() {
    local dir=$1 dom f
    [ -d "$dir" ] || return 0
    if [ -s "$dir/holder.pid" ] && [ -S "$dir/run-libvirt/libvirt-sock" ]; then
        for dom in $(lvh_exec "$dir" timeout 20 virsh -q -c qemu:///system list --name 2>/dev/null); do
            lvh_exec "$dir" timeout 20 virsh -q -c qemu:///system destroy "$dom" >/dev/null 2>&1
        done
    fi
    lvh_stop_libvirtd "$dir"
    _lvh_kill_pidfile "$dir/run-libvirt/virtlogd.pid"
    # QEMUs libvirtd could not destroy (it was down): their pidfiles.
    for f in "$dir"/run-libvirt/qemu/*.pid; do
        [ -e "$f" ] && _lvh_kill_pidfile "$f" KILL
    done
    _lvh_kill_pidfile "$dir/holder.pid" KILL
    _lvh_kill_pidfile "$dir/unshare.pid" KILL
    return 0
}
