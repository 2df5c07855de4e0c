"""Search the application can use under row-level security, without reading other tenants.

1. Full text: a stored, weighted `search_vector` (title A, body B) on clients, tasks and notes, a
   tenant-keyed GIN index on each, and the SECURITY DEFINER `search_tenant_rows` that takes the
   tenant only from the transaction's setting (advisoros_db.migrations.tenant_text_search).
   Adding a stored generated column rewrites each table under an ACCESS EXCLUSIVE lock.
2. JSONB and tag filters are pages now (schema.catalog: newest first by uuidv7 id, LIMIT 50,
   keyset by id), served by each table's existing `(organization_id, id)` unique index. The
   all-tenant GIN indexes below served them only for a role that bypasses row-level security;
   the application role could never use them (`@>` and `&&` are not LEAKPROOF), so they only
   cost writes and are dropped. Downgrade builds them again.

Revision ID: 0015_iso_search_vectors_pages
Revises: 0014_search_hnsw_graph
Create Date: 2026-12-05
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from alembic import context

from advisoros_db.migrations import op, tenant_search, tenant_text_search

revision: str = "0015_iso_search_vectors_pages"
down_revision: str | None = "0014_search_hnsw_graph"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

# (index, table, column, operator class or None): revision 0003's tenant GIN indexes on jsonb and
# text[] columns, which only the catalog's filter queries (now pages) named.
DROPPED_GIN: tuple[tuple[str, str, str, str | None], ...] = (
    ("idx_documents_metadata_gin", "documents", "metadata", "jsonb_path_ops"),
    ("idx_documents_extracted_data_gin", "documents", "extracted_data", "jsonb_path_ops"),
    ("idx_documents_tags_gin", "documents", "tags", None),
    ("idx_clients_custom_fields_gin", "clients", "custom_fields", "jsonb_path_ops"),
    ("idx_clients_financial_data_gin", "clients", "financial_data", "jsonb_path_ops"),
    ("idx_clients_tags_gin", "clients", "tags", None),
    ("idx_audit_logs_old_values_gin", "audit_logs", "old_values", "jsonb_path_ops"),
    ("idx_audit_logs_new_values_gin", "audit_logs", "new_values", "jsonb_path_ops"),
    ("idx_advisor_profiles_industries_gin", "advisor_profiles", "industries", None),
    ("idx_engagements_custom_fields_gin", "engagements", "custom_fields", "jsonb_path_ops"),
    ("idx_tasks_tags_gin", "tasks", "tags", None),
    ("idx_notes_tags_gin", "notes", "tags", None),
    ("idx_invoices_metadata_gin", "invoices", "metadata", "jsonb_path_ops"),
    ("idx_reports_parameters_gin", "reports", "parameters", "jsonb_path_ops"),
)


# PostgreSQL builds and drops an index on a partitioned table only in one statement (never
# CONCURRENTLY): on these, writes wait for the drop, and for the build on downgrade.
PARTITIONED = frozenset({"documents", "audit_logs"})


def upgrade() -> None:
    op.set_lock_timeout()
    for statement in tenant_text_search.create_sql():
        op.execute(statement)
    for name, table, _column, _ops in DROPPED_GIN:
        if table in PARTITIONED:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    for name, table, _column, _ops in DROPPED_GIN:
        if table not in PARTITIONED:
            op.drop_index_safely(name)
    if not context.is_offline_mode() and not tenant_search.bypasses_row_security(op.get_bind()):
        log.warning(
            "0015_iso_search_vectors_pages: the migrating role is neither a superuser nor "
            "BYPASSRLS, so search_tenant_rows (which runs as this role) is held to the FORCE ROW "
            "LEVEL SECURITY policy and cannot use the idx_*_tenant_fts indexes: search stays "
            "correct but scans the tenant's rows. See docs/search.md, 'Tenant-keyed index'."
        )


def downgrade() -> None:
    op.set_lock_timeout()
    for name, table, column, ops in DROPPED_GIN:
        if table in PARTITIONED:
            opclass = f" {ops}" if ops else ""
            op.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column}{opclass})"
            )
    for statement in tenant_text_search.drop_sql():
        op.execute(statement)
    for name, table, column, ops in DROPPED_GIN:
        if table not in PARTITIONED:
            op.create_index_safely(
                name, table, [column], using="gin", ops={column: ops} if ops else None
            )
