"""Pure routing decisions, lag arithmetic, tokens and policies: no server needed."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from advisoros_db.errors import ConfigError
from advisoros_db.routing import decisions, state
from advisoros_db.routing.kinds import Kind, Role, UnknownKind, parse_kind
from advisoros_db.routing.lag import WalSample, staleness, trim
from advisoros_db.routing.lsn import ConsistencyToken, InvalidToken, format_lsn, parse_lsn
from advisoros_db.routing.policies import LeastOutstanding, RandomChoice, RoundRobin, policy_named
from advisoros_db.routing.report import health_status
from advisoros_db.routing.topology import nodes_from

NODES = nodes_from(
    "postgresql://app:secret@h:1/db",
    ["postgresql://app:secret@h:2/db", "postgresql://app:secret@h:3/db"],
    analytics_url="postgresql://app:secret@h:4/db",
    dr_url="postgresql://app:secret@h:5/db",
)


def probed(in_recovery: bool, replay: int = 100, lag: float = 0.0) -> state.ProbeResult:
    return state.ProbeResult(
        reachable=True,
        latency_ms=1.0,
        in_recovery=in_recovery,
        current_lsn=None if in_recovery else replay,
        replay_lsn=replay if in_recovery else None,
        replay_age_s=lag,
    )


def healthy_snapshot() -> state.Snapshot:
    snap = state.initial(NODES)
    snap = state.apply_probe(snap, "primary", probed(False, 100), now=0.0, return_after=2)
    for name in ("replica1", "replica2", "analytics", "dr"):
        snap = state.apply_probe(snap, name, probed(True, 100), now=0.0, return_after=2)
    return snap


def plan(snap: state.Snapshot, kind: Kind, token: ConsistencyToken | None = None):
    return decisions.plan(
        snap, kind, policy=RoundRobin(), max_lag_s=5.0, outstanding={}, token=token
    )


def test_each_kind_goes_to_its_role() -> None:
    snap = healthy_snapshot()
    assert plan(snap, Kind.WRITE).order == ("primary",)
    assert plan(snap, Kind.TRANSACTIONAL).order == ("primary",)
    assert set(plan(snap, Kind.READ).replicas) == {"replica1", "replica2"}
    assert plan(snap, Kind.READ).order[-1] == "primary"
    analytics = plan(snap, Kind.ANALYTICS)
    assert analytics.order[0] == "analytics" and analytics.order[-1] == "primary"
    # No background node: falls back to the read pool, then the primary.
    assert plan(snap, Kind.BACKGROUND).replicas[0] in {"replica1", "replica2"}
    assert all("dr" not in plan(snap, k).order for k in Kind)


def test_ejected_and_stale_replicas_take_no_reads() -> None:
    snap = state.eject(healthy_snapshot(), "replica1", "connection refused")
    assert "replica1" not in plan(snap, Kind.READ).replicas
    stale = snap.replace_node(replace(snap.node("replica2"), lag_s=6.0))
    read = plan(stale, Kind.READ)
    assert read.replicas == ()
    assert read.order == ("primary",) and read.reason == "replicas_stale"
    only_stale = healthy_snapshot()
    for name in ("replica1", "replica2"):
        only_stale = only_stale.replace_node(replace(only_stale.node(name), lag_s=9.0))
    assert plan(only_stale, Kind.READ).reason == "replicas_stale"
    down = healthy_snapshot()
    for name in ("replica1", "replica2", "analytics"):
        down = state.eject(down, name, "gone")
    assert plan(down, Kind.READ).reason == "replicas_unhealthy"


def test_an_ejected_node_returns_after_consecutive_good_probes_only() -> None:
    snap = state.eject(healthy_snapshot(), "replica1", "boom")
    snap = state.apply_probe(snap, "replica1", probed(True), now=1.0, return_after=2)
    assert snap.node("replica1").ejected, "one good probe must not be enough"
    snap = state.apply_probe(
        snap, "replica1", state.ProbeResult(False, error="x"), now=2.0, return_after=2
    )
    snap = state.apply_probe(snap, "replica1", probed(True), now=3.0, return_after=2)
    assert snap.node("replica1").ejected, "a failed probe restarts the count"
    snap = state.apply_probe(snap, "replica1", probed(True), now=4.0, return_after=2)
    assert not snap.node("replica1").ejected


def test_a_promoted_replica_and_a_primary_in_recovery_are_reported() -> None:
    snap = state.apply_probe(healthy_snapshot(), "replica1", probed(False), now=1.0, return_after=2)
    assert "promoted" in (snap.node("replica1").role_mismatch or "")
    assert "replica1" not in plan(snap, Kind.READ).order
    assert health_status(snap, 5.0)["warnings"]
    demoted = state.apply_probe(snap, "primary", probed(True), now=1.0, return_after=2)
    # The primary rejoined as a standby of the promoted replica (`advisoros-db failover`):
    # writes follow the promoted node.
    assert decisions.write_refusal(demoted) is None
    assert decisions.writable_node(demoted).name == "replica1"
    # A primary in recovery with no promoted node anywhere: writes are refused, saying why.
    alone = state.apply_probe(healthy_snapshot(), "primary", probed(True), now=1.0, return_after=2)
    assert "in recovery" in (decisions.write_refusal(alone) or "")
    assert decisions.write_refusal(healthy_snapshot()) is None


def test_dr_takes_writes_only_once_promoted_and_the_primary_is_down() -> None:
    snap = state.apply_probe(
        healthy_snapshot(),
        "primary",
        state.ProbeResult(False, error="down"),
        now=1.0,
        return_after=2,
    )
    assert plan(snap, Kind.WRITE).order == ("primary",), "an unpromoted DR replica takes nothing"
    snap = state.apply_probe(snap, "dr", probed(False, 200), now=1.0, return_after=2)
    assert plan(snap, Kind.WRITE).order == ("dr",)


def test_tokens_mark_known_caught_up_replicas_verified() -> None:
    snap = healthy_snapshot()
    ahead = snap.replace_node(replace(snap.node("replica2"), replay_lsn=500))
    read = plan(ahead, Kind.READ, ConsistencyToken(300))
    assert read.verified == frozenset({"replica2"})
    assert set(read.replicas) == {"replica1", "replica2"}


def test_next_node_waits_for_behind_replicas_then_uses_the_primary() -> None:
    read = decisions.Plan(
        kind=Kind.READ, replicas=("r1", "r2"), primary="p", token=ConsistencyToken(1)
    )
    attempt = decisions.Attempt()
    assert decisions.next_node(read, attempt, wait_budget_s=0.1, poll_s=0.05) == ("r1", 0.0)
    attempt = decisions.Attempt(tried=frozenset({"r1", "r2"}), behind=frozenset({"r1", "r2"}))
    node, pause = decisions.next_node(read, attempt, wait_budget_s=0.1, poll_s=0.05)
    assert node in {"r1", "r2"} and pause == 0.05
    spent = replace(attempt, waited_s=0.1)
    assert decisions.next_node(read, spent, wait_budget_s=0.1, poll_s=0.05) == ("p", 0.0)
    with pytest.raises(LookupError):
        decisions.next_node(
            read, replace(spent, tried=spent.tried | {"p"}), wait_budget_s=0.1, poll_s=0.05
        )


def test_failures_are_classified_by_sqlstate_not_text() -> None:
    assert decisions.classify(None, connection_lost=True, on_replica=True) == decisions.NODE_DOWN
    assert (
        decisions.classify("57P01", connection_lost=False, on_replica=True) == decisions.NODE_DOWN
    )
    assert (
        decisions.classify("08006", connection_lost=False, on_replica=False) == decisions.NODE_DOWN
    )
    assert decisions.classify("40001", connection_lost=False, on_replica=True) == decisions.CONFLICT
    assert decisions.classify("40001", connection_lost=False, on_replica=False) is None
    assert decisions.classify("42P01", connection_lost=False, on_replica=True) is None


def test_idle_primary_means_zero_lag_and_a_gap_is_converted_from_history() -> None:
    history = [WalSample(0.0, 100), WalSample(10.0, 100)]
    assert staleness(history, 100, now=10.0, replay_age_s=3600.0) == 0.0
    moving = [WalSample(0.0, 100), WalSample(10.0, 200), WalSample(20.0, 300)]
    # The primary passed 150 halfway between t=0 and t=10.
    assert staleness(moving, 150, now=20.0, replay_age_s=None) == pytest.approx(15.0)
    # Behind every sample: at least as old as the oldest sample, or the last replay's age.
    assert staleness(moving, 50, now=20.0, replay_age_s=30.0) == pytest.approx(30.0)
    # One-shot probe: caught up is 0, else the age of the last replayed transaction.
    assert staleness([WalSample(5.0, 100)], 100, now=5.0, replay_age_s=99.0) == 0.0
    assert staleness([WalSample(5.0, 100)], 90, now=5.0, replay_age_s=2.5) == 2.5
    assert staleness(moving, None, now=1.0, replay_age_s=None) is None
    # Behind every sample and no replayed transaction to date it (restarted behind): unknown,
    # not the oldest sample's age (a fraction of a second on a one-shot probe).
    assert staleness([WalSample(5.0, 100)], 90, now=5.3, replay_age_s=None) == math.inf
    assert staleness(moving, 50, now=20.0, replay_age_s=None) == math.inf


def test_history_trim_keeps_one_anchor() -> None:
    history = [WalSample(float(t), t) for t in range(10)]
    kept = trim(history, now=9.0, keep_s=3.0)
    assert [s.at for s in kept] == [5.0, 6.0, 7.0, 8.0, 9.0]


def test_lsn_and_token_round_trip_and_bad_tokens_are_refused() -> None:
    assert parse_lsn("16/B374D848") == (0x16 << 32) + 0xB374D848
    assert format_lsn(parse_lsn("16/B374D848")) == "16/B374D848"
    token = ConsistencyToken(parse_lsn("0/3000148"))
    assert str(token) == "wal:0/3000148"
    assert ConsistencyToken.parse(str(token)) == token
    assert ConsistencyToken.latest(None, token, ConsistencyToken(1)) == token
    for bad in ("0/3000148", "wal:zz", "wal:1/2/3", ""):
        with pytest.raises(InvalidToken, match="wal:"):
            ConsistencyToken.parse(bad)


def test_policies_spread_by_weight_and_outstanding() -> None:
    rr = RoundRobin()
    firsts = [rr.order(["a", "b"], {"a": 2.0, "b": 1.0}, {})[0] for _ in range(30)]
    assert firsts.count("a") == 20 and firsts.count("b") == 10
    assert LeastOutstanding().order(["a", "b"], {}, {"a": 3, "b": 1}) == ["b", "a"]
    assert LeastOutstanding().order(["a", "b"], {"a": 4.0}, {"a": 3, "b": 1}) == ["a", "b"]
    rnd = RandomChoice(seed=1)
    picks = [rnd.order(["a", "b"], {"a": 9.0, "b": 1.0}, {})[0] for _ in range(1000)]
    assert 800 < picks.count("a") < 980
    assert sorted(rnd.order(["a", "b", "c"], {}, {})) == ["a", "b", "c"]
    with pytest.raises(ConfigError, match="round_robin"):
        policy_named("fastest")


def test_unknown_kind_is_refused_with_the_valid_ones() -> None:
    assert parse_kind("analytics") is Kind.ANALYTICS
    with pytest.raises(UnknownKind, match="write, transactional, read"):
        parse_kind("reporting")


def test_health_report_masks_passwords_and_has_the_report_shape() -> None:
    report = health_status(healthy_snapshot(), 5.0)
    assert report["primary"] == {"available": True, "latency_ms": 1.0, "node": "primary"}
    assert report["analytics"]["replication_lag_ms"] == 0
    assert "secret" not in repr(report)
    names = [n["name"] for n in report["nodes"]]
    assert names == ["primary", "replica1", "replica2", "analytics", "dr"]
    dr = report["nodes"][-1]
    assert dr["usable_for_reads"] is False and dr["routing_role"] == Role.DR.value
    for node in report["nodes"]:
        assert {
            "name",
            "routing_role",
            "in_recovery",
            "port",
            "healthy",
            "usable_for_reads",
            "lag_seconds",
            "latency_ms",
        } <= node.keys()


def test_a_replica_of_unknown_staleness_takes_no_reads_and_reports_valid_json() -> None:
    import json

    snap = healthy_snapshot()
    unknown = snap.replace_node(replace(snap.node("replica1"), lag_s=math.inf))
    assert "replica1" not in plan(unknown, Kind.READ).replicas
    report = health_status(unknown, 5.0)
    node = next(n for n in report["nodes"] if n["name"] == "replica1")
    assert node["usable_for_reads"] is False and node["lag_seconds"] is None
    assert report["replica1"]["replication_lag_ms"] is None
    json.loads(json.dumps(report, allow_nan=False))  # no Infinity in the health endpoint's body


def test_probe_schedule_is_jittered_and_never_longer_than_the_interval() -> None:
    import random

    from advisoros_db.routing.core import jittered
    from advisoros_db.routing.topology import RouterOptions

    delays = [jittered(30.0, random.Random(seed)) for seed in range(200)]
    # Never longer than the interval: health reflects an outage within two probe intervals.
    assert all(21.0 <= d <= 30.0 for d in delays)
    assert len({round(d, 3) for d in delays}) > 150, "processes must not share one schedule"
    # Probes run often enough for known replay positions to keep proving the staleness bound.
    assert RouterOptions(interval_s=30.0, max_lag_s=5.0).probe_every_s == pytest.approx(5.0 / 3)
    assert RouterOptions(interval_s=1.0, max_lag_s=5.0).probe_every_s == 1.0


def test_settings_parse_policy_weights_and_refuse_bad_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from advisoros_db.routing.topology import RouterOptions
    from advisoros_db.settings import Settings

    monkeypatch.setenv("ADVISOROS_REPLICA_WEIGHTS", "replica1=2, replica2=0.5")
    monkeypatch.setenv("ADVISOROS_READ_POLICY", "least_outstanding")
    monkeypatch.setenv("ADVISOROS_READ_YOUR_WRITES_WAIT_S", "0.25")
    options = RouterOptions.from_settings(Settings(_env_file=None))
    assert options.weights == {"replica1": 2.0, "replica2": 0.5}
    assert options.policy == "least_outstanding" and options.ryw_wait_s == 0.25
    monkeypatch.setenv("ADVISOROS_REPLICA_WEIGHTS", "replica1:2")
    with pytest.raises(ValidationError, match="replica1=2"):
        Settings(_env_file=None)
