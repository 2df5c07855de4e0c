"""One routed psycopg transaction as generators of I/O operations, shared by the sync and async shells.

Like psycopg's own `generators.py`, nothing here does I/O: `RoutedTransaction.begin()`, `.run()`
and `.end()` yield `Checkout`/`Begin`/`Run`/`End`/`Release`/`Sleep` operations and receive their
results (or have the driver's exception thrown in). `connection.py` drives them with blocking or
asyncio psycopg calls; every routing decision, retry and metric lives here once.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import dataclass, replace
from typing import Any, LiteralString

import psycopg
from psycopg import sql

from advisoros_db.errors import ReadOnlyViolation, translate
from advisoros_db.routing import decisions
from advisoros_db.routing.core import RoutingCore, log
from advisoros_db.routing.kinds import Kind, RoutingError
from advisoros_db.routing.lsn import ConsistencyToken, parse_lsn
from advisoros_db.routing.state import note_replay
from advisoros_db.tenancy import APPLY_SQL

CAUGHT_UP_SQL: LiteralString = "SELECT pg_last_wal_replay_lsn()::text"
CURRENT_LSN_SQL: LiteralString = "SELECT pg_current_wal_lsn()::text"

Query = LiteralString | sql.Composable
Statement = tuple[LiteralString, tuple[Any, ...] | None]


@dataclass(frozen=True, slots=True)
class Checkout:
    """Take a connection from `node`'s pool."""

    node: str


@dataclass(frozen=True, slots=True)
class Begin:
    """Open the transaction (READ ONLY when asked) with `statements` in the same round trip, via a
    pipeline; with no statements the BEGIN travels with the first `Run` instead, exactly as psycopg
    does for a plain pooled connection. Result: the last statement's first row when
    `fetch_last`, else None."""

    conn: Any
    read_only: bool
    statements: tuple[Statement, ...]
    fetch_last: bool


@dataclass(frozen=True, slots=True)
class Run:
    """Execute one statement of the caller's; result: the cursor."""

    conn: Any
    query: Query
    params: Any


@dataclass(frozen=True, slots=True)
class End:
    """COMMIT or ROLLBACK; with `lsn`, then `pg_current_wal_lsn()` outside any transaction.
    Result: that LSN text, or None."""

    conn: Any
    commit: bool
    lsn: bool


@dataclass(frozen=True, slots=True)
class Release:
    """Give the connection back to `node`'s pool (a broken one is discarded by the pool)."""

    node: str
    conn: Any


@dataclass(frozen=True, slots=True)
class Sleep:
    seconds: float


Op = Checkout | Begin | Run | End | Release | Sleep
Steps = Generator[Op, Any, Any]


class _Behind(Exception):
    """The replica has not replayed the transaction's consistency token yet."""


def _lost(exc: psycopg.Error) -> bool:
    # No SQLSTATE on an OperationalError: the socket died (or the pool timed out handing one out).
    return isinstance(exc, psycopg.OperationalError) and exc.sqlstate is None


class RoutedTransaction:
    """The decision side of `router.connection(...)`: node choice, retries, metrics, token."""

    def __init__(
        self,
        core: RoutingCore,
        kind: Kind,
        plan: decisions.Plan,
        organization_id: str | None,
    ) -> None:
        self.core = core
        self.kind = kind
        self.plan = plan
        self.organization_id = organization_id
        self.attempt = decisions.Attempt()
        self.started = time.monotonic()
        self.node, _ = decisions.next_node(plan, self.attempt, wait_budget_s=0, poll_s=0)
        self.conn: Any = None
        self.token: ConsistencyToken | None = None
        self._routed = core.metrics.routed
        core.acquire(self.node)
        self._held = True
        if not kind.writes and self.node == plan.primary and plan.reason:
            core.metrics.fallbacks.labels(kind.value, plan.reason).inc()

    # -- opening -------------------------------------------------------------------------

    def _needs_check(self) -> bool:
        plan = self.plan
        return (
            plan.token is not None and self.node != plan.primary and self.node not in plan.verified
        )

    def _begin_statements(self, check: bool) -> tuple[Statement, ...]:
        statements: list[Statement] = []
        if self.organization_id is not None:
            statements.append((APPLY_SQL, (self.organization_id,)))
        if check:
            statements.append((CAUGHT_UP_SQL, None))
        return tuple(statements)

    def begin(self) -> Steps:
        """Check out a connection on the planned node and open the transaction there; a read
        moves on to the next node when this one is down or behind the token."""
        while True:
            try:
                self.conn = yield Checkout(self.node)
                check = self._needs_check()
                # Reads are READ ONLY everywhere: on a replica it costs nothing, and a read that
                # falls back to the primary must not write there either.
                statements = self._begin_statements(check)
                row = yield Begin(self.conn, not self.kind.writes, statements, check)
                if check:
                    self._verify(row)
                return
            except _Behind:
                yield from self._abandon()
                pause = self._move_on(failure=None, behind=True, error=None)
            except psycopg.Error as exc:
                failure = self._classify(exc)
                yield from self._abandon()
                if failure is None or self.kind.writes:
                    raise self._refusal(exc, failure) from exc
                pause = self._move_on(failure=failure, behind=False, error=exc)
            if pause:
                yield Sleep(pause)

    def _verify(self, row: Any) -> None:
        token = self.plan.token
        assert token is not None
        replayed = row[0] if row else None
        if replayed is None or parse_lsn(replayed) < token.lsn:
            raise _Behind(self.node)
        self.plan = replace(self.plan, verified=self.plan.verified | {self.node})
        node, position = self.node, parse_lsn(replayed)
        self.core.update(lambda s: note_replay(s, node, position))

    # -- statements ----------------------------------------------------------------------

    def run(self, query: Query, params: Any) -> Steps:
        """Execute on the current node; a read that fails because its node died (or a recovery
        conflict cancelled it) is re-run in a new transaction on the next node."""
        if not self.kind.writes and isinstance(query, str):
            verb = decisions.write_verb(query)
            if verb is not None:
                raise ReadOnlyViolation(
                    f"a {self.kind.value} connection cannot run {verb.upper()} statements; "
                    "nothing was sent. Open one with router.connection('write')"
                )
        while True:
            try:
                cursor = yield Run(self.conn, query, params)
            except psycopg.Error as exc:
                failure = self._classify(exc)
                if failure is None or self.kind.writes:
                    raise self._refusal(exc, failure) from exc
                yield from self._abandon()
                pause = self._move_on(failure=failure, behind=False, error=exc)
                if pause:
                    yield Sleep(pause)
                yield from self.begin()
                continue
            self._routed.labels(self.kind.value, self.node).inc()
            return cursor

    # -- closing -------------------------------------------------------------------------

    def end(self, *, commit: bool) -> Steps:
        """COMMIT (or ROLLBACK) and give the connection back. After a write's COMMIT the commit's
        WAL position becomes this transaction's and the context's consistency token."""
        try:
            if self.conn is None:
                return
            wrote = commit and self.kind.writes
            try:
                lsn = yield End(self.conn, commit, wrote)
            except psycopg.Error as exc:
                failure = self._classify(exc)
                if wrote or (commit and failure is None):
                    raise self._refusal(exc, failure) from exc
                # A read whose node died after its last statement already has its rows.
                return
            if lsn is not None:
                self.token = ConsistencyToken(parse_lsn(lsn))
                self.core.remember(self.token)
        finally:
            yield from self._abandon()
            if self._held:
                self._held = False
                self.core.release(self.node)

    # -- failures ------------------------------------------------------------------------

    def _classify(self, exc: psycopg.Error) -> str | None:
        on_replica = self.node != self.plan.primary
        failure = decisions.classify(
            exc.sqlstate, connection_lost=_lost(exc), on_replica=on_replica
        )
        if failure == decisions.NODE_DOWN:
            self.core.eject(self.node, f"{type(exc).__name__} seen by a query")
        return failure

    def _refusal(self, exc: psycopg.Error, failure: str | None) -> Exception:
        mine = translate(exc)
        if mine is not None:
            return mine
        if failure is not None and self.kind.writes:
            return RoutingError(
                f"{self.kind.value} transaction on {self.node} failed: {exc}; not retried because "
                "the write may or may not have been applied"
            )
        return exc

    def _abandon(self) -> Steps:
        """Hand the current connection back; the pool rolls back or discards what is left."""
        conn, self.conn = self.conn, None
        if conn is not None:
            yield Release(self.node, conn)

    def _move_on(self, *, failure: str | None, behind: bool, error: BaseException | None) -> float:
        """Pick the next node of the plan; returns how long to sleep before trying it."""
        left, attempt = self.node, self.attempt
        attempt = replace(
            attempt,
            tried=attempt.tried | {left},
            behind=attempt.behind | {left} if behind else attempt.behind - {left},
        )
        options = self.core.options
        try:
            if time.monotonic() - self.started > options.retry_deadline_s:
                raise LookupError("deadline passed")
            nxt, pause = decisions.next_node(
                self.plan, attempt, wait_budget_s=options.ryw_wait_s, poll_s=options.ryw_poll_s
            )
        except LookupError:
            tried = ", ".join(sorted(attempt.tried))
            raise RoutingError(
                f"{self.kind.value} connection found no node to serve it (tried {tried}; "
                f"{error or 'no replica caught up'}); check `advisoros-db health`"
            ) from error
        self.attempt = replace(attempt, waited_s=attempt.waited_s + pause)
        metrics = self.core.metrics
        if failure is not None:
            metrics.retries.labels(self.kind.value, failure).inc()
            metrics.failovers.labels(left, nxt).inc()
            log.warning("read on %s failed (%s); retrying on %s", left, failure, nxt)
        if nxt == self.plan.primary:
            reason = failure or "not_caught_up"
            metrics.fallbacks.labels(self.kind.value, reason).inc()
            log.info("%s connection falls back to the primary: %s", self.kind.value, reason)
        if self._held:
            self.core.release(left)
        self.core.acquire(nxt)
        self._held = True
        self.node = nxt
        return pause


__all__ = [
    "Begin",
    "Checkout",
    "End",
    "Op",
    "Release",
    "RoutedTransaction",
    "Run",
    "Sleep",
    "Steps",
]
