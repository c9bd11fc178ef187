# tests/xml/: see doc/architecture.md (Tests).
