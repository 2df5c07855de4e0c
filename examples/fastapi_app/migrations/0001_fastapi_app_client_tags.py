"""The example application's first revision: client_tags, tenant-isolated like the library's.

Revision ID: fastapi_app_0001_client_tags
Revises:
Depends on: 0014_search_hnsw_graph
"""

from __future__ import annotations

import sqlalchemy as sa

from advisoros_db.migrations import op

revision = "fastapi_app_0001_client_tags"
down_revision = None
# The application's own branch, on top of the library's `advisoros` branch.
branch_labels = ("fastapi_app",)
depends_on = "0014_search_hnsw_graph"


def upgrade() -> None:
    op.create_table(
        "client_tags",
        sa.Column("id", sa.Uuid, server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid, nullable=False),
        sa.Column("client_id", sa.Uuid, nullable=False),
        sa.Column("tag", sa.Text, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_client_tags"),
        sa.ForeignKeyConstraint(
            ["organization_id", "client_id"],
            ["clients.organization_id", "clients.id"],
            ondelete="CASCADE",
            name="fk_client_tags_organization_id_client_id_clients",
        ),
        sa.UniqueConstraint(
            "organization_id",
            "client_id",
            "tag",
            name="uq_client_tags_organization_id_client_id_tag",
        ),
        sa.CheckConstraint("length(tag) BETWEEN 1 AND 40", name="ck_client_tags_tag_length"),
    )
    # The library's operations: row-level security on organization_id, privileges for the
    # application role.
    op.enable_tenant_isolation("client_tags")
    op.grant_app("client_tags")


def downgrade() -> None:
    op.drop_table("client_tags")
