# tests/libvirt/: the hook, hookd and a real private libvirtd (see
# tests/lib/libvirt-host.sh and doc/architecture.md, Tests).
EXTRA_DIST += tests/lib/libvirt-host.sh tests/libvirt/lib-hookd.sh tests/libvirt/data
dist_check_SCRIPTS += tests/libvirt/test-hook.sh tests/libvirt/test-hookd-libvirt.sh
TESTS += tests/libvirt/test-hook.sh tests/libvirt/test-hookd-libvirt.sh
