"""Bound the full-text columns with CHECKs so `to_tsvector` cannot fail on a stored row.

This revision once also marked the search operators LEAKPROOF so GIN and full-text indexes could
serve the application role under row-level security; that leaked other tenants' values through
plans (docs/indexes.md), so it marks nothing now. Databases migrated by the older version are
repaired by 0008_iso_plans_not_leakproof; this downgrade still undoes what the older version
recorded.

Revision ID: 0007_leakproof_search_operators
Revises: 0006_vector_indexes
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import context

from advisoros_db.migrations import leakproof, op

revision: str = "0007_leakproof_search_operators"
down_revision: str | None = "0006_vector_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.set_lock_timeout()
    if context.is_offline_mode():
        op.execute(leakproof.offline_sql())
        return
    leakproof.upgrade(op.get_bind())


def downgrade() -> None:
    op.set_lock_timeout()
    if context.is_offline_mode():
        op.execute(leakproof.offline_downgrade_sql())
        return
    leakproof.downgrade(op.get_bind())
