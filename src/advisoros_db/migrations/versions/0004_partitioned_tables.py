"""Partitioned twins of audit_logs (monthly) and documents (tax years 2020-2030 + default), kept in
sync by a mirror trigger; partition maintenance functions; the documents id registry.

Expand step: safe before the code deploy (the application still uses the plain tables).

Revision ID: 0004_partitioned_tables
Revises: 0003_performance_indexes
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

from advisoros_db.migrations import op

revision: str = "0004_partitioned_tables"
down_revision: str | None = "0003_performance_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("audit_logs", "documents")


def upgrade() -> None:
    op.set_lock_timeout()
    op.install_partition_functions()
    for table in TABLES:
        op.create_partitioned_twin(table)


def downgrade() -> None:
    op.set_lock_timeout()
    for table in reversed(TABLES):
        op.drop_partitioned_twin(table)
    op.drop_partition_functions()
