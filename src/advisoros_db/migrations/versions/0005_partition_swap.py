"""Swap the partitioned audit_logs and documents in. Small tables are copied and swapped at once;
a populated one is refused with the command to run (`advisoros-db partitions convert TABLE`).
The plain tables stay as *_old, mirrored, until `advisoros-db partitions finalize TABLE`.

Revision ID: 0005_partition_swap
Revises: 0004_partitioned_tables
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

from advisoros_db.migrations import op

revision: str = "0005_partition_swap"
down_revision: str | None = "0004_partitioned_tables"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("audit_logs", "documents")


def upgrade() -> None:
    op.set_lock_timeout()
    for table in TABLES:
        op.swap_partitioned(table)


def downgrade() -> None:
    op.set_lock_timeout()
    for table in reversed(TABLES):
        op.unswap_partitioned(table)
