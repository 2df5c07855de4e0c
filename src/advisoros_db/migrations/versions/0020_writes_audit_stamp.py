"""The audit chain's stamping trigger checks whether the caller acts as the table's owner once per
caller and partition in a transaction instead of on every row (a caller found not to be the owner
is remembered in a transaction-local setting; forging it can only restrict a caller further), and
keeps the head hint with an assignment instead of PERFORM: two queries through SPI per audit row
fewer, one left (the head update). Same checks, payload and hashes: `audit verify` and existing
chains are unaffected (docs/audit.md, "Cost of the chain on inserts"). Downgrade restores revision
0019's function.

Revision ID: 0020_writes_audit_stamp
Revises: 0019_write_cost_audit_chain
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from advisoros_db.audit import chain
from advisoros_db.migrations import op

revision: str = "0020_writes_audit_stamp"
down_revision: str | None = "0019_write_cost_audit_chain"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.set_lock_timeout()
    op.execute(chain.stamp_sql(**chain.STAMP_0020))


def downgrade() -> None:
    op.set_lock_timeout()
    op.execute(chain.stamp_sql(**chain.STAMP_0019))
