"""Tenant-scoped SQLAlchemy sessions (sync and async) and psycopg transactions.

Every transaction the session begins first runs a transaction-local set_config of the tenant, so
row-level security shows and accepts only that organization's rows; nothing survives the
transaction on a pooled connection. Before a commit the tenant is read back: a statement that
switched it inside the transaction fails the transaction. Only a role that row-level security
binds may run any of them (`roles.check_role`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import psycopg
from psycopg import pq
from sqlalchemy import Connection, Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from advisoros_db.errors import TenantError, translated
from advisoros_db.tenancy.context import (
    APPLY_SQL,
    CURRENT_SQL,
    apply_tenant,
    apply_tenant_async,
    same_tenant,
    tenant_id,
    verify_tenant,
    verify_tenant_async,
)
from advisoros_db.tenancy.reset import install_engine_reset
from advisoros_db.tenancy.roles import ROLE_CHECK_SQL, refuse, role_problem

# Where a scoped session remembers its tenant (Session.info is the documented place for this).
_INFO_KEY = "advisoros.organization_id"
# Where a pooled SQLAlchemy connection remembers whether its role may run tenant sessions
# (Connection.info lives as long as the DBAPI connection).
_ROLE_KEY = "advisoros.role_problem"


def apply_tenant_sa(connection: Connection, organization_id: str) -> None:
    """Scope the transaction `connection` is in to a (canonical) organization id, after checking
    once per DBAPI connection that its role is bound by row-level security."""
    info = connection.info
    if _ROLE_KEY not in info:
        info[_ROLE_KEY] = role_problem(connection.exec_driver_sql(ROLE_CHECK_SQL).first())
    problem = info[_ROLE_KEY]
    if problem is not None:
        raise refuse(problem)
    connection.exec_driver_sql(APPLY_SQL, (organization_id,))


def verify_tenant_sa(connection: Connection, organization_id: str) -> None:
    """Before COMMIT: fail unless the transaction is still scoped to `organization_id`."""
    same_tenant(organization_id, connection.exec_driver_sql(CURRENT_SQL).scalar())


def _apply_on_begin(
    session: Session, transaction: SessionTransaction, connection: Connection
) -> None:
    organization_id = session.info.get(_INFO_KEY)
    if organization_id is not None:
        apply_tenant_sa(connection, organization_id)


def _verify_before_commit(session: Session) -> None:
    organization_id = session.info.get(_INFO_KEY)
    if organization_id is not None:
        verify_tenant_sa(session.connection(), organization_id)


def scope_session(session: Session, organization_id: uuid.UUID | str) -> Session:
    """Scope every transaction of `session` (from now on) to one organization."""
    session.info[_INFO_KEY] = tenant_id(organization_id)
    if not event.contains(session, "after_begin", _apply_on_begin):
        event.listen(session, "after_begin", _apply_on_begin)
        event.listen(session, "before_commit", _verify_before_commit)
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
    An engine passed here gets the pool reset (`reset.install_engine_reset`) if it lacks it.
    """
    if isinstance(bind, Engine):
        install_engine_reset(bind)
    with translated(), Session(bind) as session:
        scope_session(session, organization_id)
        with session.begin():
            yield session


@asynccontextmanager
async def async_tenant_session(
    bind: AsyncEngine, organization_id: uuid.UUID | str
) -> AsyncIterator[AsyncSession]:
    """Async twin of `tenant_session`: the same listeners, on the AsyncSession's sync session."""
    install_engine_reset(bind)
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
) -> Iterator[str]:
    """A psycopg transaction scoped to `organization_id`; commits on success, after checking the
    tenant is still the same. Yields the organization's canonical id.

    The one tenant transaction of the package: search, the CLI and applications use it.
    """
    org = tenant_id(organization_id)
    _require_idle(conn)
    with translated(), conn.transaction():
        apply_tenant(conn, org)
        yield org
        verify_tenant(conn, org)


@asynccontextmanager
async def async_tenant_transaction(
    conn: psycopg.AsyncConnection[Any], organization_id: uuid.UUID | str
) -> AsyncIterator[str]:
    """Async twin of `tenant_transaction`."""
    org = tenant_id(organization_id)
    _require_idle(conn)
    with translated():
        async with conn.transaction():
            await apply_tenant_async(conn, org)
            yield org
            await verify_tenant_async(conn, org)
