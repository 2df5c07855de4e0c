"""What a snapshot decides once for every session (`decisions.routes`), and the per-session choice
made from it: a changed snapshot must show in the very next plan (no stale cache). No server."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import replace

from advisoros_db.routing import decisions, state
from advisoros_db.routing.core import RoutingCore
from advisoros_db.routing.kinds import Kind
from advisoros_db.routing.lsn import ConsistencyToken
from advisoros_db.routing.metrics import RouterMetrics, total
from advisoros_db.routing.policies import Group, LeastOutstanding, RoundRobin
from advisoros_db.routing.topology import RouterOptions, nodes_from
from tests.routing.test_decisions import NODES, healthy_snapshot, probed

OPTIONS = RouterOptions(max_lag_s=5.0, return_after=2)


def healthy_core(policy: object | None = None) -> RoutingCore:
    core = RoutingCore(NODES, OPTIONS, policy=policy)  # type: ignore[arg-type]
    core.update(lambda _: healthy_snapshot())
    return core


def firsts(core: RoutingCore, kind: Kind = Kind.READ, n: int = 6) -> set[str]:
    """Where the next `n` sessions of `kind` would start."""
    return {core.plan(kind, None).first for _ in range(n)}


def test_an_ejection_shows_in_the_very_next_plan() -> None:
    core = healthy_core()
    assert firsts(core) == {"replica1", "replica2"}
    before = core.routes
    core.eject("replica1", "connection refused")
    assert core.routes is not before
    for _ in range(4):  # every turn of the round-robin, not just one
        plan = core.plan(Kind.READ, None)
        assert plan.replicas == ("replica2",) and plan.order == ("replica2", "primary")


def test_staleness_promotion_and_return_show_in_the_very_next_plan() -> None:
    core = healthy_core()
    firsts(core)  # fill the plan memo of the healthy snapshot
    core.update(lambda s: s.replace_node(replace(s.node("replica2"), lag_s=9.0)))
    assert firsts(core) == {"replica1"}
    core.update(lambda s: state.apply_probe(s, "replica1", probed(False), now=1.0, return_after=2))
    plan = core.plan(Kind.READ, None)
    assert plan.replicas == () and plan.first == "primary"
    assert plan.reason == "replica_promoted"
    core.update(lambda s: s.replace_node(replace(s.node("replica2"), lag_s=0.5)))
    assert firsts(core) == {"replica2"}
    # An analytics session still prefers its own node throughout.
    assert core.plan(Kind.ANALYTICS, None).order == ("analytics", "replica2", "primary")


def test_each_kind_has_its_groups_once_per_snapshot() -> None:
    routes = decisions.routes(healthy_snapshot(), 5.0)
    by_kind = {kind: [g.names for g in route.groups] for kind, route in routes.kinds.items()}
    assert by_kind[Kind.WRITE] == by_kind[Kind.TRANSACTIONAL] == []
    assert by_kind[Kind.READ] == [("replica1", "replica2")]
    assert by_kind[Kind.ANALYTICS] == [("analytics",), ("replica1", "replica2")]
    assert by_kind[Kind.BACKGROUND] == [("replica1", "replica2")], "no background node of its own"
    assert all(
        route.primary == "primary" and route.reason is None for route in routes.kinds.values()
    )
    assert routes.write_refusal is None
    alone = decisions.routes(state.initial(nodes_from("postgresql://a@h:1/db")), 5.0)
    assert alone.kinds[Kind.READ].reason == "no_replica_configured"
    assert alone.kinds[Kind.WRITE].reason is None


def test_memoized_plans_never_carry_a_token_and_token_plans_read_current_replay() -> None:
    core = healthy_core()  # every replica has replayed up to 100
    plain = core.plan(Kind.READ, None)
    assert plain.token is None and plain.verified == frozenset()
    ahead = core.plan(Kind.READ, ConsistencyToken(150))
    assert ahead.token == ConsistencyToken(150) and ahead.verified == frozenset()
    assert core.plan(Kind.READ, ConsistencyToken(100)).verified == {"replica1", "replica2"}
    core.note_replay("replica2", 200)  # seen by a caught-up check
    assert core.plan(Kind.READ, ConsistencyToken(150)).verified == {"replica2"}
    assert core.snapshot.node("replica2").replay_lsn == 200
    assert core.plan(Kind.READ, None).token is None
    # Writes never carry a token, even when asked with one.
    assert core.plan(Kind.WRITE, ConsistencyToken(150)).token is None


def test_replay_carry_over_equals_a_full_derivation() -> None:
    before = healthy_snapshot()
    after = state.note_replay(before, "replica1", 500)
    assert decisions.replayed(decisions.routes(before, 5.0), after) == decisions.routes(after, 5.0)
    core = healthy_core()
    routes = core.routes
    core.note_replay("replica1", 50)  # older than known: nothing to swap
    assert core.routes is routes
    core.note_replay("replica1", 500)
    assert core.routes is not routes and core.routes.kinds is routes.kinds
    assert core.routes.replay["replica1"] == 500


def test_group_prepares_weighted_slots_and_orders() -> None:
    group = Group.of(["a", "b", "c"], {"a": 2.0, "c": 0.2})
    assert group.slots == (0, 0, 1, 2), "weight 2 leads twice, a tiny weight still once"
    assert group.leading == (("a", "b", "c"), ("b", "a", "c"), ("c", "a", "b"))
    assert group.weights == {"a": 2.0, "b": 1.0, "c": 0.2}


def test_round_robin_stays_exact_across_threads_without_a_lock() -> None:
    policy, group = RoundRobin(), Group.of(["a", "b"], {})
    seen: Counter[str] = Counter()
    lock = threading.Lock()

    def pick() -> None:
        mine = Counter(policy.rank(group, {})[0] for _ in range(2500))
        with lock:
            seen.update(mine)

    workers = [threading.Thread(target=pick) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert seen == {"a": 5000, "b": 5000}


def test_least_outstanding_sees_sessions_in_flight() -> None:
    core = healthy_core(LeastOutstanding())
    assert core.plan(Kind.READ, None).first == "replica1"
    core.acquire("replica1")
    assert core.plan(Kind.READ, None).replicas == ("replica2", "replica1")
    core.acquire("replica2")
    core.acquire("replica2")
    assert core.plan(Kind.READ, None).first == "replica1"
    core.release("replica2")
    core.release("replica2")
    core.release("replica1")
    assert core.plan(Kind.READ, None).first == "replica1"


def test_counters_from_many_threads_are_exact_and_exported() -> None:
    metrics = RouterMetrics()

    def count() -> None:
        for _ in range(5000):
            metrics.routed.inc(Kind.READ, "replica1")

    workers = [threading.Thread(target=count) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    metrics.routed.inc("read", "replica1")  # a plain string label is the same series
    metrics.fallbacks.inc(Kind.READ, "replicas_stale")
    for _ in range(2):  # folding finished threads in must not count them twice
        counts = metrics.counts()
        assert total(counts, "advisoros_router_queries", kind="read", node="replica1") == 40001
        assert counts["advisoros_router_fallbacks"] == {"kind=read,reason=replicas_stale": 1.0}
    text = metrics.generate().decode()
    assert 'advisoros_router_queries_total{kind="read",node="replica1"} 40001.0' in text
    assert "# TYPE advisoros_router_retries_total counter" in text


class _Answers:
    """A prober that answers with a fixed result (no server: this checks the bookkeeping)."""

    def __init__(self, result: state.ProbeResult) -> None:
        self.result = result

    def probe(self) -> state.ProbeResult:
        return self.result


def test_a_primary_sample_is_dated_at_the_probes_start_not_its_end() -> None:
    """Regression: samples were dated when the probe returned, so a slow probe (a busy machine)
    made replicas look fresher by its round trip, and reads came back staler than the bound."""
    core = RoutingCore(NODES, OPTIONS)
    slow = replace(probed(False, 500), latency_ms=400.0)
    answers = {n.name: _Answers(slow if n.name == "primary" else probed(True, 500)) for n in NODES}
    before = time.monotonic()
    core.probe_all(answers)  # type: ignore[arg-type]
    after = time.monotonic()
    [sample] = core.snapshot.wal_history
    assert sample.lsn == 500
    assert before - 0.4 <= sample.at <= after - 0.4
