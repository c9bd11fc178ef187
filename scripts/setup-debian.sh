#!/bin/sh
# Install every Debian 12 package vfailover's build, tests and demo need.
# Idempotent: packages already present are left alone; `apt-get update` runs
# at most once per invocation and only when something is missing.
set -eu

PACKAGES="
 build-essential autoconf automake autoconf-archive libtool pkg-config make gcc
 libglib2.0-dev libjson-glib-dev libxml2-dev libxml2-utils
 libnl-3-dev libnl-route-3-dev
 libvirt-dev libvirt-daemon-system libvirt-clients libvirt-daemon-driver-qemu
 qemu-system-x86 qemu-utils
 dpdk dpdk-dev libdpdk-dev python3 openvswitch-switch-dpdk
 busybox-static linux-image-amd64 cpio kmod
 iproute2 iputils-ping nftables tcpdump procps psmisc util-linux strace jq ethtool
 libclang-rt-14-dev
"

if [ "$(id -u)" != 0 ]; then
    echo "setup-debian.sh: must run as root (installs Debian packages)" >&2
    exit 1
fi

missing=""
fresh_ovs=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -n "$missing" ]; then
    echo "setup-debian.sh: installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $missing
    case " $missing " in
        *" openvswitch-switch-dpdk "*) fresh_ovs=1 ;;
    esac
else
    echo "setup-debian.sh: all packages present"
fi

# QEMU from bookworm-backports (10.x) for the tests' live migrations. These
# machines have no KVM, and QEMU before 9.0 loses guest writes while it
# migrates a TCG guest (its dirty-bitmap sync leaves TCG TLB entries that no
# longer trap writes; fixed by "physmem: Fix migration dirty bitmap
# coherency with TCG memory access", QEMU 9.0; Debian 12's 7.2 does not
# carry it): now and then a guest oopsed or hung after a migration.
# KVM hosts are not affected; vfailover needs nothing newer than 7.2. Set
# VFAILOVER_DEBIAN_QEMU=1 to keep Debian 12's QEMU.
qemu_major=$(dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null | sed 's/^[0-9]*://; s/[.].*//')
if [ "${VFAILOVER_DEBIAN_QEMU:-0}" != 1 ] && [ "${qemu_major:-0}" -lt 9 ]; then
    backports=/etc/apt/sources.list.d/vfailover-bookworm-backports.sources
    if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
        echo "setup-debian.sh: adding bookworm-backports ($backports) for QEMU >= 9.0"
        cat > "$backports" <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
    fi
    echo "setup-debian.sh: installing QEMU from bookworm-backports (Debian 12's ${qemu_major:-no} QEMU loses TCG guest writes in live migrations)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends -t bookworm-backports \
        qemu-system-x86 qemu-system-common qemu-system-data qemu-utils
fi

# libvirtd in the root namespace is not used by vfailover's tests (they start
# their own in private mount namespaces); keep the packaged one from racing
# with them for /run/libvirt when the package is freshly installed.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    for u in libvirtd.service libvirtd.socket libvirtd-ro.socket libvirtd-admin.socket \
             virtlogd.service virtlogd.socket virtlockd.socket; do
        systemctl stop "$u" >/dev/null 2>&1 || true
    done
fi

# openvswitch-switch-dpdk is only there for tests/bench/datapath, which runs
# its own private ovsdb-server and ovs-vswitchd-dpdk. The package's postinst
# starts the system OVS (an ovs-vswitchd that would hold /run/openvswitch
# and, made to use DPDK, busy-poll a core): stop it, but only when this run
# installed the package, so an OVS the machine already used is left alone.
if [ -n "$fresh_ovs" ]; then
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        for u in openvswitch-switch.service ovs-vswitchd.service ovsdb-server.service; do
            systemctl stop "$u" >/dev/null 2>&1 || true
        done
    elif [ -x /etc/init.d/openvswitch-switch ]; then
        /etc/init.d/openvswitch-switch stop >/dev/null 2>&1 || true
    fi
fi
exit 0
