"""The router benchmark cases run end to end at a tiny scale (figures are not judged here)."""

from __future__ import annotations

import threading
import time

import psycopg

from advisoros_db.bench.router_cases import extra_us, paired, read_throughput, routing_overhead
from advisoros_db.cluster import Cluster
from advisoros_db.targets import Target
from tests.routing.conftest import settle
from tests.support import PgDatabase, wait_until_replay_paused


def target_of(db: PgDatabase, cluster: Cluster) -> Target:
    """The test's own database: the application role connects to no database initdb made."""
    # Through the server's own database (the superuser's): the test's may not be on the
    # replicas yet, and once they have replayed this far it is.
    settle([db.server.admin_url, *db.server.replica_urls])
    return Target(
        admin_url=db.admin_url,
        app_url=db.app_url,
        replica_urls=list(db.replica_urls),
        cluster=cluster,
    )


def test_routing_overhead_measures_both_sides_on_a_replica(
    db: PgDatabase, cluster: Cluster
) -> None:
    figures = routing_overhead(target_of(db, cluster), queries=20, rounds=2)
    assert figures["node"] == "replica1"
    assert figures["direct_psycopg_pool_us"] > 0 and figures["routed_session_us"] > 0
    assert figures["sqlalchemy_session_us"] > 0 and figures["routed_connection_us"] > 0
    assert len(figures["connection_rounds_us"]) == len(figures["direct_rounds_us"]) == 2
    assert len(figures["connection_rounds_paired_pct"]) == 2
    assert isinstance(figures["connection_overhead_paired_us"], float)
    # Warm-up plus two rounds of 20, for the routed connection and the routed session alike.
    assert figures["routed_counts"] == {"kind=read,node=replica1": 2 * (2 * 20 + 20)}


def test_paired_figures_compare_each_iteration_with_its_own_baseline() -> None:
    # The baseline drifts 100 -> 300 us; the side is always 10 us slower than its neighbour.
    baseline = [100.0, 200.0, 300.0]
    side = [110.0, 210.0, 310.0]
    assert extra_us(side, baseline) == 10.0
    assert paired(side, baseline) == 5.0  # 10 us over the baseline's median of 200 us


def test_read_throughput_uses_zero_one_and_two_replicas(db: PgDatabase, cluster: Cluster) -> None:
    figures = read_throughput(target_of(db, cluster), seconds=0.3, threads=2)
    assert [r["replicas"] for r in figures["results"]] == [0, 1, 2]
    zero, one, two = figures["results"]
    assert all(r["reads"] > 0 for r in figures["results"])
    assert set(zero["per_node"]) == {"kind=read,node=primary"}
    assert set(one["per_node"]) == {"kind=read,node=replica1"}
    assert set(two["per_node"]) == {"kind=read,node=replica1", "kind=read,node=replica2"}
    assert [r["replicas_usable"] for r in figures["results"]] == [
        [],
        ["replica1"],
        ["replica1", "replica2"],
    ]


def test_read_throughput_waits_for_a_replica_to_catch_up(db: PgDatabase, cluster: Cluster) -> None:
    # A replica whose replay is paused with writes behind it is stale; once it replays again the
    # case waits for it instead of measuring the primary under the replica's heading.
    target = target_of(db, cluster)
    cluster.pause_replay("replica1")
    try:
        wait_until_replay_paused(db.replica_urls[0])
        with psycopg.connect(db.admin_url, autocommit=True) as conn:
            conn.execute("SELECT pg_current_xact_id()")  # a commit the replica has not replayed
        time.sleep(6)  # its lag now past the router's 5 s threshold
        resumer = threading.Timer(1.0, cluster.resume_replay, args=("replica1",))
        resumer.start()
        figures = read_throughput(
            target, seconds=0.3, threads=2, replica_counts=(1,), catch_up_s=30.0
        )
        resumer.join()
    finally:
        cluster.resume_replay("replica1")
    [one] = figures["results"]
    assert one["replicas_usable"] == ["replica1"]
    assert set(one["per_node"]) == {"kind=read,node=replica1"}
