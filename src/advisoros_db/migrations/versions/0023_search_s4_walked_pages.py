"""The tenant search functions stop paying per match where they need not: `search_tenant_text`
rechecks clients', tasks' and notes' columns on their stored, weighted vector instead of parsing
each candidate again, and first walks the caller's newest rows on the tenant-leading B-tree,
answering from there when the page fills (a common word) and from the tenant-keyed index
otherwise; `search_tenant_documents` ranks the file name only for documents whose file name holds
a query lexeme (a lookup of the same index); `search_tenant_document_field` keeps one generic
plan per session instead of planning twelve partitions per call. Same signatures, same answers.
Downgrade restores revision 0022's and 0021's bodies exactly and drops the file-name lookup
helper (advisoros_db.migrations.walked_search explains the design).

Revision ID: 0023_search_s4_walked_pages
Revises: 0022_fts_rows_field_search
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from advisoros_db.migrations import op, walked_search

revision: str = "0023_search_s4_walked_pages"
down_revision: str | None = "0022_fts_rows_field_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.set_lock_timeout()
    for statement in walked_search.upgrade_sql():
        op.execute(statement)


def downgrade() -> None:
    op.set_lock_timeout()
    for statement in walked_search.downgrade_sql():
        op.execute(statement)
