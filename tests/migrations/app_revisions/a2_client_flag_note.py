"""An application's second revision: a column on its own table.

Revision ID: a2_client_flag_note
Revises: a1_client_flags
"""

from __future__ import annotations

import sqlalchemy as sa

from advisoros_db.migrations import op

revision = "a2_client_flag_note"
down_revision = "a1_client_flags"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("app_client_flags", sa.Column("note", sa.Text))


def downgrade() -> None:
    op.drop_column("app_client_flags", "note")
