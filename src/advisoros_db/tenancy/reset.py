"""What every pooled connection goes through on its way back to a pool: one reset, one place.

A connection returns with no session state of its borrower: no tenant setting, role, search_path,
timeouts or other settings, prepared statements of its own, cursors, temporary tables, advisory
locks or LISTENs. The default (`SessionReset.SESSION`) does what `DISCARD ALL` does in one round
trip, except that it keeps the statements psycopg itself prepared on the connection, after
proving that the server holds exactly those and nothing else (`_SESSION_SQL`), so the next
borrower's statements are not planned again. What it costs: docs/security.md (folding it into the
COMMIT's round trip was measured slower, and is not done).

Behind PgBouncer in transaction mode a session-level reset from the client is meaningless (the
next transaction may run on another server connection), so that mode sends nothing and relies
on the pooler's own reset (`server_reset_query = DISCARD ALL` with `server_reset_query_always =
1`, see docs/security.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum
from typing import Any

import psycopg
from psycopg import pq
from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only


class SessionReset(StrEnum):
    """How a connection is cleaned on its return to a pool (`ADVISOROS_SESSION_RESET`)."""

    SESSION = "session"
    """Direct connections, or a pooler in session mode (the default): every piece of session
    state `DISCARD ALL` clears, in one round trip, keeping only the statements psycopg prepared
    (checked against the server on every return)."""

    DISCARD_ALL = "discard_all"
    """`DISCARD ALL` itself on every return: psycopg's prepared statements go too, so every
    statement is planned again by the next borrower."""

    TRANSACTION_POOLER = "transaction_pooler"
    """PgBouncer in transaction mode: the pooler resets server connections, the client sends
    nothing."""


# PostgreSQL documents DISCARD ALL as CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL;
# DEALLOCATE ALL; UNLISTEN *; SELECT pg_advisory_unlock_all(); DISCARD PLANS; DISCARD TEMP;
# DISCARD SEQUENCES. This is that list less two items. DISCARD PLANS only drops cached plans,
# which carry no borrower state: a plan is checked again when the role or search_path it was made
# under changes, and the tenant setting is read when a plan runs, not when it is made. DEALLOCATE
# ALL becomes the last statement, a check: an application-role borrower can create a prepared
# statement only with SQL PREPARE (`from_sql`), so the server must hold no such statement and,
# among the protocol-level ones, exactly the names psycopg believes it prepared. A borrower that
# deallocated one of psycopg's statements, or PREPAREd its own under a name psycopg uses or will
# use (`_pg3_N`), fails the check, and the connection loses every prepared statement
# (`_deallocate_all`) before anyone else runs a statement on it. The check runs after RESET ALL
# and DISCARD TEMP, with qualified names: no search_path or temporary object of the borrower can
# stand in for the catalog.
_SESSION_SQL = (
    "CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; UNLISTEN *; "
    "SELECT pg_catalog.pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES; "
    "SELECT coalesce(pg_catalog.array_agg(name::pg_catalog.text) FILTER (WHERE NOT from_sql), "
    "'{}'::pg_catalog.text[]), pg_catalog.count(*) FILTER (WHERE from_sql) "
    "FROM pg_catalog.pg_prepared_statements"
)
_DISCARD_SQL = "DISCARD ALL"


def _prepared_names(conn: Any) -> set[str] | None:
    """The statements psycopg believes it prepared on `conn`; None when its cache has commands
    queued for the server (psycopg deallocates lazily), so it cannot be compared."""
    # There is no public call for it; `_prepared` has been psycopg 3's cache since 3.0.
    prepared = getattr(conn, "_prepared", None)
    if prepared is None:
        return set()
    if prepared._to_flush:
        return None
    return {name.decode() for name in prepared._names.values()}


def _matches(conn: Any, row: Sequence[Any] | None) -> bool:
    if row is None:
        return False
    server, from_sql = row
    return from_sql == 0 and _prepared_names(conn) == set(server)


def _forget_prepared(conn: Any) -> None:
    # After DISCARD ALL / DEALLOCATE ALL psycopg would EXECUTE `_pg3_N` statements the server no
    # longer has (it notices a DISCARD ALL only the first time it runs one), so its cache goes too.
    prepared = getattr(conn, "_prepared", None)
    if prepared is not None:
        prepared.clear()
        prepared._to_flush.clear()  # nothing left on the server to deallocate


def _last_row(cursor: psycopg.Cursor[Any]) -> Sequence[Any] | None:
    while cursor.nextset():
        pass
    return cursor.fetchone()


async def _alast_row(cursor: psycopg.AsyncCursor[Any]) -> Sequence[Any] | None:
    while cursor.nextset():
        pass
    return await cursor.fetchone()


def _discard(conn: psycopg.Connection[Any]) -> None:
    conn.execute(_DISCARD_SQL, prepare=False)
    _forget_prepared(conn)


async def _adiscard(conn: psycopg.AsyncConnection[Any]) -> None:
    await conn.execute(_DISCARD_SQL, prepare=False)
    _forget_prepared(conn)


def _deallocate_all(conn: psycopg.Connection[Any]) -> None:
    _forget_prepared(conn)  # first: psycopg would otherwise queue a DEALLOCATE ALL of its own
    conn.execute("DEALLOCATE ALL", prepare=False)


async def _adeallocate_all(conn: psycopg.AsyncConnection[Any]) -> None:
    _forget_prepared(conn)
    await conn.execute("DEALLOCATE ALL", prepare=False)


def _session_reset(conn: psycopg.Connection[Any]) -> None:
    try:
        row = _last_row(conn.execute(_SESSION_SQL, prepare=False))
    except psycopg.OperationalError:
        raise  # the connection is gone: the pool drops it
    except psycopg.Error:
        # A borrower's setting can make a statement of the string fail (a statement_timeout of
        # 1 ms). The string runs as one implicit transaction, whose settings rolled back with
        # it: DISCARD ALL does everything again.
        _discard(conn)
        return
    if not _matches(conn, row):
        _deallocate_all(conn)


async def _asession_reset(conn: psycopg.AsyncConnection[Any]) -> None:
    try:
        row = await _alast_row(await conn.execute(_SESSION_SQL, prepare=False))
    except psycopg.OperationalError:
        raise
    except psycopg.Error:
        await _adiscard(conn)
        return
    if not _matches(conn, row):
        await _adeallocate_all(conn)


def reset_connection(
    conn: psycopg.Connection[Any], mode: SessionReset = SessionReset.SESSION
) -> None:
    """Clear `conn`'s session state (see the module docstring); leaves it idle.

    Any open transaction is rolled back first: the reset runs outside one.
    """
    if conn.info.transaction_status != pq.TransactionStatus.IDLE:
        conn.rollback()
    if mode is SessionReset.TRANSACTION_POOLER:
        return
    autocommit = conn.autocommit
    conn.autocommit = True
    try:
        if mode is SessionReset.DISCARD_ALL:
            _discard(conn)
        else:
            _session_reset(conn)
    finally:
        conn.autocommit = autocommit


async def reset_connection_async(
    conn: psycopg.AsyncConnection[Any], mode: SessionReset = SessionReset.SESSION
) -> None:
    """Async twin of `reset_connection`."""
    if conn.info.transaction_status != pq.TransactionStatus.IDLE:
        await conn.rollback()
    if mode is SessionReset.TRANSACTION_POOLER:
        return
    autocommit = conn.autocommit
    await conn.set_autocommit(True)
    try:
        if mode is SessionReset.DISCARD_ALL:
            await _adiscard(conn)
        else:
            await _asession_reset(conn)
    finally:
        await conn.set_autocommit(autocommit)


def pool_reset(mode: SessionReset) -> Callable[[psycopg.Connection[Any]], None]:
    """The `reset=` callback of a psycopg_pool.ConnectionPool."""

    def reset(conn: psycopg.Connection[Any]) -> None:
        reset_connection(conn, mode)

    return reset


def async_pool_reset(
    mode: SessionReset,
) -> Callable[[psycopg.AsyncConnection[Any]], Awaitable[None]]:
    """The `reset=` callback of a psycopg_pool.AsyncConnectionPool."""

    async def reset(conn: psycopg.AsyncConnection[Any]) -> None:
        await reset_connection_async(conn, mode)

    return reset


def _engine_listener(mode: SessionReset) -> Callable[[Any, Any, Any], None]:
    def on_reset(dbapi_connection: Any, record: Any, state: Any) -> None:
        if state.terminate_only:  # the connection is being closed: nothing to clean
            return
        # The sync dialect hands psycopg's connection itself; the async one an adapter around it.
        raw = getattr(dbapi_connection, "driver_connection", dbapi_connection)
        if isinstance(raw, psycopg.AsyncConnection):
            await_only(reset_connection_async(raw, mode))
        else:
            reset_connection(raw, mode)

    return on_reset


_LISTENERS = {
    SessionReset.SESSION: _engine_listener(SessionReset.SESSION),
    SessionReset.DISCARD_ALL: _engine_listener(SessionReset.DISCARD_ALL),
}


def install_engine_reset(
    engine: Engine | AsyncEngine, mode: SessionReset = SessionReset.SESSION
) -> None:
    """Reset every connection `engine`'s pool takes back (idempotent: an engine that has either
    reset keeps it). In transaction-pooler mode SQLAlchemy's own rollback on return is all the
    client does."""
    listener = _LISTENERS.get(mode)
    if listener is None:
        return
    pool = (engine.sync_engine if isinstance(engine, AsyncEngine) else engine).pool
    if not any(event.contains(pool, "reset", fn) for fn in _LISTENERS.values()):
        event.listen(pool, "reset", listener)
