"""A read never waits on a node the router knows is down, and re-plans on the current snapshot
once every node of its plan was tried, until its retry deadline. No server: the core's decisions.
(`tests/routing/test_known_down.py` runs the same on real servers.)"""

from __future__ import annotations

import time

import pytest

from advisoros_db.routing import decisions, state
from advisoros_db.routing.core import KnownDown, RoutingCore
from advisoros_db.routing.kinds import Kind, RoutingError
from advisoros_db.routing.metrics import total
from advisoros_db.routing.topology import RouterOptions
from tests.routing.test_decisions import NODES, healthy_snapshot

OPTIONS = RouterOptions(interval_s=0.1, max_lag_s=5.0, return_after=2, retry_deadline_s=60.0)
DOWN = state.ProbeResult(reachable=False, error="connection refused")


def core_with_primary_down_and_replicas_stale() -> RoutingCore:
    core = RoutingCore(NODES, OPTIONS)
    core.update(lambda _: healthy_snapshot())
    core.update(lambda s: state.apply_probe(s, "primary", DOWN, now=1.0, return_after=2))
    for name in ("replica1", "replica2", "analytics"):
        core.eject(name, "stale for this test")
    return core


def test_a_read_refuses_a_known_down_node_before_any_checkout_a_write_does_not() -> None:
    core = core_with_primary_down_and_replicas_stale()
    assert "primary" in core.routes.down
    read = core.plan(Kind.READ, None)
    assert read.order == ("primary",)
    with pytest.raises(KnownDown, match="primary is down"):
        core.known_down("primary", read)
    core.known_down("primary", core.plan(Kind.WRITE, None))  # writes are not retried: they try


def test_an_exhausted_plan_is_planned_again_on_the_current_snapshot() -> None:
    core = core_with_primary_down_and_replicas_stale()
    plan = core.plan(Kind.READ, None)
    started = time.monotonic()
    core.acquire(plan.first)
    plan, attempt, nxt, pause = core.move_on(
        "session",
        plan,
        decisions.FIRST_ATTEMPT,
        left="primary",
        started=started,
        failure=decisions.KNOWN_DOWN,
        behind=False,
        error=KnownDown("primary is down"),
    )
    # Nothing else to try: planned again (the same snapshot gives the same plan), after a pause.
    assert (nxt, plan.order, attempt.tried) == ("primary", ("primary",), frozenset())
    assert pause > 0
    assert total(core.metrics.counts(), "advisoros_router_replans", kind="read") == 1
    # A probe brings replica1 back: the next re-plan goes there, not to the down primary.
    for _ in range(OPTIONS.return_after):
        core.update(
            lambda s: state.apply_probe(
                s, "replica1", healthy_snapshot_probe(), now=2.0, return_after=2
            )
        )
    plan, attempt, nxt, _ = core.move_on(
        "session",
        plan,
        attempt,
        left="primary",
        started=started,
        failure=decisions.KNOWN_DOWN,
        behind=False,
        error=KnownDown("primary is down"),
    )
    assert nxt == "replica1" and plan.order == ("replica1", "primary")
    assert core.health()["counters"]["advisoros_router_replans"] == {"kind=read": 2.0}


def test_past_the_retry_deadline_the_read_fails_saying_what_it_tried() -> None:
    core = core_with_primary_down_and_replicas_stale()
    plan = core.plan(Kind.READ, None)
    core.acquire(plan.first)
    with pytest.raises(RoutingError, match=r"within 60.0s \(tried primary; primary is down"):
        core.move_on(
            "connection",
            plan,
            decisions.FIRST_ATTEMPT,
            left="primary",
            started=time.monotonic() - OPTIONS.retry_deadline_s,
            failure=decisions.KNOWN_DOWN,
            behind=False,
            error=KnownDown("primary is down"),
        )


def healthy_snapshot_probe() -> state.ProbeResult:
    return state.ProbeResult(
        reachable=True, latency_ms=1.0, in_recovery=True, replay_lsn=100, replay_age_s=0.0
    )


def test_only_a_node_traffic_could_not_reach_is_known_down_not_one_found_promoted() -> None:
    core = RoutingCore(NODES, OPTIONS)
    core.update(lambda _: healthy_snapshot())
    core.eject("replica1", "no longer in recovery (promoted?): takes no reads", failed=False)
    assert "replica1" not in core.routes.down  # it may be the new writable node
    core.eject("replica1", "OperationalError seen by a query")
    assert "replica1" in core.routes.down
    # Back in rotation after enough good probes: no longer down.
    for _ in range(OPTIONS.return_after):
        core.update(
            lambda s: state.apply_probe(
                s, "replica1", healthy_snapshot_probe(), now=2.0, return_after=2
            )
        )
    assert "replica1" not in core.routes.down
