# tests/e2e/: see doc/architecture.md (Tests).
