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
from sqlalchemy import Engine, create_engine
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.util import await_only

from advisoros_db.errors import translated
from advisoros_db.routing import decisions
from advisoros_db.routing.connection import (
    AsyncRoutedConnection,
    RoutedConnection,
    async_pools,
    sync_pools,
)
from advisoros_db.routing.core import Monitor, RoutingCore, log
from advisoros_db.routing.kinds import Kind, Role, RoutingError, parse_kind
from advisoros_db.routing.lsn import ConsistencyToken
from advisoros_db.routing.policies import ReadPolicy
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
from advisoros_db.tenancy import install_engine_reset, require_tenant_role
from advisoros_db.urls import to_sqlalchemy


def _engine_options(node: NodeConfig, options: RouterOptions) -> dict[str, Any]:
    connect_args: dict[str, Any] = {
        "connect_timeout": max(2, int(options.probe_timeout_s + 0.999)),
        "application_name": f"advisoros-router-{node.name}",
    }
    if node.role in (Role.PRIMARY, Role.DR):
        # libpq itself refuses a server in recovery, so a write can never land on a standby.
        connect_args["target_session_attrs"] = "read-write"
    return {"pool_size": options.pool_size, "max_overflow": 0, "connect_args": connect_args}


def _engine(node: NodeConfig, options: RouterOptions) -> Engine:
    engine = create_engine(to_sqlalchemy(node.url), **_engine_options(node, options))
    install_engine_reset(engine, options.session_reset)
    install_statement_metrics(engine)
    return engine


def _async_engine(node: NodeConfig, options: RouterOptions) -> AsyncEngine:
    engine = create_async_engine(to_sqlalchemy(node.url), **_engine_options(node, options))
    install_engine_reset(engine, options.session_reset)
    install_statement_metrics(engine.sync_engine)
    return engine


def _token(token: ConsistencyToken | str | None) -> ConsistencyToken | None:
    return ConsistencyToken.parse(token) if isinstance(token, str) else token


class _RouterBase:
    """What both shells share: the core, the monitor, reports."""

    def __init__(
        self,
        nodes: tuple[NodeConfig, ...],
        options: RouterOptions | None = None,
        *,
        policy: ReadPolicy | None = None,
        monitor: bool = True,
    ) -> None:
        self.options = options or RouterOptions()
        self.core = RoutingCore(nodes, self.options, policy=policy)
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
        """Context manager: reads inside see at least `token`'s commit."""
        return self.core.consistent_with(token)

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
            effective = ConsistencyToken.latest(_token(token), effective)
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
        self.engines: dict[str, Engine] = {n.name: _engine(n, opts) for n in nodes}
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
        self.async_engines: dict[str, AsyncEngine] = {n.name: _async_engine(n, opts) for n in nodes}
        self.engines = {name: e.sync_engine for name, e in self.async_engines.items()}
        self.pools = async_pools(nodes, opts)
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
