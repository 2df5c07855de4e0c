"""An application's first revision: its own tenant table, on top of the library's schema.

Revision ID: a1_client_flags
Revises:
Depends on: 0014_search_hnsw_graph
"""

from __future__ import annotations

import sqlalchemy as sa

from advisoros_db.migrations import op

revision = "a1_client_flags"
down_revision = None
branch_labels = ("testapp",)
# The library revision whose tables this one references (its clients' tenant key).
depends_on = "0014_search_hnsw_graph"


def upgrade() -> None:
    op.create_table(
        "app_client_flags",
        sa.Column("id", sa.Uuid, server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid, nullable=False),
        sa.Column("client_id", sa.Uuid, nullable=False),
        sa.Column("flag", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_app_client_flags"),
        sa.ForeignKeyConstraint(
            ["organization_id", "client_id"],
            ["clients.organization_id", "clients.id"],
            ondelete="CASCADE",
            name="fk_app_client_flags_organization_id_client_id_clients",
        ),
    )
    op.enable_tenant_isolation("app_client_flags")
    op.grant_app("app_client_flags")


def downgrade() -> None:
    op.drop_table("app_client_flags")
