"""One routed psycopg transaction: every decision, retry and metric of `router.connection(...)`,
shared by the blocking and asyncio shells in `connection.py`.

Nothing here does I/O. A shell makes a transaction's first attempt inline, with the same calls a
direct pooled connection makes (check out, BEGIN with the first statement, COMMIT, check in),
asking this object what to send (`opening()`, `admit()`, `wants_lsn()`) and telling it what
happened (`verify()`, `ran()`, `closed()`, `close_failed()`, `release()`). When opening or a
statement fails, recovery (classify, eject, move on, wait for a replica to catch up, re-run) is a
generator here, `reopen()`/`rerun()`, yielding `Checkout`/`Begin`/`Run`/`Release`/`Sleep`
operations that the shell's driver performs (as psycopg's own `generators.py` does), so the
retry logic is written once for both shells.
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
from advisoros_db.routing.core import CHECK_SQL, Behind, KnownDown, RoutingCore, Stale
from advisoros_db.routing.kinds import Kind, RoutingError
from advisoros_db.routing.lsn import ConsistencyToken, parse_lsn
from advisoros_db.tenancy import APPLY_SQL

Query = LiteralString | sql.Composable
Statement = tuple[LiteralString, tuple[Any, ...] | None]

_CHECK: Statement = (CHECK_SQL, None)


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
class Release:
    """Give the connection back to `node`'s pool (a broken one is discarded by the pool)."""

    node: str
    conn: Any


@dataclass(frozen=True, slots=True)
class Sleep:
    seconds: float


Op = Checkout | Begin | Run | Release | Sleep
Steps = Generator[Op, Any, Any]


Failure = psycopg.Error | Behind | Stale | KnownDown
"""What keeps a transaction from opening on a node: the shells catch these (`NOT_OPENED`) and
`reopen()`."""
NOT_OPENED = (psycopg.Error, Behind, Stale, KnownDown)


class RoutedTransaction:
    """The decision side of `router.connection(...)`: node choice, retries, metrics, token."""

    __slots__ = (
        "_held",
        "attempt",
        "conn",
        "core",
        "kind",
        "node",
        "organization_id",
        "plan",
        "read_only",
        "started",
        "token",
        "writes",
    )

    def __init__(
        self,
        core: RoutingCore,
        kind: Kind,
        plan: decisions.Plan,
        organization_id: str | None,
    ) -> None:
        self.core = core
        self.kind = kind
        self.writes = writes = kind.writes
        # Reads are READ ONLY everywhere: on a replica it costs nothing, and a read that falls
        # back to the primary must not write there either.
        self.read_only = not writes
        self.plan = plan
        self.organization_id = organization_id
        self.attempt = decisions.FIRST_ATTEMPT
        self.started = time.monotonic()
        self.node = node = plan.first
        self.conn: Any = None
        self.token: ConsistencyToken | None = None
        core.acquire(node)
        self._held = True
        if not writes and plan.reason is not None and node == plan.primary:
            core.metrics.fallbacks.inc(kind, plan.reason)

    # -- opening -------------------------------------------------------------------------

    def opening(self) -> tuple[tuple[Statement, ...], bool]:
        """What to send with BEGIN on the current node, and whether the last of it is the
        in-band check whose row goes to `verify()`: the tenant setting, and the check on a
        replica not known to have replayed the token or to be within the staleness bound."""
        check = self.core.needs_check(self.node, self.plan)
        if self.organization_id is None:
            return ((_CHECK,) if check else ()), check
        tenant: Statement = (APPLY_SQL, (self.organization_id,))
        return ((tenant, _CHECK) if check else (tenant,)), check

    def known_down(self) -> None:
        """Before a checkout: raise KnownDown for a read on a node the router knows is down."""
        self.core.known_down(self.node, self.plan)

    def verify(self, row: Any) -> None:
        """The in-band check's row; raises Behind when the replica is behind the token, Stale
        when it is past the staleness bound or no longer a standby."""
        replayed, in_recovery = row if row else (None, None)
        if self.core.check_replica(self.node, self.plan, replayed, in_recovery):
            self.plan = replace(self.plan, verified=self.plan.verified | {self.node})

    def begin(self) -> Steps:
        """Check out a connection on the current node and open the transaction there; a read
        moves on to the next node when this one is down or behind the token."""
        while True:
            try:
                self.known_down()
                self.conn = yield Checkout(self.node)
                statements, check = self.opening()
                row = yield Begin(self.conn, self.read_only, statements, check)
                if check:
                    self.verify(row)
                return
            except NOT_OPENED as exc:
                pause = yield from self._not_opened(exc)
            if pause:
                yield Sleep(pause)

    def reopen(self, exc: Failure) -> Steps:
        """After a shell's first attempt to open failed with `exc`: raise, or open elsewhere."""
        pause = yield from self._not_opened(exc)
        if pause:
            yield Sleep(pause)
        yield from self.begin()

    def _not_opened(self, exc: Failure) -> Generator[Op, Any, float]:
        if isinstance(exc, KnownDown):
            return self._move_on(failure=decisions.KNOWN_DOWN, behind=False, error=exc)
        if isinstance(exc, Behind):
            yield from self._abandon()
            return self._move_on(failure=None, behind=True, error=None)
        if isinstance(exc, Stale):
            yield from self._abandon()
            return self._move_on(failure=decisions.STALE, behind=False, error=exc)
        failure = self._classify(exc)
        yield from self._abandon()
        if failure is None or self.writes:
            raise self._refusal(exc, failure) from exc
        return self._move_on(failure=failure, behind=False, error=exc)

    # -- statements ----------------------------------------------------------------------

    def admit(self, query: Query) -> None:
        """Refuse, before anything is sent, a statement that obviously writes in a read."""
        if self.writes or not isinstance(query, str):
            return
        verb = decisions.write_verb(query)
        if verb is not None:
            raise ReadOnlyViolation(
                f"a {self.kind.value} connection cannot run {verb.upper()} statements; "
                "nothing was sent. Open one with router.connection('write')"
            )

    def ran(self) -> None:
        """A statement succeeded on the current node."""
        self.core.metrics.routed.inc(self.kind, self.node)

    def rerun(self, exc: psycopg.Error, query: Query, params: Any) -> Steps:
        """After a statement failed with `exc`: raise, or (a read whose node died, or a recovery
        conflict cancelled it) re-run it in a new transaction on the next node."""
        while True:
            failure = self._classify(exc)
            if failure is None or self.writes:
                raise self._refusal(exc, failure) from exc
            yield from self._abandon()
            pause = self._move_on(failure=failure, behind=False, error=exc)
            if pause:
                yield Sleep(pause)
            yield from self.begin()
            try:
                return (yield Run(self.conn, query, params))
            except psycopg.Error as again:
                exc = again

    # -- closing -------------------------------------------------------------------------

    def wants_lsn(self, commit: bool) -> bool:
        """Whether closing reads `pg_current_wal_lsn()` after COMMIT (a write's token)."""
        return commit and self.writes

    def closed(self, lsn: str | None) -> None:
        """COMMIT/ROLLBACK done; after a write, its WAL position becomes this transaction's and
        the context's consistency token."""
        if lsn is not None:
            self.token = ConsistencyToken(parse_lsn(lsn))
            self.core.remember(self.token)

    def close_failed(self, exc: psycopg.Error, commit: bool) -> None:
        """COMMIT/ROLLBACK failed: raise unless it cannot matter (a rollback, or a read whose
        node died after its last statement: it already has its rows)."""
        failure = self._classify(exc)
        if commit and (self.writes or failure is None):
            raise self._refusal(exc, failure) from exc

    def release(self) -> None:
        """The connection is back in its pool (or there was none): the session is over."""
        if self._held:
            self._held = False
            self.core.release(self.node)

    # -- failures ------------------------------------------------------------------------

    def _classify(self, exc: psycopg.Error) -> str | None:
        return self.core.failure_of(exc, self.node, self.plan)

    def _refusal(self, exc: psycopg.Error, failure: str | None) -> Exception:
        mine = translate(exc)
        if mine is not None:
            return mine
        if failure is not None and self.writes:
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
        self.plan, self.attempt, self.node, pause = self.core.move_on(
            "connection",
            self.plan,
            self.attempt,
            left=self.node,
            started=self.started,
            failure=failure,
            behind=behind,
            error=error,
        )
        self._held = True
        return pause


__all__ = [
    "NOT_OPENED",
    "Begin",
    "Behind",
    "Checkout",
    "Failure",
    "KnownDown",
    "Op",
    "Release",
    "RoutedTransaction",
    "Run",
    "Sleep",
    "Stale",
    "Steps",
]
