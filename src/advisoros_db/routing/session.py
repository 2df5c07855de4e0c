"""A SQLAlchemy Session pinned to one node per transaction, that retries failed reads elsewhere.

The sync Router uses it directly; the AsyncRouter hands it to `AsyncSession(sync_session_class=...)`,
so both APIs run this one implementation (SQLAlchemy runs it in a greenlet for asyncio).
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, TypeVar

import psycopg
from sqlalchemy import Engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql.elements import TextClause

from advisoros_db.errors import ReadOnlyViolation, translate
from advisoros_db.routing import decisions
from advisoros_db.routing.core import (
    CHECK_SQL,
    CURRENT_LSN_SQL,
    Behind,
    KnownDown,
    RoutingCore,
    Stale,
)
from advisoros_db.routing.kinds import Kind, RoutingError
from advisoros_db.routing.lsn import ConsistencyToken, parse_lsn
from advisoros_db.tenancy import apply_tenant_sa, tenant_id, verify_tenant_sa

log = logging.getLogger("advisoros_db.routing")

T = TypeVar("T")

READ_ONLY_SQL = "SET TRANSACTION READ ONLY"


@dataclass
class Route:
    """One session's routing: the plan, where it is now, what was tried."""

    core: RoutingCore
    kind: Kind
    plan: decisions.Plan
    engines: Mapping[str, Engine]
    sleep: Callable[[float], None]
    organization_id: str | None = None
    node: str = ""
    attempt: decisions.Attempt = decisions.FIRST_ATTEMPT
    started: float = field(default_factory=time.monotonic)

    @property
    def on_replica(self) -> bool:
        return self.node != self.plan.primary


class RoutedSession(Session):
    """Session whose bind is chosen by the router; see `Router.session`."""

    def __init__(self, bind: Engine | None = None, *, route: Route, **kwargs: Any) -> None:
        first = route.plan.first
        route.node = first
        super().__init__(bind=route.engines[first], **kwargs)
        self.route = route
        self.token: ConsistencyToken | None = None
        self._wrote = route.kind.writes
        self._held = True
        route.core.acquire(first)
        if route.kind.writes is False and first == route.plan.primary and route.plan.reason:
            route.core.metrics.fallbacks.inc(route.kind, route.plan.reason)

    # -- transaction start ---------------------------------------------------------------

    def _after_begin(self, session: Session, transaction: SessionTransaction, conn: Any) -> None:
        route = self.route
        if not route.kind.writes and not route.on_replica:
            conn.exec_driver_sql(READ_ONLY_SQL)
        if route.organization_id is not None:
            apply_tenant_sa(conn, route.organization_id)
        if route.core.needs_check(route.node, route.plan):
            replayed, in_recovery = conn.exec_driver_sql(CHECK_SQL).one()
            if route.core.check_replica(route.node, route.plan, replayed, in_recovery):
                route.plan = replace(route.plan, verified=route.plan.verified | {route.node})

    def _refuse_flush(self, session: Session, flush_context: Any, instances: Any) -> None:
        if self.route.kind.writes:
            return
        if self.new or self.dirty or self.deleted:
            raise ReadOnlyViolation(
                f"a {self.route.kind.value} session cannot write (pending ORM changes); "
                "open a write session with router.session('write')"
            )

    # -- statements ----------------------------------------------------------------------

    def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        return self._routed(
            statement, lambda: super(RoutedSession, self).execute(statement, *args, **kwargs)
        )

    def scalar(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        return self._routed(
            statement, lambda: super(RoutedSession, self).scalar(statement, *args, **kwargs)
        )

    def scalars(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        return self._routed(
            statement, lambda: super(RoutedSession, self).scalars(statement, *args, **kwargs)
        )

    def _refuse_write(self, statement: Any) -> None:
        if self.route.kind.writes:
            return
        verb = None
        if isinstance(statement, TextClause):
            verb = decisions.write_verb(statement.text)
            if verb is None:
                return
        elif not getattr(statement, "is_dml", False):
            return
        raise ReadOnlyViolation(
            f"a {self.route.kind.value} session cannot run {verb or 'INSERT/UPDATE/DELETE'} "
            "statements; nothing was sent. Open a write session with router.session('write')"
        )

    def _routed(self, statement: Any, call: Callable[[], T]) -> T:
        self._refuse_write(statement)
        route = self.route
        core = route.core
        while True:
            try:
                if route.node in core.routes.down and not self.in_transaction():
                    core.known_down(route.node, route.plan)  # a read: no checkout there
                result = call()
            except KnownDown as down:
                self._move_on(failure=decisions.KNOWN_DOWN, behind=False, error=down)
                continue
            except Behind:
                self._move_on(failure=None, behind=True, error=None)
                continue
            except Stale as stale:
                self._move_on(failure=decisions.STALE, behind=False, error=stale)
                continue
            except sa_exc.DBAPIError as exc:
                failure = core.failure_of(
                    exc.orig, route.node, route.plan, invalidated=exc.connection_invalidated
                )
                if failure is None or route.kind.writes:
                    mine = translate(exc)
                    if mine is not None:
                        raise mine from exc
                    if failure is not None:
                        raise RoutingError(
                            f"write session on {route.node} failed: {exc.orig}; not retried "
                            "because the write may or may not have been applied"
                        ) from exc
                    raise
                self._move_on(failure=failure, behind=False, error=exc)
                continue
            core.metrics.routed.inc(route.kind, route.node)
            return result

    def _move_on(self, *, failure: str | None, behind: bool, error: BaseException | None) -> None:
        """Abandon the current node's transaction and bind to the next node of the plan."""
        route = self.route
        # A dead connection cannot roll back; the pool has invalidated it already.
        with contextlib.suppress(sa_exc.DBAPIError):
            super().rollback()
        route.plan, route.attempt, nxt, pause = route.core.move_on(
            "session",
            route.plan,
            route.attempt,
            left=route.node,
            started=route.started,
            failure=failure,
            behind=behind,
            error=error,
        )
        self._held = True
        if pause:
            route.sleep(pause)
        route.node = nxt
        self.bind = route.engines[nxt]

    # -- commit and close ----------------------------------------------------------------

    def commit(self) -> None:
        """Commit; after a write, remember the commit's WAL position as the consistency token."""
        super().commit()
        if self._wrote:
            with self.route.engines[self.route.node].connect() as conn:
                lsn = conn.exec_driver_sql(CURRENT_LSN_SQL).scalar()
            if lsn is not None:
                self.token = ConsistencyToken(parse_lsn(lsn))
                self.route.core.remember(self.token)

    def close(self) -> None:
        """Release the connection. A node that died after the last statement costs nothing here:
        the rows were already read (or the commit already done), so the lost connection only
        ejects the node instead of failing the session."""
        route = self.route
        try:
            super().close()
        except sa_exc.DBAPIError as exc:
            failure = route.core.failure_of(
                exc.orig, route.node, route.plan, invalidated=exc.connection_invalidated
            )
            if failure != decisions.NODE_DOWN:  # ejected by failure_of when it is
                raise
        finally:
            if self._held:
                self._held = False
                self.route.core.release(self.route.node)


class SessionScope:
    """What `Router.session(...)` returns: `with` it to get the RoutedSession.

    Entering plans the session. A clean exit commits a write session (a read's transaction is
    only closed); an error rolls back. Driver errors from statements, flushes or the commit
    arrive as the package's own errors. The session is closed either way. A class rather than a
    `@contextmanager` generator: per session, the generator layers cost measurable microseconds.
    """

    __slots__ = ("_open", "_session")

    def __init__(self, open_session: Callable[[], RoutedSession]) -> None:
        self._open = open_session

    def __enter__(self) -> RoutedSession:
        self._session = self._open()
        return self._session

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self._session
        try:
            if kind is None:
                if not session.route.kind.writes:
                    return
                try:
                    session.commit()
                except BaseException as failed:
                    _failed(session, failed)
                    raise
                return
            assert exc is not None
            _failed(session, exc)
        finally:
            session.close()


def _failed(session: RoutedSession, exc: BaseException) -> None:
    """Roll back after `exc`; raise the package's own error for it when it has one."""
    # A rollback on a dead connection must not hide the error that got us here.
    with contextlib.suppress(sa_exc.DBAPIError):
        session.rollback()
    if isinstance(exc, psycopg.Error | sa_exc.DBAPIError):
        mine = translate(exc)
        if mine is not None:
            raise mine from exc


def organization(organization_id: uuid.UUID | str | None) -> str | None:
    return None if organization_id is None else tenant_id(organization_id)


# Listeners registered once on the class: per-instance `event.listen` costs tens of microseconds
# per session, which the routing overhead budget cannot afford.
@event.listens_for(RoutedSession, "after_begin")
def _after_begin(session: Session, transaction: SessionTransaction, conn: Any) -> None:
    if isinstance(session, RoutedSession):
        session._after_begin(session, transaction, conn)


@event.listens_for(RoutedSession, "before_commit")
def _before_commit(session: Session) -> None:
    if isinstance(session, RoutedSession) and session.route.organization_id is not None:
        verify_tenant_sa(session.connection(), session.route.organization_id)


@event.listens_for(RoutedSession, "before_flush")
def _before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    if isinstance(session, RoutedSession):
        session._refuse_flush(session, flush_context, instances)


__all__ = ["Route", "RoutedSession", "SessionScope", "organization"]
