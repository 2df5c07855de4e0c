"""Fencing and per-read freshness as pure decisions: no server needed."""

from __future__ import annotations

import math

from advisoros_db.routing import decisions, fencing, state
from advisoros_db.routing.kinds import Kind
from advisoros_db.routing.lag import WalSample, dated, read_staleness_bound
from advisoros_db.routing.policies import RoundRobin
from advisoros_db.routing.report import health_status
from advisoros_db.routing.topology import nodes_from

NODES = nodes_from(
    "postgresql://app:secret@h:1/db",
    ["postgresql://app:secret@h:2/db"],
    analytics_url="postgresql://app:secret@h:4/db",
    dr_url="postgresql://app:secret@h:5/db",
)
SYSTEM = "7000"


def seen(
    snap: state.Snapshot,
    name: str,
    *,
    writable: bool,
    timeline: int,
    lsn: int = 100,
    system: str = SYSTEM,
    server: str | None = None,
    now: float = 0.0,
    sent_at: float | None = None,
) -> state.Snapshot:
    result = state.ProbeResult(
        reachable=True,
        latency_ms=1.0,
        in_recovery=not writable,
        current_lsn=lsn if writable else None,
        replay_lsn=None if writable else lsn,
        replay_age_s=0.0,
        timeline=timeline,
        system_id=system,
        server=server or f"{system}@h:{name}",
        sent_at=sent_at,
    )
    snap = state.apply_probe(snap, name, result, now=now, return_after=1)
    return fencing.sample_if_writable(snap, name, result.current_lsn, now)


def down(snap: state.Snapshot, name: str) -> state.Snapshot:
    return state.apply_probe(
        snap, name, state.ProbeResult(False, error="refused"), now=0.0, return_after=1
    )


def cluster_before_failover() -> state.Snapshot:
    snap = seen(state.initial(NODES), "primary", writable=True, timeline=1)
    for name in ("replica1", "analytics", "dr"):
        snap = seen(snap, name, writable=False, timeline=1)
    return snap


def test_the_configured_primary_takes_writes_until_a_newer_timeline_appears() -> None:
    snap = cluster_before_failover()
    assert fencing.judge(snap) == fencing.Verdict(primary="primary", newest_timeline=1)
    promoted = seen(down(snap, "primary"), "dr", writable=True, timeline=2)
    assert fencing.judge(promoted).primary == "dr"
    back = seen(promoted, "primary", writable=True, timeline=1)
    verdict = fencing.judge(back)
    assert verdict.primary == "dr" and set(verdict.fenced) == {"primary"}
    assert "timeline 1" in verdict.fenced["primary"]
    routes = decisions.routes(back, 5.0)
    assert routes.kinds[Kind.WRITE].primary == "dr"
    assert (
        "primary"
        not in decisions.plan(
            back, Kind.READ, policy=RoundRobin(), max_lag_s=5.0, outstanding={}
        ).order
    )
    report = health_status(back, 5.0)
    assert report["fenced"] == ["primary"] and report["primary"]["node"] == "dr"
    # replica1 still on timeline 1 (it followed the old primary): no reads there.
    assert {n["name"]: n["usable_for_reads"] for n in report["nodes"]}["replica1"] is False


def test_the_newest_timeline_is_remembered_when_its_server_goes_away() -> None:
    snap = seen(down(cluster_before_failover(), "primary"), "dr", writable=True, timeline=2)
    snap = down(seen(snap, "primary", writable=True, timeline=1), "dr")
    verdict = fencing.judge(snap)
    assert verdict.primary is None and set(verdict.fenced) == {"primary"}
    assert "fenced" in (decisions.write_refusal(snap) or "")


def test_a_standby_on_a_newer_timeline_is_evidence_enough_for_a_fresh_router() -> None:
    snap = seen(state.initial(NODES), "primary", writable=True, timeline=1)
    snap = seen(snap, "replica1", writable=False, timeline=2)  # follows the promoted DR
    snap = down(snap, "dr")
    assert set(fencing.judge(snap).fenced) == {"primary"}


def test_a_server_of_another_cluster_never_fences_ours() -> None:
    snap = seen(cluster_before_failover(), "analytics", writable=True, timeline=7, system="9999")
    verdict = fencing.judge(snap)
    assert verdict.primary == "primary" and verdict.fenced == {}


def test_two_different_writable_servers_on_the_newest_timeline_get_no_writes() -> None:
    snap = seen(down(cluster_before_failover(), "primary"), "dr", writable=True, timeline=2)
    snap = seen(snap, "replica1", writable=True, timeline=2)  # promoted from the same history
    verdict = fencing.judge(snap)
    assert verdict.primary is None and "different servers" in (verdict.refusal or "")


def test_one_server_configured_twice_is_not_a_split() -> None:
    snap = cluster_before_failover()
    snap = seen(snap, "analytics", writable=True, timeline=1, server=f"{SYSTEM}@h:primary")
    assert fencing.judge(snap).primary == "primary"


def test_a_new_writable_node_starts_a_new_wal_history() -> None:
    snap = seen(cluster_before_failover(), "primary", writable=True, timeline=1, lsn=500, now=1.0)
    assert snap.wal_source == "primary" and len(snap.wal_history) == 2
    snap = seen(down(snap, "primary"), "dr", writable=True, timeline=2, lsn=300, now=2.0)
    assert snap.wal_source == "dr" and [s.lsn for s in snap.wal_history] == [300]


def test_freshness_is_proven_until_the_bound_past_the_sample_a_replica_has_replayed() -> None:
    history = (WalSample(at=10.0, lsn=100), WalSample(at=20.0, lsn=200))
    assert dated(history, 150) == 10.0 and dated(history, 200) == 20.0
    assert dated(history, 50) is None
    assert read_staleness_bound(history, 150, now=12.0) == 2.0
    assert read_staleness_bound(history, 50, now=12.0) == math.inf
    snap = seen(state.initial(NODES), "primary", writable=True, timeline=1, lsn=100, now=10.0)
    snap = seen(snap, "primary", writable=True, timeline=1, lsn=200, now=20.0)
    snap = seen(snap, "replica1", writable=False, timeline=1, lsn=150, now=20.0)
    snap = seen(snap, "analytics", writable=False, timeline=1, lsn=200, now=20.0)
    snap = seen(snap, "dr", writable=False, timeline=1, lsn=50, now=20.0)
    fresh = decisions.routes(snap, 5.0).fresh
    assert fresh["replica1"] == 15.0 and fresh["analytics"] == 25.0
    assert fresh["dr"] == -math.inf, "nothing dates a position behind every sample"
    # With the writable node down nothing newer exists: caught-up replicas stay fresh.
    assert decisions.routes(down(snap, "primary"), 5.0).fresh["analytics"] == math.inf
    assert decisions.routes(down(snap, "primary"), 5.0).fresh["replica1"] == 15.0


def promoted_one_after_the_other() -> state.Snapshot:
    """The primary gone; the DR seen a standby, then writable on timeline 2; then replica1 (still
    following the old history) seen a standby after that, then writable on timeline 2 too."""
    snap = down(cluster_before_failover(), "primary")
    snap = seen(snap, "dr", writable=False, timeline=1, now=1.0, sent_at=0.9)
    snap = seen(snap, "dr", writable=True, timeline=2, now=2.0, sent_at=1.9)
    snap = seen(snap, "replica1", writable=False, timeline=1, now=3.0, sent_at=2.9)
    return seen(snap, "replica1", writable=True, timeline=2, now=4.0, sent_at=3.9)


def test_the_server_seen_promoted_last_on_the_same_timeline_wins_the_other_is_fenced() -> None:
    snap = promoted_one_after_the_other()
    verdict = fencing.judge(snap)
    assert verdict.primary == "replica1"
    assert (
        set(verdict.fenced) == {"dr"}
        and "promoted to that timeline after it" in (verdict.fenced["dr"])
    )
    assert decisions.routes(snap, 5.0).write_refusal is None
    # Sticky: with the winner gone, the loser still gets no write (the down configured primary
    # is all that is left, and back on timeline 1 it would be fenced too).
    verdict = fencing.judge(down(snap, "replica1"))
    assert verdict.primary == "primary" and "dr" in verdict.fenced
    # Rejoined and promoted again onto a newer timeline, it is a legitimate primary once more.
    snap = seen(down(snap, "replica1"), "dr", writable=True, timeline=3, now=5.0, sent_at=4.9)
    assert fencing.judge(snap).primary == "dr"


def test_promotions_the_probes_cannot_order_refuse_writes_to_both() -> None:
    # Both promoted between the same two probes: replica1 last seen a standby (sent 1.5) before
    # the DR was first seen writable (2.0), so neither order is proven.
    snap = down(cluster_before_failover(), "primary")
    snap = seen(snap, "dr", writable=False, timeline=1, now=1.0, sent_at=0.9)
    snap = seen(snap, "replica1", writable=False, timeline=1, now=1.6, sent_at=1.5)
    snap = seen(snap, "dr", writable=True, timeline=2, now=2.0, sent_at=1.9)
    snap = seen(snap, "replica1", writable=True, timeline=2, now=2.1, sent_at=2.05)
    verdict = fencing.judge(snap)
    assert verdict.primary is None and "did not see which was promoted last" in (
        verdict.refusal or ""
    )
    assert snap.superseded == ()


def test_a_server_unreachable_in_between_may_have_been_promoted_anew() -> None:
    # The DR was writable at 2.0, went away, and is writable again: its promotion is dated by the
    # first probe after it came back (5.0), later than replica1's last standby probe (2.9).
    snap = down(cluster_before_failover(), "primary")
    snap = seen(snap, "dr", writable=True, timeline=2, now=2.0, sent_at=1.9)
    snap = seen(snap, "replica1", writable=False, timeline=1, now=3.0, sent_at=2.9)
    snap = down(snap, "dr")
    snap = seen(snap, "dr", writable=True, timeline=2, now=5.0, sent_at=4.9)
    snap = seen(snap, "replica1", writable=True, timeline=2, now=6.0, sent_at=5.9)
    assert fencing.judge(snap).primary is None and snap.superseded == ()
