"""The audit chain's stamping trigger updates its organization's head once per row and finds it
by the ctid the previous row of the transaction left (a hint in a transaction-local setting,
checked against the organization), instead of three statements per row and an index lookup that
walks every version of the head the transaction made (a statement of n rows for one organization
cost O(n^2)). Same payload, same hashes: `audit verify` and existing chains are unaffected
(docs/audit.md, "Cost"). Downgrade restores revision 0012's function.

Revision ID: 0019_write_cost_audit_chain
Revises: 0018_write_cost_audit_rollups
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from advisoros_db.audit import chain
from advisoros_db.migrations import op

revision: str = "0019_write_cost_audit_chain"
down_revision: str | None = "0018_write_cost_audit_rollups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.set_lock_timeout()
    op.execute(chain.stamp_sql(one_update=True))


def downgrade() -> None:
    op.set_lock_timeout()
    op.execute(chain.stamp_sql(one_update=False))
