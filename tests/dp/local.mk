# tests/dp/: see doc/architecture.md (Tests).
