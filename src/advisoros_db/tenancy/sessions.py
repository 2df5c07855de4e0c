"""Tenant-scoped SQLAlchemy sessions (sync and async) and psycopg transactions.

Every transaction the session begins first runs a transaction-local set_config of the tenant, so
row-level security shows and accepts only that organization's rows; nothing survives the
transaction on a pooled connection.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import psycopg
from psycopg import pq
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from advisoros_db.errors import TenantError, translated
from advisoros_db.tenancy.context import TENANT_SETTING, apply_tenant, apply_tenant_async, tenant_id

_APPLY = text("SELECT set_config(:setting, :organization_id, true)")

# Where a scoped session remembers its tenant (Session.info is the documented place for this).
_INFO_KEY = "advisoros.organization_id"


def _apply_on_begin(
    session: Session, transaction: SessionTransaction, connection: Connection
) -> None:
    organization_id = session.info.get(_INFO_KEY)
    if organization_id is not None:
        connection.execute(_APPLY, {"setting": TENANT_SETTING, "organization_id": organization_id})


def scope_session(session: Session, organization_id: uuid.UUID | str) -> Session:
    """Scope every transaction of `session` (from now on) to one organization."""
    session.info[_INFO_KEY] = tenant_id(organization_id)
    if not event.contains(session, "after_begin", _apply_on_begin):
        event.listen(session, "after_begin", _apply_on_begin)
    return session


def session_tenant(session: Session) -> str | None:
    """The organization a session is scoped to, or None."""
    value = session.info.get(_INFO_KEY)
    return str(value) if value is not None else None


@contextmanager
def tenant_session(
    bind: Engine | Connection, organization_id: uuid.UUID | str
) -> Iterator[Session]:
    """A Session in one transaction scoped to `organization_id`; commits on success.

    Driver errors that have a meaning here (constraint, permission) arrive as the package's own.
    """
    with translated(), Session(bind) as session:
        scope_session(session, organization_id)
        with session.begin():
            yield session


@asynccontextmanager
async def async_tenant_session(
    bind: AsyncEngine, organization_id: uuid.UUID | str
) -> AsyncIterator[AsyncSession]:
    """Async twin of `tenant_session`: the same listener, on the AsyncSession's sync session."""
    with translated():
        async with AsyncSession(bind) as session:
            scope_session(session.sync_session, organization_id)
            async with session.begin():
                yield session


def _require_idle(conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> None:
    # Inside an open transaction, conn.transaction() is only a savepoint: the transaction-local
    # setting would outlive the block and scope whatever the caller runs next.
    if conn.info.transaction_status != pq.TransactionStatus.IDLE:
        raise TenantError(
            "the connection is already in a transaction, so the tenant scope would outlive this "
            "block; commit or roll back first (or use an autocommit connection)"
        )


@contextmanager
def tenant_transaction(
    conn: psycopg.Connection[Any], organization_id: uuid.UUID | str
) -> Iterator[psycopg.Connection[Any]]:
    """A psycopg transaction scoped to `organization_id`; commits on success."""
    org = tenant_id(organization_id)
    _require_idle(conn)
    with translated(), conn.transaction():
        apply_tenant(conn, org)
        yield conn


@asynccontextmanager
async def async_tenant_transaction(
    conn: psycopg.AsyncConnection[Any], organization_id: uuid.UUID | str
) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """Async twin of `tenant_transaction`."""
    org = tenant_id(organization_id)
    _require_idle(conn)
    with translated():
        async with conn.transaction():
            await apply_tenant_async(conn, org)
            yield conn
