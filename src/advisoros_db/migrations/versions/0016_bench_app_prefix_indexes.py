"""Merge overlapping B-tree indexes: drop the seven foreign-key indexes whose columns are the
leading columns of a wider B-tree on the same table.

Each foreign-key index (organization_id, <column>) is a prefix of a full (not partial) B-tree
that revision 0003 or 0001 added, so the wider index serves the same lookups (the foreign key's
ON DELETE checks, and every query filtering on the two columns) and the narrow one only costs
writes and storage. At `large` the planner even preferred the narrow ones for
`documents.client_documents` and `tasks.engagement_board` (smaller, and their statistics looked
as good), leaving the named index unused by the query it exists for. docs/indexes.md lists them.

Plain tables: dropped and rebuilt CONCURRENTLY. `documents` may be partitioned (0005, or after
`partitions convert`): a partitioned index cannot be built concurrently, so there the downgrade's
CREATE INDEX holds a SHARE lock on the partitions while it builds.

Revision ID: 0016_bench_app_prefix_indexes
Revises: 0015_iso_search_vectors_pages
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import context
from sqlalchemy import text

from advisoros_db.migrations import op

revision: str = "0016_bench_app_prefix_indexes"
down_revision: str | None = "0015_iso_search_vectors_pages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (dropped index, table, its columns, the wider index that serves its lookups)
MERGED: tuple[tuple[str, str, tuple[str, str], str], ...] = (
    ("ix_documents_organization_id_client_id", "documents", ("organization_id", "client_id"),
     "idx_documents_org_client_status"),
    ("ix_tasks_organization_id_engagement_id", "tasks", ("organization_id", "engagement_id"),
     "idx_tasks_org_engagement_status"),
    ("ix_tasks_organization_id_assignee_id", "tasks", ("organization_id", "assignee_id"),
     "idx_tasks_org_assignee_status"),
    ("ix_invoices_organization_id_client_id", "invoices", ("organization_id", "client_id"),
     "idx_invoices_org_client_issue"),
    ("ix_notes_organization_id_client_id", "notes", ("organization_id", "client_id"),
     "idx_notes_org_client_time"),
    ("ix_engagements_organization_id_assigned_to_id", "engagements",
     ("organization_id", "assigned_to_id"), "idx_engagements_org_assignee_status"),
    ("ix_client_contacts_organization_id_client_id", "client_contacts",
     ("organization_id", "client_id"), "uq_client_contacts_organization_id_client_id_email"),
)  # fmt: skip


def _partitioned(table: str) -> bool:
    if context.is_offline_mode():
        return table == "documents"
    kind = (
        op.get_bind()
        .execute(text("SELECT relkind FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table})
        .scalar()
    )
    return kind == "p"


def upgrade() -> None:
    op.set_lock_timeout()
    for name, table, _, _ in MERGED:
        if _partitioned(table):
            op.execute(f"DROP INDEX IF EXISTS {name}")
        else:
            op.drop_index_safely(name)


def downgrade() -> None:
    op.set_lock_timeout()
    for name, table, columns, _ in MERGED:
        if _partitioned(table):
            op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({', '.join(columns)})")
        else:
            op.create_index_safely(name, table, list(columns))
