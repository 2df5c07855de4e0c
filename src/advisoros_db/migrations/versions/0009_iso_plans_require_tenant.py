"""A query on a tenant table with no tenant set is an error naming the missing setting, for every
role but the table's owner (whose maintenance paths keep working), instead of an empty result.

Each `tenant_isolation` policy gets `advisoros_require_tenant(<table>) AND` in front; the function
is folded while planning, so the error never depends on any row (advisoros_db.migrations.
tenant_guard explains why). Downgrade takes the guard out of every policy and drops the function.

Revision ID: 0009_iso_plans_require_tenant
Revises: 0008_iso_plans_not_leakproof
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import context

from advisoros_db.migrations import op, tenant_guard

revision: str = "0009_iso_plans_require_tenant"
down_revision: str | None = "0008_iso_plans_not_leakproof"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.set_lock_timeout()
    if context.is_offline_mode():
        for statement in tenant_guard.offline_upgrade_sql():
            op.execute(statement)
        return
    tenant_guard.upgrade(op.get_bind())


def downgrade() -> None:
    op.set_lock_timeout()
    if context.is_offline_mode():
        for statement in tenant_guard.offline_downgrade_sql():
            op.execute(statement)
        return
    tenant_guard.downgrade(op.get_bind())
