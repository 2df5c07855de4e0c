"""The per-transaction tenant setting that every row-level security policy reads."""

from __future__ import annotations

import uuid
from typing import Any, LiteralString

import psycopg
from psycopg import pq

from advisoros_db.errors import TenantError
from advisoros_db.tenancy.roles import check_role, check_role_async

# Read by the RLS policies as current_setting('app.organization_id', true).
TENANT_SETTING = "app.organization_id"

# set_config(..., true) is local to the transaction: it cannot leak to the next transaction on a
# pooled connection, unlike a session-wide SET.
APPLY_SQL: LiteralString = "SELECT set_config('app.organization_id', %s, true)"

# Read back before a commit: a statement that switched the tenant inside the transaction fails it.
CURRENT_SQL: LiteralString = "SELECT current_setting('app.organization_id', true)"


def tenant_id(organization_id: uuid.UUID | str) -> str:
    """Validate an organization id and return its canonical text form."""
    try:
        return str(
            organization_id
            if isinstance(organization_id, uuid.UUID)
            else uuid.UUID(str(organization_id))
        )
    except ValueError:
        raise TenantError(
            f"{organization_id!r} is not an organization id; pass the organization's UUID"
        ) from None


def _outside_transaction(conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> bool:
    # An autocommit connection inside `conn.transaction()` is in a real transaction block.
    return conn.autocommit and conn.info.transaction_status == pq.TransactionStatus.IDLE


def apply_tenant(conn: psycopg.Connection[Any], organization_id: uuid.UUID | str) -> None:
    """Scope the current transaction of a psycopg connection to one organization."""
    if _outside_transaction(conn):
        raise TenantError(
            "tenant scope needs a transaction; the connection is in autocommit mode "
            "(use `with conn.transaction():` or tenancy.tenant_transaction)"
        )
    org = tenant_id(organization_id)
    check_role(conn)
    conn.execute(APPLY_SQL, (org,))


async def apply_tenant_async(
    conn: psycopg.AsyncConnection[Any], organization_id: uuid.UUID | str
) -> None:
    """Async twin of `apply_tenant`."""
    if _outside_transaction(conn):
        raise TenantError(
            "tenant scope needs a transaction; the connection is in autocommit mode "
            "(use `async with conn.transaction():` or tenancy.async_tenant_transaction)"
        )
    org = tenant_id(organization_id)
    await check_role_async(conn)
    await conn.execute(APPLY_SQL, (org,))


def same_tenant(expected: str, found: Any) -> None:
    """Raise TenantError when the tenant setting read back before a commit is not `expected`."""
    if found != expected:
        raise TenantError(
            f"the tenant setting changed inside a transaction scoped to organization {expected} "
            f"(now {found or 'unset'}); the transaction was rolled back. Open one transaction "
            "per organization instead of switching app.organization_id"
        )


def verify_tenant(conn: psycopg.Connection[Any], expected: str) -> None:
    """Before COMMIT: fail unless the transaction is still scoped to `expected`."""
    # Never a prepared statement: psycopg's outlive a borrow (tenancy.reset), and the borrower
    # could have replaced this one with a statement that answers `expected`.
    row = conn.execute(CURRENT_SQL, prepare=False).fetchone()
    same_tenant(expected, row[0] if row else None)


async def verify_tenant_async(conn: psycopg.AsyncConnection[Any], expected: str) -> None:
    """Async twin of `verify_tenant`."""
    row = await (await conn.execute(CURRENT_SQL, prepare=False)).fetchone()
    same_tenant(expected, row[0] if row else None)
