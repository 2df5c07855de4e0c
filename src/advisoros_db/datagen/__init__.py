"""Deterministic synthetic data for every table, bulk-loaded with COPY."""
