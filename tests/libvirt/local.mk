# tests/libvirt/: see doc/architecture.md (Tests).
