"""Tenant-scoped sessions: row-level security keyed by a per-transaction setting."""

from advisoros_db.tenancy.context import (
    APPLY_SQL,
    TENANT_SETTING,
    apply_tenant,
    apply_tenant_async,
    tenant_id,
)

__all__ = ["APPLY_SQL", "TENANT_SETTING", "apply_tenant", "apply_tenant_async", "tenant_id"]
