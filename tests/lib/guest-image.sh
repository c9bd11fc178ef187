#!/bin/bash
# Builds the tiny Linux guest the end-to-end tests and the demo boot under
# TCG: the host's Debian kernel plus an initramfs holding busybox-static, the
# virtio/net_failover/e1000e/vmxnet3 modules and the vf-stream reflector. The result
# is cached in a build directory and rebuilt only when an input changes.
#
# Use as a program:   guest-image.sh [--out DIR] [--stream BIN]
#                     (prints "kernel=PATH" and "initrd=PATH")
# or source it and call: guest_image_build DIR [STREAM_BIN]
#                     (sets GUEST_KERNEL and GUEST_INITRD)
#
# Guest kernel command line (besides console=ttyS0):
#   vf.ip=ADDR/PLEN   address of the failover master (the virtio netdev that
#                     owns the MAC); without it the guest stays unaddressed
#   vf.port=N         UDP port of the vf-stream reflector (default 7100)
#   vf.stream=0       do not start the reflector
#   vf.trace=1        print every skb the kernel drops (tracepoint
#                     skb:kfree_skb: where and why) on the console as
#                     "vf-guest: drop ..." (to find losses inside the guest);
#   vf.trace=stack    the same with each IPv4 drop's kernel stack
#                     (both also print the e1000e driver's resets, ups and
#                     downs and ring cleanups as "vf-guest: nic ..." lines)
# Console markers (grep the serial log): "vf-guest: modules loaded",
# "vf-guest: ready master=IF ip=ADDR", "vf-guest: slaves master=IF
# standby=IF primary=IF|- mac=MAC" (printed again on every change),
# "vf-guest: link IF up|down".

GUEST_MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net e1000e vmxnet3"

# The guest's /init (busybox ash). Kept here so that its text is one of the
# cache inputs.
_guest_init_script() {
    cat <<'EOF'
#!/bin/busybox sh
# vfailover test guest: load the NIC modules, address the failover master,
# run the stream reflector, report slave changes on the console.
/bin/busybox mkdir -p /proc /sys /dev /tmp /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
echo "vf-guest: init started"

ip=""; port=7100; stream=1; trace=0
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        vf.ip=*) ip=${arg#vf.ip=} ;;
        vf.port=*) port=${arg#vf.port=} ;;
        vf.stream=*) stream=${arg#vf.stream=} ;;
        vf.trace=*) trace=${arg#vf.trace=} ;;
    esac
done

# The kfree_skb event's filter $f, and with vf.trace=stack the trigger
# that prints an IPv4 drop's stack under the same filter.
set_drop_filter() {
    [ -z "$f" ] || echo "$f" > $e/filter || echo "vf-guest: drop filter not taken: $f"
    [ "$trace" = stack ] || return 0
    echo "!stacktrace" > $e/trigger 2>/dev/null
    echo "stacktrace if protocol == 2048${f:+ && $f}" > $e/trigger || echo "vf-guest: drop trigger not taken"
}

if [ "$trace" = 1 ] || [ "$trace" = stack ]; then
    t=/sys/kernel/tracing
    mount -t tracefs tracefs $t 2>/dev/null
    # Not the frames net_failover refuses on the standby while a primary
    # is registered (UNHANDLED_PROTO): they are expected and many.
    e=$t/events/skb/kfree_skb
    n=$(sed -n 's/.*{ *\([0-9]*\), *"UNHANDLED_PROTO" *}.*/\1/p' $e/format 2>/dev/null)
    f=${n:+reason != $n}
    set_drop_filter
    if echo 1 > $e/enable 2>/dev/null; then
        while read -r l; do
            case "$l" in
                *" tracing_mark_write: "*) ;;
                *" kfree_skb: "*|*"<stack trace>"*|"=> "*) echo "vf-guest: drop $l" ;;
                *) echo "vf-guest: nic $l" ;;
            esac
        done < $t/trace_pipe &
        echo "vf-guest: tracing dropped skbs"
    else
        echo "vf-guest: vf.trace=1 but no skb:kfree_skb tracepoint"
    fi
fi

for m in $(cat /etc/vf-modules); do
    insmod /lib/modules/$m.ko || echo "vf-guest: insmod $m failed"
done
echo "vf-guest: modules loaded"
# With vf.trace, now that vmxnet3 is loaded: its driver (6.1) frees every
# transmitted skb with kfree_skb, a "drop" for the tracepoint. Leave its TX
# completion (the function's address range in /proc/kallsyms) out, or the
# console carries a stack per sent frame (~300 lines/s at the stream's
# rate) and the serial port, slow under TCG, holds up the guest's kernel.
if [ -n "${f:-}" ]; then
    s=$(grep ' vmxnet3_tq_tx_complete' /proc/kallsyms | head -n 1 | cut -d' ' -f1)
    case "$s" in *[!0]*) ;; *) s="" ;; esac     # none, or addresses hidden
    x=""
    [ -n "$s" ] && x=$(awk -v s="$s" '$1 > s && (x == "" || $1 < x) { x = $1 } END { print x }' /proc/kallsyms)
    if [ -n "$x" ]; then
        f="$f && (location < 0x$s || location >= 0x$x)"
        set_drop_filter
        echo "vf-guest: drop filter: $f"
    fi
fi
# With vf.trace: the e1000e (VF stand-in) driver's resets, ups and downs
# and ring cleanups too, as "vf-guest: nic ..." lines: a ring cleanup frees
# the frames still queued in it with consume_skb, which kfree_skb does not see.
if [ -n "${t:-}" ] && [ -w "$t/kprobe_events" ]; then
    for fn in e1000e_reset e1000e_up e1000e_down e1000_configure e1000_clean_rx_ring \
              e1000_clean_tx_ring e1000e_pm_runtime_suspend e1000e_pm_runtime_resume; do
        echo "p:vfg/$fn e1000e:$fn" >> $t/kprobe_events 2>/dev/null
    done
    echo 1 > $t/events/vfg/enable 2>/dev/null || echo "vf-guest: no kprobes on e1000e"
fi
ip link set lo up

# The failover master is the netdev with lower (slave) devices; without
# failover, the first netdev driven by virtio_net owns the MAC.
find_master() {
    for d in /sys/class/net/*; do
        n=${d##*/}
        ls -d "$d"/lower_* >/dev/null 2>&1 && { echo "$n"; return; }
    done
    for d in /sys/class/net/*; do
        n=${d##*/}
        case "$(readlink "$d/device/driver" 2>/dev/null)" in
            *virtio_net) echo "$n"; return ;;
        esac
    done
}

# The standby shares the master's (virtio) device; any other lower device
# is the primary, whatever its driver.
describe() {
    m=$1; standby=-; primary=-
    mdev=$(readlink -f /sys/class/net/"$m"/device 2>/dev/null)
    for l in /sys/class/net/"$m"/lower_*; do
        [ -e "$l" ] || continue
        s=${l##*/lower_}
        if [ "$(readlink -f /sys/class/net/"$s"/device 2>/dev/null)" = "$mdev" ]; then
            standby=$s
        else
            primary=$s
        fi
    done
    echo "master=$m standby=$standby primary=$primary mac=$(cat /sys/class/net/"$m"/address)"
}

master=""
i=0
while [ -z "$master" ] && [ $i -lt 300 ]; do
    master=$(find_master); [ -n "$master" ] || { sleep 0.1; i=$((i + 1)); }
done
if [ -z "$master" ]; then
    echo "vf-guest: no virtio netdev found"
else
    # net_failover registers the slaves a moment after the master.
    sleep 1
    for d in /sys/class/net/*; do
        n=${d##*/}; [ "$n" = lo ] || ip link set "$n" up
    done
    [ -n "$ip" ] && ip addr add "$ip" dev "$master"
    echo "vf-guest: ready master=$master ip=${ip:-none}"
    if [ "$stream" != 0 ] && [ -x /bin/vf-stream ]; then
        /bin/vf-stream reflect --port "$port" &
        echo "vf-guest: reflector on udp port $port"
    fi
fi

last=""; links=""
while :; do
    if [ -n "$master" ]; then
        now=$(describe "$master")
        if [ "$now" != "$last" ]; then
            echo "vf-guest: slaves $now"; last=$now
            # A newly plugged primary is opened by net_failover; make sure.
            for d in /sys/class/net/*; do
                n=${d##*/}; [ "$n" = lo ] || ip link set "$n" up 2>/dev/null
            done
        fi
        cur=""
        for d in /sys/class/net/*; do
            n=${d##*/}; [ "$n" = lo ] && continue
            cur="$cur $n:$(cat "$d/operstate" 2>/dev/null)"
        done
        if [ "$cur" != "$links" ]; then
            for e in $cur; do
                case " $links " in *" $e "*) ;; *) echo "vf-guest: link ${e%%:*} ${e#*:}" ;; esac
            done
            links=$cur
        fi
    fi
    # A trace marker now and then: the reader is not always woken for a
    # drop's stack trace (it came 10 s late, with the next traced event).
    [ -n "${t:-}" ] && echo . > "$t/trace_marker" 2>/dev/null
    sleep 0.2
done
EOF
}

# Prints the path of one module of the host's guest kernel, or fails.
_guest_module_path() {
    local kver=$1 name=$2 f
    for f in $(find "/lib/modules/$kver/kernel" -name "$name.ko" -o -name "$name.ko.xz" \
                    -o -name "$name.ko.zst" -o -name "$name.ko.gz" 2>/dev/null); do
        echo "$f"; return 0
    done
    echo "guest-image: module $name not found under /lib/modules/$kver (install linux-image-amd64)" >&2
    return 1
}

# Newest /boot/vmlinuz-* that has a module tree.
_guest_kernel_version() {
    local k v best=""
    for k in /boot/vmlinuz-*; do
        [ -e "$k" ] || continue
        v=${k#/boot/vmlinuz-}
        [ -d "/lib/modules/$v/kernel" ] || continue
        if [ -z "$best" ] || [ "$(printf '%s\n%s\n' "$best" "$v" | sort -V | tail -n1)" = "$v" ]; then
            best=$v
        fi
    done
    [ -n "$best" ] || { echo "guest-image: no /boot/vmlinuz-* with modules (install linux-image-amd64)" >&2; return 1; }
    echo "$best"
}

# guest_image_build OUTDIR [STREAM_BIN]: build (or reuse) OUTDIR/vmlinuz and
# OUTDIR/initramfs.cpio.gz; sets GUEST_KERNEL, GUEST_INITRD.
guest_image_build() {
    local out=$1 stream=${2:-} kver busybox m f inputs hash stage rc
    kver=$(_guest_kernel_version) || return 1
    busybox=$(command -v busybox) || { echo "guest-image: busybox not found (install busybox-static)" >&2; return 1; }
    if ! file -L "$busybox" 2>/dev/null | grep -q 'statically linked'; then
        [ -x /bin/busybox ] && busybox=/bin/busybox
    fi
    if [ -n "$stream" ] && [ ! -x "$stream" ]; then
        echo "guest-image: stream tool $stream is not an executable" >&2; return 1
    fi
    mkdir -p "$out" || return 1

    # Cache key: every input's content (modules and kernel by size+mtime).
    inputs=$({
        echo "kver=$kver"
        stat -L -c '%n %s %Y' "/boot/vmlinuz-$kver" "$busybox"
        for m in $GUEST_MODULES; do
            f=$(_guest_module_path "$kver" "$m") || exit 1
            stat -L -c '%n %s %Y' "$f"
        done
        [ -n "$stream" ] && sha256sum "$stream" | cut -d' ' -f1
        _guest_init_script
        declare -f guest_image_build _guest_pack
    }) || return 1
    hash=$(printf '%s' "$inputs" | sha256sum | cut -d' ' -f1)

    GUEST_KERNEL=$out/vmlinuz
    GUEST_INITRD=$out/initramfs.cpio.gz
    (
        flock 9
        if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$hash" ] &&
           [ -s "$GUEST_KERNEL" ] && [ -s "$GUEST_INITRD" ]; then
            exit 0
        fi
        stage=$(mktemp -d "$out/stage.XXXXXX") || exit 1
        _guest_pack "$stage" "$kver" "$busybox" "$stream" "$out"
        rc=$?
        rm -rf "$stage"
        [ $rc = 0 ] && echo "$hash" > "$out/stamp"
        exit $rc
    ) 9>"$out/.lock"
}

_guest_pack() {
    local stage=$1 kver=$2 busybox=$3 stream=$4 out=$5 m f
    mkdir -p "$stage/root/bin" "$stage/root/lib/modules" "$stage/root/etc" \
             "$stage/root/dev" "$stage/root/proc" "$stage/root/sys" || return 1
    cp "$busybox" "$stage/root/bin/busybox" || return 1
    for m in $GUEST_MODULES; do
        f=$(_guest_module_path "$kver" "$m") || return 1
        case "$f" in
            *.ko.xz) xz -dc "$f" ;;
            *.ko.zst) zstd -qdc "$f" ;;
            *.ko.gz) gzip -dc "$f" ;;
            *) cat "$f" ;;
        esac > "$stage/root/lib/modules/$m.ko" || return 1
    done
    echo "$GUEST_MODULES" > "$stage/root/etc/vf-modules"
    [ -n "$stream" ] && { cp "$stream" "$stage/root/bin/vf-stream" || return 1; }
    _guest_init_script > "$stage/root/init"
    chmod 755 "$stage/root/init"
    # The kernel opens /dev/console before /init runs.
    mknod -m 600 "$stage/root/dev/console" c 5 1 2>/dev/null || true
    (cd "$stage/root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) \
        > "$stage/initramfs.cpio.gz" || return 1
    cp "/boot/vmlinuz-$kver" "$stage/vmlinuz" || return 1
    mv -f "$stage/initramfs.cpio.gz" "$out/initramfs.cpio.gz" &&
        mv -f "$stage/vmlinuz" "$out/vmlinuz"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -u
    out=${top_builddir:-.}/tests/e2e/guest-image
    stream=""
    while [ $# -gt 0 ]; do
        case "$1" in
            --out) out=$2; shift 2 ;;
            --stream) stream=$2; shift 2 ;;
            -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
            *) echo "guest-image: unknown argument '$1'" >&2; exit 2 ;;
        esac
    done
    guest_image_build "$out" "$stream" || exit 1
    echo "kernel=$GUEST_KERNEL"
    echo "initrd=$GUEST_INITRD"
fi
