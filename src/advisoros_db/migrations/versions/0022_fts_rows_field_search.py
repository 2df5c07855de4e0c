"""The catalog's per-column full-text and trigram queries on tenant-keyed indexes, through
`search_tenant_text` and `search_tenant_contains` (SECURITY DEFINER, the tenant only from the
transaction's setting; advisoros_db.migrations.tenant_field_search explains the design).

Builds `idx_advisor_profiles_tenant_fts`, `idx_engagements_tenant_fts`,
`idx_document_comments_tenant_fts` and `idx_clients_tenant_trgm` (CONCURRENTLY), reuses revision
0015's `idx_clients_tenant_fts`, `idx_tasks_tenant_fts` and `idx_notes_tenant_fts`, and drops the ten
indexes of revision 0003 these queries named (`schema.indexes.REPLACED_BY_TENANT_SEARCH`): the
application role could never use them under row-level security, and writes paid for them.
Downgrade builds those ten again.

Revision ID: 0022_fts_rows_field_search
Revises: 0021_fts_document_vectors
Create Date: 2026-12-05
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context

from advisoros_db.migrations import op, tenant_field_search, tenant_search

revision: str = "0022_fts_rows_field_search"
down_revision: str | None = "0021_fts_document_vectors"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

# Revision 0003's definitions of what this revision drops: (index, table, key, operator class).
REPLACED: tuple[tuple[str, str, str, str | None], ...] = (
    ("idx_clients_business_name_trgm", "clients", "business_name", "gin_trgm_ops"),
    *(
        (name, table, f"to_tsvector('{config}'::regconfig, {column})", None)
        for name, table, column, config in (
            ("idx_clients_business_name_fts", "clients", "business_name", "simple"),
            ("idx_clients_legal_name_fts", "clients", "legal_name", "simple"),
            ("idx_tasks_title_fts", "tasks", "title", "english"),
            ("idx_tasks_description_fts", "tasks", "description", "english"),
            ("idx_notes_content_fts", "notes", "content", "english"),
            ("idx_advisor_profiles_bio_fts", "advisor_profiles", "bio", "english"),
            ("idx_engagements_name_fts", "engagements", "name", "english"),
            ("idx_document_comments_content_fts", "document_comments", "content", "english"),
            ("idx_engagements_description_fts", "engagements", "description", "english"),
        )
    ),
)


def upgrade() -> None:
    op.set_lock_timeout()
    for statement in tenant_field_search.create_functions_sql():
        op.execute(statement)
    for name, table, keys in tenant_field_search.index_sql():
        op.create_index_safely(name, table, [sa.text(keys)], using="gin")
    for name, _table, _key, _ops in REPLACED:
        op.drop_index_safely(name)
    if not context.is_offline_mode() and not tenant_search.bypasses_row_security(op.get_bind()):
        log.warning(
            "0022_fts_rows_field_search: the migrating role is neither a superuser nor "
            "BYPASSRLS, so search_tenant_text and search_tenant_contains (which run as this "
            "role) are held to the FORCE ROW LEVEL SECURITY policy and cannot use the "
            "tenant-keyed indexes: the catalog's search queries stay correct but scan the "
            "tenant's rows. See docs/search.md, 'Tenant-keyed index'."
        )


def downgrade() -> None:
    op.set_lock_timeout()
    for name, table, key, ops in REPLACED:
        if ops is None:
            op.create_index_safely(name, table, [sa.text(key)], using="gin")
        else:
            op.create_index_safely(name, table, [key], using="gin", ops={key: ops})
    for name, _table, _keys in tenant_field_search.index_sql():
        op.drop_index_safely(name)
    for statement in tenant_field_search.drop_functions_sql():
        op.execute(statement)
