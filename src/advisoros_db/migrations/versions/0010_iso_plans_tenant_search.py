"""Indexed document search that reads only the caller's tenant: the tenant-keyed GIN index
`idx_documents_tenant_fts` and `search_tenant_documents(english, simple, max_rows)`, a SECURITY
DEFINER function that takes the tenant only from the transaction's tenant setting
(advisoros_db.migrations.tenant_search explains the design).

The function runs as the migrating role. A superuser, or a role with BYPASSRLS, reads past the
FORCE ROW LEVEL SECURITY policy and so can use the index; an ordinary owner is held to the policy
like everyone else, gets correct results from a tenant-sized scan instead, and is warned. The
index is built in one statement on the partitioned parent (PostgreSQL refuses CONCURRENTLY
there), which holds writes to documents for the length of the build.

Revision ID: 0010_iso_plans_tenant_search
Revises: 0009_iso_plans_require_tenant
Create Date: 2026-12-05
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from alembic import context

from advisoros_db.migrations import op, tenant_search

revision: str = "0010_iso_plans_tenant_search"
down_revision: str | None = "0009_iso_plans_require_tenant"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    op.set_lock_timeout()
    for statement in tenant_search.create_functions_sql():
        op.execute(statement)
    op.execute(tenant_search.INDEX_SQL)
    if not context.is_offline_mode() and not tenant_search.bypasses_row_security(op.get_bind()):
        log.warning(
            "0010_iso_plans_tenant_search: the migrating role is neither a superuser nor "
            "BYPASSRLS, so search_tenant_documents (which runs as this role) is held to the "
            "FORCE ROW LEVEL SECURITY policy and cannot use %s: document search stays correct "
            "but scans the tenant's documents. A superuser can run `ALTER ROLE <owner> "
            "BYPASSRLS`. See docs/search.md, 'Tenant-keyed index'.",
            tenant_search.INDEX,
        )


def downgrade() -> None:
    op.set_lock_timeout()
    op.execute(f"DROP INDEX IF EXISTS {tenant_search.INDEX}")
    for statement in tenant_search.drop_functions_sql():
        op.execute(statement)
