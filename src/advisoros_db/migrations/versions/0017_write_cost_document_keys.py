"""The documents_keys registry follows documents once per statement instead of once per row: an
AFTER INSERT statement trigger adds the statement's new ids with one INSERT ... SELECT over its
transition table, an AFTER DELETE one removes them, and the id/tenant guard on UPDATE runs only
when a WHEN clause sees them change. Ids stay unique across tax years and organizations, and every
foreign key to a document stays valid (docs/partitioning.md, "Document keys": the figures and the
one behaviour that changes). Downgrade restores the per-row triggers of revision 0011.

Revision ID: 0017_write_cost_document_keys
Revises: 0016_bench_app_prefix_indexes
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from advisoros_db.migrations import op

revision: str = "0017_write_cost_document_keys"
down_revision: str | None = "0016_bench_app_prefix_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.set_lock_timeout()
    op.registry_per_statement("documents", True)


def downgrade() -> None:
    op.set_lock_timeout()
    op.registry_per_statement("documents", False)
