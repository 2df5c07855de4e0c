"""`Router` and `AsyncRouter`: one per process, engines per node, a monitor, routed sessions."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Self

import psycopg
from psycopg_pool import AsyncConnectionPool, ConnectionPool
from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.util import await_only

from advisoros_db.errors import translated
from advisoros_db.routing import decisions
from advisoros_db.routing.connection import (
    AsyncRoutedConnection,
    Pools,
    RoutedConnection,
    acheckout,
    async_pools,
    sync_pools,
)
from advisoros_db.routing.core import Monitor, RoutingCore, log
from advisoros_db.routing.kinds import Kind, RoutingError, parse_kind
from advisoros_db.routing.lsn import ConsistencyToken, InvalidToken, format_lsn
from advisoros_db.routing.policies import ReadPolicy
from advisoros_db.routing.probe import Prober
from advisoros_db.routing.session import (
    Route,
    RoutedSession,
    SessionScope,
    install_statement_metrics,
    organization,
)
from advisoros_db.routing.state import NodeConfig
from advisoros_db.routing.topology import RouterOptions, nodes_for_target
from advisoros_db.routing.transaction import RoutedTransaction
from advisoros_db.settings import Settings
from advisoros_db.targets import Target, configured
from advisoros_db.tenancy import require_tenant_role
from advisoros_db.urls import to_sqlalchemy


def _engine(node: NodeConfig, pools: Pools[ConnectionPool]) -> Engine:
    """The node's SQLAlchemy engine, drawing from the node's psycopg pool: one pool per node.

    NullPool keeps no connection of its own; closing one hands it back to the psycopg pool, which
    configured it (libpq settings, no prepared statements behind a pooler) and resets it on its
    return (`tenancy.reset`): no engine-level reset, which would only reset it twice.
    """

    def checkout() -> psycopg.Connection[Any]:
        conn = pools.get(node.name).getconn()
        # The fast path leaves its last transaction's access mode on the connection; a session
        # starts with the server's default (plain BEGIN: a standby refuses BEGIN READ WRITE) and
        # sets READ ONLY itself when it must.
        if conn.read_only is not None:
            conn.read_only = None
        return conn

    engine = create_engine(to_sqlalchemy(node.url), poolclass=NullPool, creator=checkout)
    install_statement_metrics(engine)
    return _quiet_notice_handlers(engine)


def _async_engine(node: NodeConfig, pools: Pools[AsyncConnectionPool]) -> AsyncEngine:
    async def checkout() -> Any:
        conn = await acheckout(pools, node.name)
        if conn.read_only is not None:  # as in `_engine`
            await conn.set_read_only(None)
        return conn

    engine = create_async_engine(
        to_sqlalchemy(node.url), poolclass=NullPool, async_creator=checkout
    )
    _quiet_notice_handlers(engine.sync_engine)
    install_statement_metrics(engine.sync_engine)
    return engine


def _quiet_notice_handlers(engine: Engine) -> Engine:
    # SQLAlchemy adds its notice logger each time NullPool "connects"; with a pool underneath that
    # is every checkout of the same psycopg connection, so drop the copies it piles up.
    def dedupe(dbapi_conn: Any, _record: Any) -> None:
        raw = getattr(dbapi_conn, "driver_connection", dbapi_conn)
        handlers = getattr(raw, "_notice_handlers", None)
        if isinstance(handlers, list) and len(handlers) > 1:
            unique = list(dict.fromkeys(handlers))
            handlers[:] = unique

    event.listen(engine, "connect", dedupe)
    return engine


def _token(token: ConsistencyToken | str | None) -> ConsistencyToken | None:
    return ConsistencyToken.parse(token) if isinstance(token, str) else token


class _RouterBase:
    """What both shells share: the core, the monitor, reports."""

    pools: Pools[Any]  # set by each shell before this __init__ runs

    def __init__(
        self,
        nodes: tuple[NodeConfig, ...],
        options: RouterOptions | None = None,
        *,
        policy: ReadPolicy | None = None,
        monitor: bool = True,
    ) -> None:
        self.options = options or RouterOptions()
        self._token_check = threading.Lock()
        self._primary_position = 0
        self.core = RoutingCore(nodes, self.options, policy=policy)
        returns = self.core.returns
        self.pools.epoch = lambda name: returns.get(name, 0)
        pools = self.pools
        self.core.metrics.pool_usage(lambda: dict(pools.open))
        self.connection_limit = self.options.pool_limit(nodes)
        """Most server connections this router opens (every pool full, plus the probes)."""
        self.core.metrics.pool_sizes(
            {n.name: self.options.pool_range(n.role) for n in nodes}, self.connection_limit
        )
        self.monitor = Monitor(self.core)
        # Set once the first probe round is done: no session is planned before it, so the first
        # one already knows every node's state (and which one is fenced).
        self._probed = threading.Event()
        if self._first_round_in_background:
            threading.Thread(
                target=self._first_round,
                args=(monitor, True),
                name="advisoros-router-first-probe",
                daemon=True,
            ).start()
        else:
            self._first_round(monitor, False)

    # The asyncio shell probes in a thread: a probe blocks for up to its timeouts.
    _first_round_in_background = False

    def _first_round(self, monitor: bool, background: bool) -> None:
        try:
            self.monitor.probe_once()
        except Exception:
            if not background:
                raise
            log.exception("first health probe round failed")  # the monitor tries again
        finally:
            self._probed.set()
        if monitor:
            self.monitor.start()

    @classmethod
    def from_settings(cls, settings: Settings, *, monitor: bool = True) -> Self:
        """A router over the configured servers; never starts one. Raises
        `targets.NoDatabaseConfigured` when `ADVISOROS_DATABASE_URL` is not set."""
        return cls.for_target(
            configured(settings), RouterOptions.from_settings(settings), monitor=monitor
        )

    @classmethod
    def for_target(
        cls, target: Target, options: RouterOptions | None = None, *, monitor: bool = True
    ) -> Self:
        opts = options or RouterOptions()
        nodes = nodes_for_target(target, weights=opts.weights)
        # An unreachable primary is the monitor's to report; every pooled connection is checked
        # again before a tenant transaction uses it.
        with contextlib.suppress(psycopg.OperationalError):
            require_tenant_role(nodes[0].url)
        return cls(nodes, opts, monitor=monitor)

    def probe(self) -> dict[str, Any]:
        """Probe every node now and return the health report."""
        self.monitor.probe_once()
        return self.health()

    def health(self) -> dict[str, Any]:
        """`{primary: {available, latency_ms}, replica1: {..., replication_lag_ms}, nodes: [...]}`."""
        return self.core.health()

    def metrics_text(self) -> bytes:
        """The Prometheus exposition of this router's counters and gauges."""
        return self.core.metrics.generate()

    @property
    def token(self) -> ConsistencyToken | None:
        """The newest commit made (or adopted) in this context; send `str(token)` onward."""
        return self.core.token

    def consistent_with(self, token: ConsistencyToken | str | None) -> Any:
        """Context manager: reads inside see at least `token`'s commit.

        A token ahead of everything the primary has written is refused (`InvalidToken`): it was
        not issued by this deployment, and honouring it would send every read to the primary.
        """
        return self.core.consistent_with(self._vetted(token))

    def _vetted(self, token: ConsistencyToken | str | None) -> ConsistencyToken | None:
        parsed = _token(token)
        if parsed is None or parsed.lsn <= self._written_up_to():
            return parsed
        # Ahead of the last probe: perhaps another process's fresh write. Ask the primary now
        # (one probe at a time; a caller that waited finds the newer sample already there).
        with self._token_check:
            if parsed.lsn <= self._written_up_to():
                return parsed
            primary = self.core.snapshot.primary.config
            prober = Prober(
                primary.url,
                timeout_s=self.options.probe_timeout_s,
                pgbouncer=self.options.pgbouncer,
            )
            try:
                result = prober.probe()
            finally:
                prober.close()
            if not result.reachable or result.in_recovery or result.current_lsn is None:
                return parsed  # cannot tell; the read-your-writes wait stays bounded anyway
            self._primary_position = max(self._primary_position, result.current_lsn)
            if parsed.lsn <= result.current_lsn:
                return parsed
        raise InvalidToken(
            f"consistency token {parsed} is ahead of the primary's WAL position "
            f"{format_lsn(result.current_lsn)}: it was not issued by this deployment; pass on "
            "the token a write returned, unchanged"
        )

    def _written_up_to(self) -> int:
        history = self.core.snapshot.wal_history
        sampled = history[-1].lsn if history else 0
        own = self.core.token
        return max(sampled, self._primary_position, own.lsn if own is not None else 0)

    def _decide(self, kind: Kind | str, token: ConsistencyToken | str | None) -> decisions.Plan:
        wanted = parse_kind(kind)
        core = self.core
        if wanted.writes:
            refusal = core.routes.write_refusal
            if refusal is not None:
                raise RoutingError(refusal)
            return core.plan(wanted, None)
        effective = core.token
        if token is not None:
            effective = ConsistencyToken.latest(self._vetted(token), effective)
        return core.plan(wanted, effective)

    def _route(
        self,
        kind: Kind | str,
        organization_id: uuid.UUID | str | None,
        token: ConsistencyToken | str | None,
        engines: dict[str, Engine],
        sleep: Any,
    ) -> Route:
        plan = self._decide(kind, token)
        return Route(
            core=self.core,
            kind=plan.kind,
            plan=plan,
            engines=engines,
            sleep=sleep,
            organization_id=organization(organization_id),
        )

    def _transaction(
        self,
        kind: Kind | str,
        organization_id: uuid.UUID | str | None,
        token: ConsistencyToken | str | None,
    ) -> RoutedTransaction:
        plan = self._decide(kind, token)
        return RoutedTransaction(self.core, plan.kind, plan, organization(organization_id))


class Router(_RouterBase):
    """Routes SQLAlchemy sessions over the primary and replicas of one deployment.

    `with router.session("read", organization_id=org) as s:` gives a Session on a healthy,
    caught-up replica; `"write"` sessions commit on exit and leave a consistency token.
    """

    def __init__(
        self,
        nodes: tuple[NodeConfig, ...],
        options: RouterOptions | None = None,
        *,
        policy: ReadPolicy | None = None,
        monitor: bool = True,
    ) -> None:
        opts = options or RouterOptions()
        self.pools = sync_pools(nodes, opts)
        self.engines: dict[str, Engine] = {n.name: _engine(n, self.pools) for n in nodes}
        try:
            super().__init__(nodes, opts, policy=policy, monitor=monitor)
        except BaseException:
            for engine in self.engines.values():
                engine.dispose()
            raise

    def session(
        self,
        kind: Kind | str,
        *,
        organization_id: uuid.UUID | str | None = None,
        token: ConsistencyToken | str | None = None,
    ) -> SessionScope:
        """A session for one kind of work (`with router.session(kind) as s:`), planned when the
        block is entered; commits on a clean exit, rolls back on an error.

        Constraint, permission and read-only errors (from statements, flushes or the commit) arrive
        as the package's own errors (`UniqueViolation`, `ReadOnlyViolation`, ...).
        """
        return SessionScope(
            lambda: RoutedSession(
                route=self._route(kind, organization_id, token, self.engines, time.sleep)
            )
        )

    def connection(
        self,
        kind: Kind | str,
        *,
        organization_id: uuid.UUID | str | None = None,
        token: ConsistencyToken | str | None = None,
    ) -> RoutedConnection:
        """The fast path: a pooled psycopg connection in a routed, tenant-scoped transaction.

        Same routing, read-only guard, failover, read-your-writes and metrics as `session()`,
        without the ORM. Use it as `with router.connection(kind) as conn:`; the transaction is
        planned when the block is entered, commits on a clean exit (a write leaves its token) and
        rolls back on an error.
        """
        return RoutedConnection(lambda: self._transaction(kind, organization_id, token), self.pools)

    def close(self) -> None:
        """Stop the monitor and drain every pool."""
        self.monitor.stop()
        for engine in self.engines.values():
            engine.dispose()
        for pool in self.pools.drain():
            pool.close()

    def __enter__(self) -> Router:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _async_sleep(seconds: float) -> None:
    # Runs inside SQLAlchemy's greenlet: yield to the event loop instead of blocking it.
    await_only(asyncio.sleep(seconds))


class AsyncRouter(_RouterBase):
    """The asyncio shell: `AsyncSession`s running the same RoutedSession underneath.

    No probe runs in the event loop: the first round runs in a thread (sessions await it), the
    monitor in its own thread, and `aprobe()` in a worker thread.
    """

    _first_round_in_background = True

    def __init__(
        self,
        nodes: tuple[NodeConfig, ...],
        options: RouterOptions | None = None,
        *,
        policy: ReadPolicy | None = None,
        monitor: bool = True,
    ) -> None:
        opts = options or RouterOptions()
        self.pools = async_pools(nodes, opts)
        self.async_engines: dict[str, AsyncEngine] = {
            n.name: _async_engine(n, self.pools) for n in nodes
        }
        self.engines = {name: e.sync_engine for name, e in self.async_engines.items()}
        try:
            super().__init__(nodes, opts, policy=policy, monitor=monitor)
        except BaseException:
            for engine in self.engines.values():
                engine.dispose()
            raise

    @asynccontextmanager
    async def session(
        self,
        kind: Kind | str,
        *,
        organization_id: uuid.UUID | str | None = None,
        token: ConsistencyToken | str | None = None,
    ) -> AsyncIterator[AsyncSession]:
        """Async twin of `Router.session`, sharing its routing session underneath."""
        if not self._probed.is_set():
            await asyncio.to_thread(self._probed.wait)
        route = self._route(kind, organization_id, token, self.engines, _async_sleep)
        first = self.async_engines[route.plan.order[0]] if route.plan.order else None
        session = AsyncSession(bind=first, sync_session_class=RoutedSession, route=route)
        try:
            with translated():
                yield session
                if route.kind.writes:
                    await session.commit()
        except BaseException:
            with contextlib.suppress(sa_exc.DBAPIError):
                await session.rollback()
            raise
        finally:
            await session.close()

    def connection(
        self,
        kind: Kind | str,
        *,
        organization_id: uuid.UUID | str | None = None,
        token: ConsistencyToken | str | None = None,
    ) -> AsyncRoutedConnection:
        """Async twin of `Router.connection` (`async with router.connection(kind) as conn:`),
        sharing the same transaction decisions and recovery steps."""
        return AsyncRoutedConnection(
            lambda: self._transaction(kind, organization_id, token), self.pools, self._probed
        )

    async def aprobe(self) -> dict[str, Any]:
        """Probe every node now (in a worker thread) and return the health report."""
        await asyncio.to_thread(self._probed.wait)
        return await asyncio.to_thread(self.probe)

    async def aclose(self) -> None:
        """Stop the monitor and drain every pool."""
        await asyncio.to_thread(self._probed.wait)
        await asyncio.to_thread(self.monitor.stop)
        for engine in self.async_engines.values():
            await engine.dispose()
        for pool in self.pools.drain():
            await pool.close()
