"""Example applications built on advisoros-db (tested by tests/examples)."""
