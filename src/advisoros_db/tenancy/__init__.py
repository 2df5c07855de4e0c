"""Tenant-scoped sessions: row-level security keyed by a per-transaction setting, run only as a
role that row-level security binds, on connections that pools hand back clean."""

from advisoros_db.tenancy.context import (
    APPLY_SQL,
    CURRENT_SQL,
    TENANT_SETTING,
    apply_tenant,
    apply_tenant_async,
    same_tenant,
    tenant_id,
    verify_tenant,
    verify_tenant_async,
)
from advisoros_db.tenancy.reset import (
    SessionReset,
    async_pool_reset,
    install_engine_reset,
    pool_reset,
    reset_connection,
    reset_connection_async,
)
from advisoros_db.tenancy.roles import (
    APP_ROLE,
    check_role,
    check_role_async,
    owner_maintenance,
    require_tenant_role,
)
from advisoros_db.tenancy.sessions import (
    apply_tenant_sa,
    async_tenant_session,
    async_tenant_transaction,
    scope_session,
    session_tenant,
    tenant_session,
    tenant_transaction,
    verify_tenant_sa,
)

__all__ = [
    "APPLY_SQL",
    "APP_ROLE",
    "CURRENT_SQL",
    "TENANT_SETTING",
    "SessionReset",
    "apply_tenant",
    "apply_tenant_async",
    "apply_tenant_sa",
    "async_pool_reset",
    "async_tenant_session",
    "async_tenant_transaction",
    "check_role",
    "check_role_async",
    "install_engine_reset",
    "owner_maintenance",
    "pool_reset",
    "require_tenant_role",
    "reset_connection",
    "reset_connection_async",
    "same_tenant",
    "scope_session",
    "session_tenant",
    "tenant_id",
    "tenant_session",
    "tenant_transaction",
    "verify_tenant",
    "verify_tenant_async",
    "verify_tenant_sa",
]
