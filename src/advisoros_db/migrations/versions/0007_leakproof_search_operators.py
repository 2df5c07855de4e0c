# mypy: disable-error-code="attr-defined"
# (op.set_lock_timeout: registered at runtime)
"""Mark the operators behind the GIN and full-text index quals LEAKPROOF when migrating as a
superuser, so row-level security lets those indexes serve the application role; otherwise warn
and change nothing. Downgrade restores only what this revision changed.

Revision ID: 0007_leakproof_search_operators
Revises: 0006_vector_indexes
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import context, op

from advisoros_db.migrations import leakproof

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
