# tests/vf/: see doc/architecture.md (Tests).
