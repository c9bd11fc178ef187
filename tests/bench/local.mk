# tests/bench/: see doc/architecture.md (Tests).
