"""Connections that work through PgBouncer in transaction mode.

Such a pooler hands each transaction whichever server connection is free, so nothing may outlive a
transaction on the server: no server-side prepared statement (psycopg prepares a query after five
runs, and the next run may reach a server that never saw it, or one where another client's
statement of that name exists) and no session setting. `ADVISOROS_PGBOUNCER` says whether a pooler
is there (`on`/`off`); `auto` (the default) asks each server once: behind PgBouncer, the process id
the server reports differs from the one PgBouncer gave the client at startup.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import pq
from sqlalchemy import Engine, create_engine, event

from advisoros_db.settings import get_settings
from advisoros_db.tenancy.reset import SessionReset, reset_connection, reset_connection_async

log = logging.getLogger("advisoros_db.pooler")

_detected: dict[tuple[str, str, str], bool] = {}
_lock = threading.Lock()


def mode(explicit: str | None = None) -> str:
    """`on`, `off` or `auto`: the explicit choice, else `ADVISOROS_PGBOUNCER`."""
    return explicit if explicit is not None else get_settings().pgbouncer


def _key(conn: psycopg.BaseConnection[Any]) -> tuple[str, str, str]:
    info = conn.info
    return (info.host, str(info.port), info.dbname)


def _server_pid(conn: psycopg.Connection[Any]) -> int | None:
    # The libpq call bypasses psycopg's transaction handling: the connection stays idle, no
    # statement is prepared, and a pool's configure callback may call it.
    result = conn.pgconn.exec_(b"SELECT pg_backend_pid()")
    if result.status != pq.ExecStatus.TUPLES_OK:
        return None
    value = result.get_value(0, 0)
    return int(value) if value is not None else None


def behind_pooler(conn: psycopg.Connection[Any]) -> bool:
    """Whether a pooler sits between this connection and PostgreSQL (checked once per server)."""
    key = _key(conn)
    known = _detected.get(key)
    if known is None:
        pid = _server_pid(conn)
        known = pid is not None and pid != conn.info.backend_pid
        with _lock:
            _detected[key] = known
    return known


async def abehind_pooler(conn: psycopg.AsyncConnection[Any]) -> bool:
    """`behind_pooler` for an asyncio connection (left idle, as it was)."""
    key = _key(conn)
    known = _detected.get(key)
    if known is None:
        autocommit = conn.autocommit
        cursor = await conn.execute("SELECT pg_backend_pid()", prepare=False)
        row = await cursor.fetchone()
        if not autocommit:
            await conn.rollback()
        known = row is not None and int(row[0]) != conn.info.backend_pid
        with _lock:
            _detected[key] = known
    return known


def uses_pooler(conn: psycopg.Connection[Any], choice: str | None = None) -> bool:
    """True when `conn` must avoid prepared statements and session state."""
    chosen = mode(choice)
    return chosen == "on" or (chosen == "auto" and behind_pooler(conn))


def configure(conn: psycopg.Connection[Any], choice: str | None = None) -> None:
    """Turn off server-side prepared statements on `conn` when a pooler is in front."""
    if uses_pooler(conn, choice):
        conn.prepare_threshold = None


async def aconfigure(conn: psycopg.AsyncConnection[Any], choice: str | None = None) -> None:
    """`configure` for an asyncio connection."""
    chosen = mode(choice)
    if chosen == "on" or (chosen == "auto" and await abehind_pooler(conn)):
        conn.prepare_threshold = None


@contextmanager
def session_setting(
    conn: psycopg.Connection[Any], name: str, value: str, choice: str | None = None
) -> Iterator[bool]:
    """Set a server setting for the statements of this block, which cannot run in a transaction
    (CREATE INDEX CONCURRENTLY), and put the previous value back after; yields whether it was set.

    Through a pooler in transaction mode each of those statements may reach another server, so
    nothing is set there: a SET would stay behind on whichever server took it.
    """
    if uses_pooler(conn, choice):
        log.warning("behind a pooler: %s stays at the server's default for this step", name)
        yield False
        return
    row = conn.execute("SELECT current_setting(%s)", (name,), prepare=False).fetchone()
    conn.execute("SELECT set_config(%s, %s, false)", (name, value), prepare=False)
    try:
        yield True
    finally:
        if row is not None:
            conn.execute("SELECT set_config(%s, %s, false)", (name, row[0]), prepare=False)


def connect(url: str, *, pgbouncer: str | None = None, **kwargs: Any) -> psycopg.Connection[Any]:
    """`psycopg.connect`, then `configure` (see the module's docstring)."""
    conn = psycopg.connect(url, **kwargs)
    try:
        configure(conn, pgbouncer)
    except BaseException:
        conn.close()
        raise
    return conn


def watch_engine(engine: Engine, choice: str | None = None) -> Engine:
    """Configure every connection `engine` opens (its sync engine, for an async one)."""
    chosen = mode(choice)
    if chosen == "off":
        return engine
    seen: weakref.WeakSet[Any] = weakref.WeakSet()

    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        raw = getattr(dbapi_conn, "driver_connection", dbapi_conn)
        if raw in seen:  # a pooled connection handed out again: configured already
            return
        seen.add(raw)
        if chosen == "on":
            raw.prepare_threshold = None
        elif isinstance(raw, psycopg.Connection):
            configure(raw, chosen)

    event.listen(engine, "connect", on_connect)
    return engine


def engine(url: str, *, pgbouncer: str | None = None, **kwargs: Any) -> Engine:
    """`sqlalchemy.create_engine` whose connections are configured (see the module's docstring)."""
    return watch_engine(create_engine(url, **kwargs), pgbouncer)


def forget() -> None:
    """Drop what was learnt about servers (tests start and stop poolers on the same ports)."""
    with _lock:
        _detected.clear()


def reset_mode(
    conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any],
    configured: SessionReset,
    choice: str | None = None,
) -> SessionReset:
    """The reset `conn` gets on its return to a pool: `configured`, except behind a pooler in
    transaction mode (declared, or detected when the pool configured the connection), where a
    session reset from the client would land on whichever server connection the pooler picks."""
    chosen = mode(choice)
    behind = chosen == "on" or (chosen == "auto" and _detected.get(_key(conn), False))
    return SessionReset.TRANSACTION_POOLER if behind else configured


def pool_reset(
    configured: SessionReset, choice: str | None = None
) -> Callable[[psycopg.Connection[Any]], None]:
    """The `reset=` callback of a psycopg_pool.ConnectionPool (see `reset_mode`). The setting is
    read once, here: reading it on every return parsed the environment and `.env` per
    transaction (milliseconds each on a loaded machine)."""
    chosen = mode(choice)

    def reset(conn: psycopg.Connection[Any]) -> None:
        reset_connection(conn, reset_mode(conn, configured, chosen))

    return reset


def async_pool_reset(
    configured: SessionReset, choice: str | None = None
) -> Callable[[psycopg.AsyncConnection[Any]], Awaitable[None]]:
    """The `reset=` callback of a psycopg_pool.AsyncConnectionPool (see `pool_reset`)."""
    chosen = mode(choice)

    async def reset(conn: psycopg.AsyncConnection[Any]) -> None:
        await reset_connection_async(conn, reset_mode(conn, configured, chosen))

    return reset
