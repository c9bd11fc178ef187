# tests/guest/: see doc/architecture.md (Tests).
