"""Audit-log month aggregates from rollups: audit_log_rollups (per organization, UTC day, action
and entity type; a tenant table under forced row-level security, read-only for the application
role), the internal audit_rollup schema (which months are closed), audit_activity() (closed months
from rollups, the rest from the raw rows) and the trigger that reopens a closed month when a row
arrives in it late. The worker's audit_rollups job closes months (advisoros_db.audit.rollups,
docs/audit.md). Downgrade drops them all; audit_logs itself is untouched either way.

Revision ID: 0018_write_cost_audit_rollups
Revises: 0017_write_cost_document_keys
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context

from advisoros_db.audit import rollups
from advisoros_db.migrations import op, tenant_guard
from advisoros_db.tenancy import APP_ROLE

revision: str = "0018_write_cost_audit_rollups"
down_revision: str | None = "0017_write_cost_document_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.set_lock_timeout()
    op.create_table(
        rollups.TABLE,
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("entity_type", sa.Text(), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_audit_log_rollups_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log_rollups")),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_audit_log_rollups_organization_id_id")
        ),
        sa.UniqueConstraint(
            "organization_id",
            "day",
            "action",
            "entity_type",
            name=op.f("uq_audit_log_rollups_organization_id_day_action_entity_type"),
        ),
    )
    op.create_index("ix_audit_log_rollups_day", rollups.TABLE, ["day"])
    op.enable_tenant_isolation(rollups.TABLE)
    op.grant_app(rollups.TABLE, ("SELECT",))
    if context.is_offline_mode():
        for statement in tenant_guard.offline_upgrade_sql():
            op.execute(statement)
    else:
        tenant_guard.upgrade(op.get_bind())
    for statement in rollups.install_statements(APP_ROLE):
        op.execute(statement)


def downgrade() -> None:
    op.set_lock_timeout()
    op.execute(rollups.UNINSTALL_SQL)
    op.drop_table(rollups.TABLE)
