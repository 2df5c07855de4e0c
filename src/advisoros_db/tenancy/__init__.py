"""Tenant-scoped sessions: row-level security keyed by a per-transaction setting."""
