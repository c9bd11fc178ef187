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
