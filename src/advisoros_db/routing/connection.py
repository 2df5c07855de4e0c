"""The thin I/O shells of `router.connection(...)`: psycopg pools per node, blocking and asyncio drivers.

Both drive the same `RoutedTransaction` generators; only how an operation is performed differs.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import psycopg
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from advisoros_db.routing.kinds import Role
from advisoros_db.routing.lsn import ConsistencyToken
from advisoros_db.routing.state import NodeConfig
from advisoros_db.routing.topology import RouterOptions
from advisoros_db.routing.transaction import (
    CURRENT_LSN_SQL,
    Begin,
    Checkout,
    End,
    Op,
    Query,
    Release,
    RoutedTransaction,
    Run,
    Sleep,
    Steps,
)

P = TypeVar("P")


def connection_kwargs(node: NodeConfig, options: RouterOptions) -> dict[str, Any]:
    """libpq settings of a node's pool; `target_session_attrs=read-write` on the primary so libpq
    itself refuses a standby."""
    kwargs: dict[str, Any] = {
        "connect_timeout": max(2, int(options.probe_timeout_s + 0.999)),
        "application_name": f"advisoros-router-{node.name}",
    }
    if node.role in (Role.PRIMARY, Role.DR):
        kwargs["target_session_attrs"] = "read-write"
    return kwargs


def checkout_timeout(options: RouterOptions) -> float:
    """How long to wait for a pooled connection before treating the node as down."""
    return max(2.0, options.probe_timeout_s * 2)


class Pools(Generic[P]):
    """One pool per node, opened on first use so routers that only use sessions pay nothing."""

    def __init__(self, nodes: tuple[NodeConfig, ...], make: Callable[[NodeConfig], P]) -> None:
        self._nodes = {n.name: n for n in nodes}
        self._make: Callable[[NodeConfig], P] = make
        self._lock = threading.Lock()
        self.open: dict[str, P] = {}

    def get(self, name: str) -> P:
        pool = self.open.get(name)
        if pool is None:
            with self._lock:
                pool = self.open.get(name)
                if pool is None:
                    pool = self.open[name] = self._make(self._nodes[name])
        return pool

    def drain(self) -> list[P]:
        with self._lock:
            pools, self.open = list(self.open.values()), {}
        return pools


# -- blocking shell ------------------------------------------------------------------------


def _sync_op(pools: Pools[ConnectionPool], op: Op) -> Any:
    if isinstance(op, Run):
        return op.conn.execute(op.query, op.params)
    if isinstance(op, Checkout):
        pool = pools.get(op.node)
        return pool.getconn(timeout=pool.timeout)
    if isinstance(op, Begin):
        conn: psycopg.Connection[Any] = op.conn
        if conn.read_only is not op.read_only:  # the setter takes a lock and a wait()
            conn.read_only = op.read_only
        if not op.statements:
            return None
        # psycopg queues its BEGIN in the pipeline too: one round trip for all of it.
        with conn.pipeline():
            for statement in op.statements:
                cursor = conn.execute(*statement)
        return cursor.fetchone() if op.fetch_last else None
    if isinstance(op, End):
        if not op.commit:
            op.conn.rollback()
            return None
        op.conn.commit()
        if not op.lsn:
            return None
        # Outside a transaction: a plain execute() would open one.
        op.conn.autocommit = True
        try:
            row = op.conn.execute(CURRENT_LSN_SQL).fetchone()
        finally:
            op.conn.autocommit = False
        return row[0] if row else None
    if isinstance(op, Release):
        pools.get(op.node).putconn(op.conn)
        return None
    if isinstance(op, Sleep):
        threading.Event().wait(op.seconds)
        return None
    raise TypeError(f"unknown routing operation {op!r}")


def drive(steps: Steps, pools: Pools[ConnectionPool]) -> Any:
    """Run a transaction step generator to its end with blocking psycopg calls."""
    try:
        op = next(steps)
        while True:
            try:
                result = _sync_op(pools, op)
            except Exception as exc:
                op = steps.throw(exc)
            else:
                op = steps.send(result)
    except StopIteration as done:
        return done.value


class _RoutedTransactionView:
    """What both connection shells report about their routed transaction."""

    _tx: RoutedTransaction

    @property
    def node(self) -> str:
        """The node serving the transaction now."""
        return self._tx.node

    @property
    def token(self) -> ConsistencyToken | None:
        """After a write commits: its WAL position (also the context's `router.token`)."""
        return self._tx.token


class RoutedConnection(_RoutedTransactionView):
    """What `Router.connection(...)` yields: one transaction on one node at a time.

    `execute()` returns a psycopg cursor whose rows are already fetched. A read whose node dies
    mid-statement is re-run on another node; `raw` is the current psycopg connection for anything
    else (no retry there).
    """

    def __init__(self, tx: RoutedTransaction, pools: Pools[ConnectionPool]) -> None:
        self._tx = tx
        self._pools = pools

    def execute(self, query: Query, params: Any = None) -> psycopg.Cursor[Any]:
        cursor: psycopg.Cursor[Any] = drive(self._tx.run(query, params), self._pools)
        return cursor

    @property
    def raw(self) -> psycopg.Connection[Any]:
        conn: psycopg.Connection[Any] = self._tx.conn
        return conn


def sync_pools(nodes: tuple[NodeConfig, ...], options: RouterOptions) -> Pools[ConnectionPool]:
    def make(node: NodeConfig) -> ConnectionPool:
        return ConnectionPool(
            node.url,
            min_size=1,
            max_size=options.pool_size,
            kwargs=connection_kwargs(node, options),
            timeout=checkout_timeout(options),
            name=f"advisoros-router-{node.name}",
            open=True,
        )

    return Pools(nodes, make)


# -- asyncio shell -------------------------------------------------------------------------


async def _async_op(pools: Pools[AsyncConnectionPool], op: Op) -> Any:
    if isinstance(op, Run):
        return await op.conn.execute(op.query, op.params)
    if isinstance(op, Checkout):
        pool = pools.get(op.node)
        if pool.closed:
            await pool.open()
        return await pool.getconn(timeout=pool.timeout)
    if isinstance(op, Begin):
        conn: psycopg.AsyncConnection[Any] = op.conn
        if conn.read_only is not op.read_only:
            await conn.set_read_only(op.read_only)
        if not op.statements:
            return None
        async with conn.pipeline():
            for statement in op.statements:
                cursor = await conn.execute(*statement)
        return await cursor.fetchone() if op.fetch_last else None
    if isinstance(op, End):
        if not op.commit:
            await op.conn.rollback()
            return None
        await op.conn.commit()
        if not op.lsn:
            return None
        await op.conn.set_autocommit(True)
        try:
            cursor = await op.conn.execute(CURRENT_LSN_SQL)
            row = await cursor.fetchone()
        finally:
            await op.conn.set_autocommit(False)
        return row[0] if row else None
    if isinstance(op, Release):
        await pools.get(op.node).putconn(op.conn)
        return None
    if isinstance(op, Sleep):
        await asyncio.sleep(op.seconds)
        return None
    raise TypeError(f"unknown routing operation {op!r}")


async def adrive(steps: Steps, pools: Pools[AsyncConnectionPool]) -> Any:
    """Run a transaction step generator to its end with asyncio psycopg calls."""
    try:
        op = next(steps)
        while True:
            try:
                result = await _async_op(pools, op)
            except Exception as exc:
                op = steps.throw(exc)
            else:
                op = steps.send(result)
    except StopIteration as done:
        return done.value


class AsyncRoutedConnection(_RoutedTransactionView):
    """What `AsyncRouter.connection(...)` yields; see `RoutedConnection`."""

    def __init__(self, tx: RoutedTransaction, pools: Pools[AsyncConnectionPool]) -> None:
        self._tx = tx
        self._pools = pools

    async def execute(self, query: Query, params: Any = None) -> psycopg.AsyncCursor[Any]:
        cursor: psycopg.AsyncCursor[Any] = await adrive(self._tx.run(query, params), self._pools)
        return cursor

    @property
    def raw(self) -> psycopg.AsyncConnection[Any]:
        conn: psycopg.AsyncConnection[Any] = self._tx.conn
        return conn


def async_pools(
    nodes: tuple[NodeConfig, ...], options: RouterOptions
) -> Pools[AsyncConnectionPool]:
    def make(node: NodeConfig) -> AsyncConnectionPool:
        # Opened by the first checkout, inside the event loop.
        return AsyncConnectionPool(
            node.url,
            min_size=1,
            max_size=options.pool_size,
            kwargs=connection_kwargs(node, options),
            timeout=checkout_timeout(options),
            name=f"advisoros-router-{node.name}",
            open=False,
        )

    return Pools(nodes, make)


__all__ = [
    "AsyncRoutedConnection",
    "RoutedConnection",
    "adrive",
    "async_pools",
    "drive",
    "sync_pools",
]
