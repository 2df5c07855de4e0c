"""Tenant-scoped sessions: row-level security keyed by a per-transaction setting."""

from advisoros_db.tenancy.context import (
    APPLY_SQL,
    TENANT_SETTING,
    apply_tenant,
    apply_tenant_async,
    tenant_id,
)
from advisoros_db.tenancy.sessions import (
    async_tenant_session,
    async_tenant_transaction,
    scope_session,
    session_tenant,
    tenant_session,
    tenant_transaction,
)

__all__ = [
    "APPLY_SQL",
    "TENANT_SETTING",
    "apply_tenant",
    "apply_tenant_async",
    "async_tenant_session",
    "async_tenant_transaction",
    "scope_session",
    "session_tenant",
    "tenant_id",
    "tenant_session",
    "tenant_transaction",
]
