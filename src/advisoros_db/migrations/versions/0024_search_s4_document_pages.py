"""The catalog's per-column document searches return one keyset page like every other search:
`search_tenant_document_field(field, query, before, max_rows)` (SECURITY DEFINER, the tenant only
from the setting) returns up to `max_rows` documents below `before`, newest first, walking the
caller's newest documents on the tenant-leading B-tree before looking up the rest of the page in
the tenant-keyed index. The three-argument function is unchanged. Downgrade drops the new
function, which restores revision 0023's state exactly (advisoros_db.migrations.document_pages
explains the design).

Revision ID: 0024_search_s4_document_pages
Revises: 0023_search_s4_walked_pages
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from advisoros_db.migrations import document_pages, op

revision: str = "0024_search_s4_document_pages"
down_revision: str | None = "0023_search_s4_walked_pages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.set_lock_timeout()
    for statement in document_pages.upgrade_sql():
        op.execute(statement)


def downgrade() -> None:
    op.set_lock_timeout()
    for statement in document_pages.downgrade_sql():
        op.execute(statement)
