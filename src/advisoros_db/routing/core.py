"""The routing core both session shells share: state store, plans, ejections, tokens, metrics."""

from __future__ import annotations

import contextvars
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, LiteralString

import psycopg

from advisoros_db.routing import decisions, fencing, state
from advisoros_db.routing.kinds import Kind, RoutingError
from advisoros_db.routing.lsn import ConsistencyToken, parse_lsn
from advisoros_db.routing.metrics import RouterMetrics
from advisoros_db.routing.policies import ReadPolicy, policy_named
from advisoros_db.routing.probe import Prober
from advisoros_db.routing.report import health_status
from advisoros_db.routing.topology import RouterOptions
from advisoros_db.urls import mask

log = logging.getLogger("advisoros_db.routing")

# How long a one-shot probe waits for a replica just behind the primary's only WAL sample.
SETTLE_S = 0.25


CURRENT_LSN_SQL: LiteralString = "SELECT pg_current_wal_lsn()::text"
"""A write's consistency token, read after its COMMIT."""

CHECK_SQL: LiteralString = "SELECT pg_last_wal_replay_lsn()::text, pg_is_in_recovery()"
"""A replica's in-band check, sent in the same round trip as BEGIN: its replay position (for the
token and the staleness bound) and whether it is still a standby."""


class Behind(Exception):
    """The replica has not replayed the transaction's consistency token yet (worth a short wait)."""


class Stale(Exception):
    """The replica cannot serve this read: staler than the bound, or no longer a standby."""


class KnownDown(Exception):
    """The router already knows the node is down (its last probe failed, or traffic ejected it):
    a read moves on without waiting for a connection there."""


def replan_pause(options: RouterOptions) -> float:
    """How long a read waits before re-planning once every node of its plan was tried: half a
    probe interval (the snapshot changes at most once per probe), at most a quarter second."""
    return max(options.ryw_poll_s, min(options.probe_every_s / 2, 0.25))


class RoutingCore:
    """Holds the current Snapshot and its `decisions.Routes` (swapped whole, together, under a
    lock) and everything decided from them.

    Per session only the policy's choice is made (`plan()`): what a snapshot decides for every
    session (usable replicas per kind, weights, the writable node, fallback reasons) is derived
    once, when the snapshot is swapped in.
    """

    def __init__(
        self,
        nodes: tuple[state.NodeConfig, ...],
        options: RouterOptions,
        *,
        policy: ReadPolicy | None = None,
    ) -> None:
        self.options = options
        self.policy = policy or policy_named(options.policy)
        self.metrics = RouterMetrics()
        self._lock = threading.Lock()
        self._routes = decisions.routes(state.initial(nodes), options.max_lag_s)
        # Sessions in flight per node, kept only for policies that read them.
        self._counting = getattr(self.policy, "uses_outstanding", True)
        self._outstanding: dict[str, int] = {n.name: 0 for n in nodes}
        self._outstanding_lock = threading.Lock()
        self._reads_on_primary = False
        self.rounds = 0
        self.probed_at: float | None = None
        # Set by a running monitor: a report older than this says so (`health()["stale"]`).
        self.report_deadline_s: float | None = None
        # Per router, so tokens never leak between routers (or tests) in one process.
        self._token: contextvars.ContextVar[ConsistencyToken | None] = contextvars.ContextVar(
            f"advisoros_router_token_{id(self)}", default=None
        )
        self.metrics.observe(self.snapshot, options.max_lag_s)

    # -- state ---------------------------------------------------------------------------

    @property
    def snapshot(self) -> state.Snapshot:
        return self._routes.snapshot

    @property
    def routes(self) -> decisions.Routes:
        """The current snapshot with what it decides for every kind."""
        return self._routes

    def update(self, change: Callable[[state.Snapshot], state.Snapshot]) -> state.Snapshot:
        with self._lock:
            old = self._routes
            before = old.snapshot
            after = change(before)
            if after is before:
                return after
            self._routes = new = decisions.routes(after, self.options.max_lag_s)
        for line in fencing.fence_changes(old.verdict, new.verdict):
            log.error("%s", line)
        self._log_changes(before, after)
        self.metrics.observe(after, self.options.max_lag_s)
        return after

    def note_replay(self, name: str, position: int) -> None:
        """Remember a replay position seen by traffic; only the replay positions are re-derived."""
        with self._lock:
            before = self._routes
            after = state.note_replay(before.snapshot, name, position)
            if after is not before.snapshot:
                self._routes = decisions.replayed(before, after)

    def eject(self, name: str, reason: str, *, failed: bool = True) -> None:
        """Take a node out of rotation now; probes bring it back. `failed`: traffic could not
        reach it (reads then move on without waiting there, `known_down`)."""
        node = self.snapshot.node(name)
        if node.ejected and (node.failed or not failed):
            return
        if not node.ejected:
            self.metrics.ejections.inc(name)
        self.update(lambda s: state.eject(s, name, reason, failed=failed))

    def _log_changes(self, before: state.Snapshot, after: state.Snapshot) -> None:
        for old, new in zip(before.nodes, after.nodes, strict=True):
            if old.ejected != new.ejected:
                if new.ejected:
                    log.warning("node %s ejected: %s", new.name, new.eject_reason)
                else:
                    log.info("node %s back in rotation", new.name)
            if new.role_mismatch and new.role_mismatch != old.role_mismatch:
                log.error("node %s (%s) %s", new.name, mask(new.config.url), new.role_mismatch)
        usable = [g for route in self._routes.kinds.values() for g in route.groups]
        if not usable and not self._reads_on_primary:
            log.warning("no replica is usable: reads go to the primary")
        elif usable and self._reads_on_primary:
            log.info("replicas usable again: reads leave the primary")
        self._reads_on_primary = not usable

    # -- probing -------------------------------------------------------------------------

    def probe_all(self, probers: dict[str, Prober]) -> state.Snapshot:
        """Probe every node once, primary first so replica lag is measured against a fresh sample."""
        for node in self.snapshot.nodes:
            prober = probers[node.name]
            self._apply(node.name, self._settle(prober, prober.probe()))
        self.rounds += 1
        self.probed_at = time.monotonic()
        return self.snapshot

    def _settle(self, prober: Prober, result: state.ProbeResult) -> state.ProbeResult:
        """Probe a replica again for a moment when it is just behind the primary's only sample.

        On an idle primary, WAL with no commit in it (a checkpoint, a running-transactions
        record) reaches a healthy replica within milliseconds; with a single primary sample the
        gap could only be dated by the last replayed commit's age, which grows forever when
        nothing commits, and a caught-up replica would be judged stale.
        """
        history = self.snapshot.wal_history
        if (
            len(history) != 1
            or not result.reachable
            or not result.in_recovery
            or result.replay_lsn is None
            or result.replay_lsn >= history[-1].lsn
        ):
            return result
        target = history[-1].lsn
        deadline = time.monotonic() + SETTLE_S
        while time.monotonic() < deadline:
            time.sleep(0.02)
            again = prober.probe()
            if not again.reachable or again.replay_lsn is None:
                return result
            result = again
            if again.replay_lsn >= target:
                break
        return result

    def _apply(self, name: str, result: state.ProbeResult) -> None:
        now = time.monotonic()
        # The primary reported its position at some moment during the probe. Dated at the
        # probe's start, never its end: a later date makes every replica look fresher by the
        # round trip, and reads on a busy machine came back up to 18 ms staler than the bound.
        sampled_at = now - (result.latency_ms or 0.0) / 1000
        before = self.snapshot.node(name)
        after = self.update(
            lambda s: fencing.sample_if_writable(
                state.apply_probe(s, name, result, now=now, return_after=self.options.return_after),
                name,
                result.current_lsn,
                sampled_at,
            )
        )
        if not before.ejected and after.node(name).ejected:
            self.metrics.ejections.inc(name)

    # -- per-read staleness ----------------------------------------------------------------

    def needs_check(self, node: str, plan: decisions.Plan) -> bool:
        """Whether a transaction starting now on replica `node` must check it in-band: the token
        is not known replayed there, or its known replay position no longer proves the bound."""
        if node == plan.primary:
            return False
        if self.options.check_every_read or (plan.token is not None and node not in plan.verified):
            return True
        return time.monotonic() >= self._routes.fresh.get(node, -math.inf)

    def check_replica(
        self, node: str, plan: decisions.Plan, replayed: str | None, in_recovery: bool | None
    ) -> bool:
        """Judge a replica's in-band check row (`CHECK_SQL`), sent with the transaction's BEGIN.

        Raises `Stale` when the replica is no longer a standby (promoted: ejected at once) or its
        replay position does not prove the staleness bound, `Behind` when it has not replayed
        the token yet. Returns whether the token is now verified there.
        """
        if in_recovery is not True:
            # Not down: it may be the new writable node, where reads fall back.
            self.eject(node, "no longer in recovery (promoted?): takes no reads", failed=False)
            raise Stale(f"{node} is no longer a standby")
        position = None if replayed is None else parse_lsn(replayed)
        token = plan.token
        if token is not None and (position is None or position < token.lsn):
            raise Behind(node)
        assert position is not None
        self.note_replay(node, position)
        if time.monotonic() >= self._routes.fresh.get(node, -math.inf):
            raise Stale(f"{node} is more than {self.options.max_lag_s}s behind")
        return token is not None

    def known_down(self, node: str, plan: decisions.Plan) -> None:
        """Raise KnownDown when a read is about to check out a connection on a node the current
        snapshot knows is down (its last probe failed, or traffic failed to reach it since it was
        last in rotation): waiting out a pool timeout there would only spend the read's
        retry deadline. Writes are not retried, so they still try the node."""
        if node in self._routes.down and not plan.kind.writes:
            raise KnownDown(f"{node} is down (last probe failed or ejected by traffic)")

    def failure_of(
        self,
        exc: BaseException | None,
        node: str,
        plan: decisions.Plan,
        *,
        invalidated: bool = False,
    ) -> str | None:
        """The one place that decides what a driver error on `node` means for a read, for both
        shells: NODE_DOWN (the node is ejected now; the read moves on), CONFLICT (a standby
        cancelled it to replay WAL; the read moves on), or None (a real error: raised).
        `invalidated`: SQLAlchemy saw the connection die."""
        sqlstate = exc.sqlstate if isinstance(exc, psycopg.Error) else None
        # No SQLSTATE on an OperationalError: the socket died (or the pool timed out handing
        # one out).
        lost = invalidated or (isinstance(exc, psycopg.OperationalError) and sqlstate is None)
        failure = decisions.classify(
            sqlstate, connection_lost=lost, on_replica=node != plan.primary
        )
        if failure == decisions.NODE_DOWN:
            self.eject(node, f"{type(exc).__name__} seen by a query")
        return failure

    # -- moving on after a failed attempt --------------------------------------------------

    def move_on(
        self,
        what: str,
        plan: decisions.Plan,
        attempt: decisions.Attempt,
        *,
        left: str,
        started: float,
        failure: str | None,
        behind: bool,
        error: BaseException | None,
    ) -> tuple[decisions.Plan, decisions.Attempt, str, float]:
        """The one decision of both shells after a read could not run on `left`: the next node
        and how long to sleep first (the attempt already counts the sleep), with metrics and
        logs. Moves the in-flight count from `left` to it.

        Once every node of the plan was tried, the read is planned again on the current
        snapshot (after `replan_pause`, so probes and traffic can change it), and so on until
        the retry deadline: a failover's moment with the primary down and a replica not yet
        fresh costs reads time, not errors. Returns the plan to go on with. Raises RoutingError
        when the deadline would pass. `what` names the shell in errors."""
        attempt = replace(
            attempt,
            tried=attempt.tried | {left},
            behind=attempt.behind | {left} if behind else attempt.behind - {left},
        )
        options = self.options
        kind = plan.kind
        metrics = self.metrics
        elapsed = time.monotonic() - started
        try:
            if elapsed > options.retry_deadline_s:
                raise LookupError("deadline passed")
            nxt, pause = decisions.next_node(
                plan, attempt, wait_budget_s=options.ryw_wait_s, poll_s=options.ryw_poll_s
            )
        except LookupError:
            pause = replan_pause(options)
            fresh = None
            if elapsed + pause <= options.retry_deadline_s:
                fresh = self.plan(kind, plan.token)
            if fresh is None or (not fresh.replicas and fresh.primary is None):
                tried = ", ".join(sorted(attempt.tried))
                raise RoutingError(
                    f"{kind.value} {what} found no node to serve it within "
                    f"{options.retry_deadline_s}s (tried {tried}; "
                    f"{error or 'no replica caught up'}); check `advisoros-db health`"
                ) from error
            metrics.replans.inc(kind)
            log.debug("%s %s tried every node of its plan; planning again", kind.value, what)
            plan, nxt = fresh, fresh.first
            attempt = replace(decisions.FIRST_ATTEMPT, waited_s=attempt.waited_s)
        if failure is not None:
            metrics.retries.inc(kind, failure)
            metrics.failovers.inc(left, nxt)
            # A node known down was logged when it went down; once per read would flood the log.
            level = logging.DEBUG if failure == decisions.KNOWN_DOWN else logging.WARNING
            log.log(level, "read on %s failed (%s); retrying on %s", left, failure, nxt)
        if nxt == plan.primary:
            reason = failure or "not_caught_up"
            metrics.fallbacks.inc(kind, reason)
            log.info("%s %s falls back to the primary: %s", kind.value, what, reason)
        self.release(left)
        self.acquire(nxt)
        return plan, replace(attempt, waited_s=attempt.waited_s + pause), nxt, pause

    # -- plans ---------------------------------------------------------------------------

    def plan(self, kind: Kind, token: ConsistencyToken | None) -> decisions.Plan:
        # One read of `_routes`: the plan comes from one snapshot, whatever the monitor does.
        # The policy reads the live in-flight counts (ints read whole; no copy, no lock).
        return decisions.choose(
            self._routes, kind, policy=self.policy, outstanding=self._outstanding, token=token
        )

    def acquire(self, name: str) -> None:
        if self._counting:
            with self._outstanding_lock:
                self._outstanding[name] += 1

    def release(self, name: str) -> None:
        if self._counting:
            with self._outstanding_lock:
                self._outstanding[name] -= 1

    # -- read-your-writes ----------------------------------------------------------------

    @property
    def token(self) -> ConsistencyToken | None:
        """The newest commit this context made or adopted."""
        return self._token.get()

    def remember(self, token: ConsistencyToken) -> None:
        self._token.set(ConsistencyToken.latest(self._token.get(), token))

    @contextmanager
    def consistent_with(self, token: ConsistencyToken | str | None) -> Iterator[None]:
        """Reads in this block see at least `token`'s commit (say, one from a request header)."""
        if isinstance(token, str):
            token = ConsistencyToken.parse(token)
        reset = self._token.set(ConsistencyToken.latest(self._token.get(), token))
        try:
            yield
        finally:
            self._token.reset(reset)

    def health(self) -> dict[str, Any]:
        report = health_status(self.snapshot, self.options.max_lag_s)
        age = None if self.probed_at is None else time.monotonic() - self.probed_at
        report["probe_age_s"] = None if age is None else round(age, 3)
        report["probe_rounds"] = self.rounds
        # A monitor that stopped probing must not keep a stale "healthy" answer alive.
        deadline = self.report_deadline_s
        report["stale"] = deadline is not None and (age is None or age > deadline)
        report["ready"] = report["primary"]["isHealthy"] and not report["stale"]
        report["counters"] = self.metrics.counts()
        return report


def jittered(interval_s: float, rng: random.Random) -> float:
    """The next probe delay: 70-100 % of the interval, so many processes never probe in
    lock-step and no gap between two probes exceeds the interval (health's promise)."""
    return interval_s * rng.uniform(0.7, 1.0)


class Monitor:
    """A daemon thread probing every node each interval, jittered so processes don't align."""

    def __init__(self, core: RoutingCore) -> None:
        self._core = core
        timeout = core.options.probe_timeout_s
        self.probers = {
            n.name: Prober(n.config.url, timeout_s=timeout, pgbouncer=core.options.pgbouncer)
            for n in core.snapshot.nodes
        }
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._rng = random.Random()

    def probe_once(self) -> state.Snapshot:
        return self._core.probe_all(self.probers)

    def start(self) -> None:
        if self._thread is not None:
            return
        options = self._core.options
        # Two probe intervals plus a round of timeouts: past that the report is stale.
        self._core.report_deadline_s = 2 * options.probe_every_s + options.probe_timeout_s * len(
            self.probers
        )
        self._thread = threading.Thread(target=self._run, name="advisoros-router-monitor")
        self._thread.daemon = True
        self._thread.start()

    def _run(self) -> None:
        interval = self._core.options.probe_every_s
        while not self._stop.wait(jittered(interval, self._rng)):
            try:
                self.probe_once()
            except Exception:  # the monitor must outlive any one bad probe
                log.exception("health probe round failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        for prober in self.probers.values():
            prober.close()


def survey(nodes: tuple[state.NodeConfig, ...], *, timeout_s: float = 2.0) -> fencing.Verdict:
    """Probe every node once and say which may take writes and which are fenced.

    For tools that act on a deployment (failover, rejoin): the same verdict a fresh router
    reaches, from the servers alone. `verdict.primary` is the node writes go to (None, with
    `verdict.refusal`, when none may), `verdict.fenced` the writable nodes on an older timeline.
    """
    core = RoutingCore(nodes, RouterOptions(probe_timeout_s=timeout_s))
    probers = {n.name: Prober(n.url, timeout_s=timeout_s) for n in nodes}
    try:
        core.probe_all(probers)
    finally:
        for prober in probers.values():
            prober.close()
    return core.routes.verdict
