"""Prometheus telemetry: statement counters and latency histograms that include the ORM's own
statements, per-node gauges that do not go stale when a node is down, Prometheus naming."""

from __future__ import annotations

import re
import socket
import threading

import pytest
from prometheus_client.parser import text_string_to_metric_families

from advisoros_db.routing import Router, nodes_from, state
from advisoros_db.routing.kinds import Kind
from advisoros_db.routing.metrics import RouterMetrics
from tests.routing.conftest import FAST, wait_for
from tests.routing.test_decisions import healthy_snapshot
from tests.support import PgDatabase

HISTOGRAM = "advisoros_router_statement_duration_seconds"


def samples(text: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, by (sample name, sorted labels)."""
    out = {}
    for family in text_string_to_metric_families(text.decode()):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_histogram_from_many_threads_is_exact_and_cumulative() -> None:
    metrics = RouterMetrics()

    def observe() -> None:
        for _ in range(1000):
            metrics.latency.observe(0.002, Kind.READ, "replica1")
            metrics.latency.observe(3.0, Kind.READ, "replica1")

    workers = [threading.Thread(target=observe) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for _ in range(2):  # folding finished threads in must not count them twice
        got = samples(metrics.generate())
        labels = (("kind", "read"), ("node", "replica1"))

        def bucket(le: str, got: dict = got) -> float:  # type: ignore[type-arg]
            return got[
                (f"{HISTOGRAM}_bucket", (("kind", "read"), ("le", le), ("node", "replica1")))
            ]

        assert bucket("0.001") == 0
        assert bucket("0.0025") == 4000
        assert bucket("2.5") == 4000
        assert bucket("5.0") == 8000
        assert bucket("+Inf") == 8000
        assert got[(f"{HISTOGRAM}_count", labels)] == 8000
        assert got[(f"{HISTOGRAM}_sum", labels)] == pytest.approx(4000 * 3.002)


def test_a_node_that_goes_down_has_no_stale_latency_or_staleness() -> None:
    metrics = RouterMetrics()
    snap = healthy_snapshot()
    metrics.observe(snap, 5.0)
    got = samples(metrics.generate())
    node = (("node", "replica1"),)
    assert got[("advisoros_router_probe_latency_seconds", node)] == pytest.approx(0.001)
    assert ("advisoros_router_staleness_seconds", node) in got
    assert got[("advisoros_router_node_up", node)] == 1
    down = state.apply_probe(
        snap,
        "replica1",
        state.ProbeResult(reachable=False, error="connection refused"),
        now=1.0,
        return_after=2,
    )
    metrics.observe(down, 5.0)
    got = samples(metrics.generate())
    assert got[("advisoros_router_node_up", node)] == 0
    assert got[("advisoros_router_node_healthy", node)] == 0
    assert got[("advisoros_router_node_usable_for_reads", node)] == 0
    assert ("advisoros_router_probe_latency_seconds", node) not in got
    assert ("advisoros_router_staleness_seconds", node) not in got
    # The other nodes keep theirs.
    assert ("advisoros_router_probe_latency_seconds", (("node", "replica2"),)) in got


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_replica_is_marked_down_on_a_real_router(db: PgDatabase) -> None:
    bogus = f"postgresql://advisoros_app:x@127.0.0.1:{_closed_port()}/nowhere"
    with Router(nodes_from(db.app_url, [bogus]), FAST, monitor=False) as router:
        got = samples(router.metrics_text())
    assert got[("advisoros_router_node_up", (("node", "replica1"),))] == 0
    assert got[("advisoros_router_node_up", (("node", "primary"),))] == 1
    assert ("advisoros_router_probe_latency_seconds", (("node", "replica1"),)) not in got
    assert ("advisoros_router_probe_latency_seconds", (("node", "primary"),)) in got


def test_pool_gauges_show_connections_in_use_and_returned(db: PgDatabase) -> None:
    def gauge(router: Router, name: str) -> float:
        return samples(router.metrics_text())[(name, (("node", "primary"),))]

    with Router(nodes_from(db.app_url, []), FAST, monitor=False) as router:
        router.pools.get("primary").wait()  # its min connections are open and idle
        assert gauge(router, "advisoros_router_pool_connections_in_use") == 0
        with router.connection("write") as conn:
            conn.execute("SELECT 1")
            # Lent out (the pool may also be opening one more in the background).
            assert gauge(router, "advisoros_router_pool_connections_in_use") >= 1
            assert gauge(router, "advisoros_router_pool_connections") >= 1
            assert gauge(router, "advisoros_router_pool_requests_waiting") == 0
        wait_for(
            lambda: gauge(router, "advisoros_router_pool_connections_in_use") == 0,
            what="the connection back in the pool",
        )
        assert gauge(router, "advisoros_router_pool_connections") >= 1


def test_names_and_units_follow_prometheus_conventions() -> None:
    metrics = RouterMetrics()
    metrics.observe(healthy_snapshot(), 5.0)
    metrics.routed.inc(Kind.READ, "replica1")
    metrics.latency.observe(0.01, Kind.READ, "replica1")
    for family in text_string_to_metric_families(metrics.generate().decode()):
        assert re.fullmatch(r"advisoros_router_[a-z_]+", family.name), family.name
        assert not re.search(r"_(ms|millis|milliseconds)$", family.name), family.name
        if family.type == "counter":
            assert all(s.name.endswith(("_total", "_created")) for s in family.samples)
        if family.type == "histogram":
            assert family.name.endswith("_seconds")
