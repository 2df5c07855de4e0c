"""Which tables belong to which revision, and which are tenant tables (RLS) versus global ones."""

from __future__ import annotations

from sqlalchemy import MetaData, Table

# The six tables revision 0002_added_tables creates; every other model table is created by 0001.
ADDED_TABLES: tuple[str, ...] = (
    "document_processing",
    "document_embeddings",
    "job_executions",
    "document_sessions",
    "api_usage_metrics",
    "webhook_deliveries",
)

# Tables revisions after 0002 add (0018_write_cost_audit_rollups: audit month rollups).
LATER_TABLES: tuple[str, ...] = ("audit_log_rollups",)

# Not scoped to one tenant: the tenant root itself (its own policy shows a tenant only its row) and
# the global permission catalog (a Citus reference table).
GLOBAL_TABLES: tuple[str, ...] = ("organizations", "permissions")

# Written only by triggers and read only by foreign-key checks: the application role has no grants
# on them. documents_keys holds the ids of the tax-year-partitioned documents (docs/partitioning.md).
INTERNAL_TABLES: tuple[str, ...] = ("documents_keys",)


def tenant_tables(metadata: MetaData) -> list[Table]:
    """Every table with an organization_id column: RLS-forced and distributed by organization."""
    return [t for t in metadata.sorted_tables if "organization_id" in t.c]
