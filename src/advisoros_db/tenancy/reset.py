"""What every pooled connection goes through on its way back to a pool: one reset, one place.

A connection returns with no session state of its borrower: no tenant setting, role, search_path,
timeouts or other settings, prepared statements, cursors, temporary tables, advisory locks or
LISTENs. `DISCARD ALL` does all of that in one statement. Behind PgBouncer in transaction mode a
session-level reset from the client is meaningless (the next transaction may run on another
server connection), so that mode sends nothing and relies on the pooler's own reset
(`server_reset_query = DISCARD ALL` with `server_reset_query_always = 1`, see docs/security.md).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any

import psycopg
from psycopg import pq
from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine


class SessionReset(StrEnum):
    """How a connection is cleaned on its return to a pool (`ADVISOROS_SESSION_RESET`)."""

    DISCARD_ALL = "discard_all"
    """Direct connections, or a pooler in session mode: `DISCARD ALL` on every return."""

    TRANSACTION_POOLER = "transaction_pooler"
    """PgBouncer in transaction mode: the pooler resets server connections, the client sends
    nothing."""


_SQL: dict[SessionReset, Any] = {
    SessionReset.DISCARD_ALL: "DISCARD ALL",
    SessionReset.TRANSACTION_POOLER: None,
}


def reset_connection(
    conn: psycopg.Connection[Any], mode: SessionReset = SessionReset.DISCARD_ALL
) -> None:
    """Clear `conn`'s session state (see the module docstring); leaves it idle.

    Any open transaction is rolled back first: DISCARD ALL cannot run inside one.
    """
    statement = _SQL[mode]
    if conn.info.transaction_status != pq.TransactionStatus.IDLE:
        conn.rollback()
    if statement is None:
        return
    autocommit = conn.autocommit
    conn.autocommit = True
    try:
        # psycopg sees DISCARD ALL go by and forgets its own prepared statements too.
        conn.execute(statement)
    finally:
        conn.autocommit = autocommit


async def reset_connection_async(
    conn: psycopg.AsyncConnection[Any], mode: SessionReset = SessionReset.DISCARD_ALL
) -> None:
    """Async twin of `reset_connection`."""
    statement = _SQL[mode]
    if conn.info.transaction_status != pq.TransactionStatus.IDLE:
        await conn.rollback()
    if statement is None:
        return
    autocommit = conn.autocommit
    await conn.set_autocommit(True)
    try:
        await conn.execute(statement)
    finally:
        await conn.set_autocommit(autocommit)


def pool_reset(mode: SessionReset) -> Callable[[psycopg.Connection[Any]], None]:
    """The `reset=` callback of a psycopg_pool.ConnectionPool."""
    return functools.partial(reset_connection, mode=mode)


def async_pool_reset(
    mode: SessionReset,
) -> Callable[[psycopg.AsyncConnection[Any]], Awaitable[None]]:
    """The `reset=` callback of a psycopg_pool.AsyncConnectionPool."""
    return functools.partial(reset_connection_async, mode=mode)


def _discard_on_reset(dbapi_connection: Any, record: Any, state: Any) -> None:
    if state.terminate_only:  # the connection is being closed: nothing to clean
        return
    dbapi_connection.rollback()
    # SQLAlchemy's psycopg adapters (sync and async) expose the DBAPI `autocommit` attribute.
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(_SQL[SessionReset.DISCARD_ALL])
        finally:
            cursor.close()
    finally:
        dbapi_connection.autocommit = autocommit


def install_engine_reset(
    engine: Engine | AsyncEngine, mode: SessionReset = SessionReset.DISCARD_ALL
) -> None:
    """Reset every connection `engine`'s pool takes back (idempotent). In transaction-pooler
    mode SQLAlchemy's own rollback on return is all the client does."""
    if mode is not SessionReset.DISCARD_ALL:
        return
    pool = (engine.sync_engine if isinstance(engine, AsyncEngine) else engine).pool
    if not event.contains(pool, "reset", _discard_on_reset):
        event.listen(pool, "reset", _discard_on_reset)
