"""Restore NOT LEAKPROOF on every search operator an older revision 0007 marked, and make 0006's
`search_document_matches` SECURITY INVOKER, so nothing a tenant can run reads another tenant's
index entries or rows.

Both opened indexes to the application role by reading every tenant's data before the tenant
filter: `EXPLAIN ANALYZE` then reported how many rows the filter removed, and the buffers read,
which let a tenant recover another firm's client names character by character. Under row-level
security the planner now keeps each search predicate behind the policy, so a query reads only its
own tenant's rows (docs/indexes.md, 'Indexes under row-level security'). Downgrade puts back
exactly what the upgrade changed.

Revision ID: 0008_iso_plans_not_leakproof
Revises: 0007_leakproof_search_operators
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import LiteralString

from alembic import context

from advisoros_db.migrations import leakproof, op

revision: str = "0008_iso_plans_not_leakproof"
down_revision: str | None = "0007_leakproof_search_operators"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen: revision 0006's function signature.
MATCH_FUNCTION: LiteralString = "search_document_matches(uuid, tsquery, tsquery, integer)"


def upgrade() -> None:
    op.set_lock_timeout()
    op.execute(f"ALTER FUNCTION {MATCH_FUNCTION} SECURITY INVOKER")
    if context.is_offline_mode():
        op.execute(leakproof.offline_unmark_sql())
        return
    leakproof.unmark(op.get_bind())


def downgrade() -> None:
    op.set_lock_timeout()
    op.execute(f"ALTER FUNCTION {MATCH_FUNCTION} SECURITY DEFINER")
    if context.is_offline_mode():
        op.execute(leakproof.offline_remark_sql())
        return
    leakproof.remark(op.get_bind())
