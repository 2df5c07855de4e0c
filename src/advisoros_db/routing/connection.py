"""The thin I/O shells of `router.connection(...)`: psycopg pools per node, blocking and asyncio.

Each shell makes the transaction's first attempt with plain psycopg calls (check out, BEGIN with
the first statement, COMMIT, check in) and hands every failure to the same `RoutedTransaction`
recovery generators, which its driver (`drive`/`adrive`) runs. Every decision lives in
`transaction.py`; a shell only says how an operation is performed.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, TypeVar

import psycopg
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from advisoros_db import pooler
from advisoros_db.routing.core import CURRENT_LSN_SQL
from advisoros_db.routing.kinds import Role
from advisoros_db.routing.lsn import ConsistencyToken
from advisoros_db.routing.state import NodeConfig
from advisoros_db.routing.topology import RouterOptions
from advisoros_db.routing.transaction import (
    NOT_OPENED,
    Begin,
    Checkout,
    Op,
    Query,
    Release,
    RoutedTransaction,
    Run,
    Sleep,
    Statement,
    Steps,
)
from advisoros_db.tenancy import (
    APPLY_SQL,
    check_role,
    check_role_async,
    verify_tenant,
    verify_tenant_async,
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
    """One pool per node, opened on first use (a node nothing is routed to opens none); the
    node's SQLAlchemy engine and the fast path both draw from it.

    A node that comes back after traffic or probes could not reach it gets a fresh pool: the old
    one's connections died with the server, and psycopg's pool reconnects with a back-off that
    doubles while the node is down (reads found it empty, `PoolTimeout`, long after the server
    was back). `epoch(name)` counts the node's returns; the retired pool is closed by the shells.
    """

    def __init__(self, nodes: tuple[NodeConfig, ...], make: Callable[[NodeConfig], P]) -> None:
        self._nodes = {n.name: n for n in nodes}
        self._make: Callable[[NodeConfig], P] = make
        self._lock = threading.Lock()
        self.open: dict[str, P] = {}
        self.epoch: Callable[[str], int] = lambda _name: 0
        self._epochs: dict[str, int] = {}
        self.retired: list[P] = []

    def get(self, name: str) -> P:
        pool = self.open.get(name)
        if pool is not None and self._epochs.get(name) == self.epoch(name):
            return pool
        with self._lock:
            epoch = self.epoch(name)
            pool = self.open.get(name)
            if pool is None or self._epochs.get(name) != epoch:
                if pool is not None:
                    self.retired.append(pool)
                pool = self.open[name] = self._make(self._nodes[name])
                self._epochs[name] = epoch
        return pool

    def take_retired(self) -> list[P]:
        with self._lock:
            retired, self.retired = self.retired, []
        return retired

    def drain(self) -> list[P]:
        with self._lock:
            pools, self.open = [*self.open.values(), *self.retired], {}
            self.retired = []
        return pools


class _RoutedTransactionView:
    """What both connection shells report about their routed transaction (once entered)."""

    __slots__ = ("_pools", "_start", "_tx")

    _tx: RoutedTransaction

    @property
    def node(self) -> str:
        """The node serving the transaction now."""
        return self._tx.node

    @property
    def token(self) -> ConsistencyToken | None:
        """After a write commits: its WAL position (also the context's `router.token`)."""
        return self._tx.token


# -- blocking shell ------------------------------------------------------------------------


def _checkout(pools: Pools[ConnectionPool], node: str) -> psycopg.Connection[Any]:
    pool = pools.get(node)
    for old in pools.take_retired():
        old.close(timeout=0)  # connections still out close when they come back
    return pool.getconn(timeout=pool.timeout)


def _tenant_scoped(statements: tuple[Statement, ...]) -> bool:
    return bool(statements) and statements[0][0] is APPLY_SQL


def _open(
    conn: psycopg.Connection[Any],
    read_only: bool,
    statements: tuple[Statement, ...],
    fetch_last: bool,
) -> Any:
    if _tenant_scoped(statements):
        check_role(conn)  # a query once per pooled connection, a lookup afterwards
    if conn.read_only is not read_only:  # the setter takes a lock and a wait()
        conn.read_only = read_only
    if not statements:
        return None
    # psycopg queues its BEGIN in the pipeline too: one round trip for all of it.
    with conn.pipeline():
        for statement in statements:
            cursor = conn.execute(*statement)
    return cursor.fetchone() if fetch_last else None


def _close(
    conn: psycopg.Connection[Any], commit: bool, lsn: bool, tenant: str | None
) -> str | None:
    if not commit:
        conn.rollback()
        return None
    if tenant is not None:
        try:
            verify_tenant(conn, tenant)
        except BaseException:
            conn.rollback()
            raise
    conn.commit()
    if not lsn:
        return None
    # Outside a transaction: a plain execute() would open one.
    conn.autocommit = True
    try:
        # Never a prepared statement: the borrower, who ran SQL on this connection, could have
        # replaced it (the pools' reset keeps psycopg's statements) and chosen the token.
        row = conn.execute(CURRENT_LSN_SQL, prepare=False).fetchone()
    finally:
        conn.autocommit = False
    return row[0] if row else None


def _sync_op(pools: Pools[ConnectionPool], op: Op) -> Any:
    if isinstance(op, Run):
        return op.conn.execute(op.query, op.params)
    if isinstance(op, Checkout):
        return _checkout(pools, op.node)
    if isinstance(op, Begin):
        return _open(op.conn, op.read_only, op.statements, op.fetch_last)
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


class RoutedConnection(_RoutedTransactionView):
    """What `Router.connection(...)` returns: a context manager for one routed transaction.

    Entering plans the transaction and opens it; a clean exit commits (a write leaves its token),
    an error rolls back. `execute()` returns a psycopg cursor whose rows are already fetched. A
    read whose node dies mid-statement is re-run on another node; `raw` is the current psycopg
    connection for anything else (no retry there).
    """

    __slots__ = ()

    def __init__(
        self, start: Callable[[], RoutedTransaction], pools: Pools[ConnectionPool]
    ) -> None:
        self._start = start
        self._pools = pools

    def __enter__(self) -> RoutedConnection:
        tx = self._tx = self._start()
        try:
            try:
                tx.known_down()
                tx.conn = conn = _checkout(self._pools, tx.node)
                statements, check = tx.opening()
                row = _open(conn, tx.read_only, statements, check)
                if check:
                    tx.verify(row)
            except NOT_OPENED as exc:
                drive(tx.reopen(exc), self._pools)
        except BaseException:
            self._finish(commit=False)
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._finish(commit=kind is None)

    def execute(self, query: Query, params: Any = None) -> psycopg.Cursor[Any]:
        tx = self._tx
        tx.admit(query)
        started = time.perf_counter()
        try:
            cursor: psycopg.Cursor[Any] = tx.conn.execute(query, params)
        except psycopg.Error as exc:
            cursor = drive(tx.rerun(exc, query, params), self._pools)
        tx.ran(time.perf_counter() - started)
        return cursor

    def _finish(self, *, commit: bool) -> None:
        tx = self._tx
        conn, tx.conn = tx.conn, None
        try:
            if conn is not None:
                try:
                    lsn = _close(conn, commit, tx.wants_lsn(commit), tx.organization_id)
                except psycopg.Error as exc:
                    tx.close_failed(exc, commit)
                else:
                    tx.closed(lsn)
        finally:
            if conn is not None:
                self._pools.get(tx.node).putconn(conn)
            tx.release()

    @property
    def raw(self) -> psycopg.Connection[Any]:
        conn: psycopg.Connection[Any] = self._tx.conn
        return conn


def sync_pools(nodes: tuple[NodeConfig, ...], options: RouterOptions) -> Pools[ConnectionPool]:
    """One psycopg pool per node, sized for the node's kind; the node's SQLAlchemy engine draws
    from it too (`close_returns`: closing a connection hands it back)."""

    choice = pooler.mode(options.pgbouncer)  # read once, not per connection

    def make(node: NodeConfig) -> ConnectionPool:
        low, high = options.pool_range(node.role)
        return ConnectionPool(
            node.url,
            min_size=low,
            max_size=high,
            kwargs=connection_kwargs(node, options),
            configure=lambda conn: pooler.configure(conn, choice),
            reset=pooler.pool_reset(options.session_reset, choice),
            timeout=checkout_timeout(options),
            name=f"advisoros-router-{node.name}",
            close_returns=True,
            open=True,
        )

    return Pools(nodes, make)


# -- asyncio shell -------------------------------------------------------------------------


async def acheckout(pools: Pools[AsyncConnectionPool], node: str) -> psycopg.AsyncConnection[Any]:
    pool = pools.get(node)
    for old in pools.take_retired():
        await old.close(timeout=0)  # as in `_checkout`
    if pool.closed:
        await pool.open()
    return await pool.getconn(timeout=pool.timeout)


async def _aopen(
    conn: psycopg.AsyncConnection[Any],
    read_only: bool,
    statements: tuple[Statement, ...],
    fetch_last: bool,
) -> Any:
    if _tenant_scoped(statements):
        await check_role_async(conn)
    if conn.read_only is not read_only:
        await conn.set_read_only(read_only)
    if not statements:
        return None
    async with conn.pipeline():
        for statement in statements:
            cursor = await conn.execute(*statement)
    return await cursor.fetchone() if fetch_last else None


async def _aclose(
    conn: psycopg.AsyncConnection[Any], commit: bool, lsn: bool, tenant: str | None
) -> str | None:
    if not commit:
        await conn.rollback()
        return None
    if tenant is not None:
        try:
            await verify_tenant_async(conn, tenant)
        except BaseException:
            await conn.rollback()
            raise
    await conn.commit()
    if not lsn:
        return None
    await conn.set_autocommit(True)
    try:
        cursor = await conn.execute(CURRENT_LSN_SQL, prepare=False)
        row = await cursor.fetchone()
    finally:
        await conn.set_autocommit(False)
    return row[0] if row else None


async def _async_op(pools: Pools[AsyncConnectionPool], op: Op) -> Any:
    if isinstance(op, Run):
        return await op.conn.execute(op.query, op.params)
    if isinstance(op, Checkout):
        return await acheckout(pools, op.node)
    if isinstance(op, Begin):
        return await _aopen(op.conn, op.read_only, op.statements, op.fetch_last)
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
    """What `AsyncRouter.connection(...)` returns; the asyncio twin of `RoutedConnection`."""

    __slots__ = ("_probed",)

    def __init__(
        self,
        start: Callable[[], RoutedTransaction],
        pools: Pools[AsyncConnectionPool],
        probed: threading.Event | None = None,
    ) -> None:
        self._start = start
        self._pools = pools
        self._probed = probed

    async def __aenter__(self) -> AsyncRoutedConnection:
        probed = self._probed
        if probed is not None and not probed.is_set():
            # The router's first probe round runs in a thread; wait without blocking the loop.
            await asyncio.to_thread(probed.wait)
        tx = self._tx = self._start()
        try:
            try:
                tx.known_down()
                tx.conn = conn = await acheckout(self._pools, tx.node)
                statements, check = tx.opening()
                row = await _aopen(conn, tx.read_only, statements, check)
                if check:
                    tx.verify(row)
            except NOT_OPENED as exc:
                await adrive(tx.reopen(exc), self._pools)
        except BaseException:
            await self._finish(commit=False)
            raise
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._finish(commit=kind is None)

    async def execute(self, query: Query, params: Any = None) -> psycopg.AsyncCursor[Any]:
        tx = self._tx
        tx.admit(query)
        started = time.perf_counter()
        try:
            cursor: psycopg.AsyncCursor[Any] = await tx.conn.execute(query, params)
        except psycopg.Error as exc:
            cursor = await adrive(tx.rerun(exc, query, params), self._pools)
        tx.ran(time.perf_counter() - started)
        return cursor

    async def _finish(self, *, commit: bool) -> None:
        tx = self._tx
        conn, tx.conn = tx.conn, None
        try:
            if conn is not None:
                try:
                    lsn = await _aclose(conn, commit, tx.wants_lsn(commit), tx.organization_id)
                except psycopg.Error as exc:
                    tx.close_failed(exc, commit)
                else:
                    tx.closed(lsn)
        finally:
            if conn is not None:
                await self._pools.get(tx.node).putconn(conn)
            tx.release()

    @property
    def raw(self) -> psycopg.AsyncConnection[Any]:
        conn: psycopg.AsyncConnection[Any] = self._tx.conn
        return conn


def async_pools(
    nodes: tuple[NodeConfig, ...], options: RouterOptions
) -> Pools[AsyncConnectionPool]:
    """The asyncio twin of `sync_pools`."""

    choice = pooler.mode(options.pgbouncer)  # read once, not per connection

    async def configure(conn: psycopg.AsyncConnection[Any]) -> None:
        await pooler.aconfigure(conn, choice)

    def make(node: NodeConfig) -> AsyncConnectionPool:
        low, high = options.pool_range(node.role)
        # Opened by the first checkout, inside the event loop.
        return AsyncConnectionPool(
            node.url,
            min_size=low,
            max_size=high,
            kwargs=connection_kwargs(node, options),
            configure=configure,
            reset=pooler.async_pool_reset(options.session_reset, choice),
            timeout=checkout_timeout(options),
            name=f"advisoros-router-{node.name}",
            close_returns=True,
            open=False,
        )

    return Pools(nodes, make)


__all__ = [
    "AsyncRoutedConnection",
    "RoutedConnection",
    "acheckout",
    "adrive",
    "async_pools",
    "drive",
    "sync_pools",
]
