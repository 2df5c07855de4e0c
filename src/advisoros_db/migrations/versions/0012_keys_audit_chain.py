"""A tamper-evident audit trail: the database sets created_at and user_id of the application's
audit rows (from the transaction's time and its `app.user_id`), and chains every row to the
previous one of its organization by hash (chain_seq, prev_hash, row_hash; heads in
audit_chain.heads). Rows already there are chained in (created_at, id) order.

Revision ID: 0012_keys_audit_chain
Revises: 0011_keys_unique_document_ids
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from advisoros_db.migrations import op

revision: str = "0012_keys_audit_chain"
down_revision: str | None = "0011_keys_unique_document_ids"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.set_lock_timeout()
    op.install_audit_chain()


def downgrade() -> None:
    op.set_lock_timeout()
    op.drop_audit_chain()
