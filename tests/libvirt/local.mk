# tests/libvirt/: hookd, the hook and a real private libvirtd (see
# tests/lib/libvirt-host.sh and doc/architecture.md, Tests).
EXTRA_DIST += tests/lib/libvirt-host.sh
