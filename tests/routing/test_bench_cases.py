"""The router benchmark cases run end to end at a tiny scale (figures are not judged here)."""

from __future__ import annotations

from advisoros_db.bench.router_cases import extra_us, paired, read_throughput, routing_overhead
from advisoros_db.cluster import Cluster
from advisoros_db.targets import Target
from tests.routing.conftest import settle
from tests.support import PgServer


def target_of(server: PgServer, cluster: Cluster) -> Target:
    settle([server.admin_url, *server.replica_urls])
    return Target(
        admin_url=server.admin_url,
        app_url=server.app_url,
        replica_urls=list(server.replica_urls),
        cluster=cluster,
    )


def test_routing_overhead_measures_both_sides_on_a_replica(
    server: PgServer, cluster: Cluster
) -> None:
    figures = routing_overhead(target_of(server, cluster), queries=20, rounds=2)
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


def test_read_throughput_uses_zero_one_and_two_replicas(server: PgServer, cluster: Cluster) -> None:
    figures = read_throughput(target_of(server, cluster), seconds=0.3, threads=2)
    assert [r["replicas"] for r in figures["results"]] == [0, 1, 2]
    zero, one, two = figures["results"]
    assert all(r["reads"] > 0 for r in figures["results"])
    assert set(zero["per_node"]) == {"kind=read,node=primary"}
    assert set(one["per_node"]) == {"kind=read,node=replica1"}
    assert set(two["per_node"]) == {"kind=read,node=replica1", "kind=read,node=replica2"}
