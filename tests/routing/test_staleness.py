"""No read staler than the bound: replay paused on one replica under steady writes, reads through
both shells, every read's staleness measured independently of the router.

An observer samples the primary's WAL position every few milliseconds. A read returns the WAL
position its data includes (the replica's replay position, or the primary's own); the first
observer sample beyond it is a moment the primary had already passed it, so the read missed a
change at least `read time - that moment` old: a lower bound on its staleness, which must never
exceed the bound.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import replace

import psycopg
import pytest

from advisoros_db.cluster import Cluster
from advisoros_db.routing import NodeConfig, Router
from advisoros_db.routing.lsn import parse_lsn
from advisoros_db.routing.metrics import total
from tests.routing.conftest import FAST, wait_for
from tests.routing.reads import BackgroundReads, alternating, through_connection, through_session

pytestmark = pytest.mark.replicas

BOUND = replace(FAST, interval_s=30.0, max_lag_s=1.0)

POSITION = """
SELECT inet_server_port(),
       CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END::text
"""


class Observer:
    """The primary's WAL position over time, and a steady writer so it keeps moving."""

    def __init__(self, admin_url: str) -> None:
        self._url = admin_url
        self.samples: list[tuple[int, float]] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._sample),
            threading.Thread(target=self._write),
        ]

    def _sample(self) -> None:
        with psycopg.connect(self._url, autocommit=True) as conn:
            while not self._stop.is_set():
                row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
                assert row is not None
                self.samples.append((parse_lsn(row[0]), time.monotonic()))
                self._stop.wait(0.005)

    def _write(self) -> None:
        with psycopg.connect(self._url, autocommit=True) as conn:
            while not self._stop.is_set():
                conn.execute("INSERT INTO items (v) VALUES ('tick')")
                self._stop.wait(0.01)

    def passed(self, lsn: int) -> float | None:
        """The first sampled moment the primary was beyond `lsn` (None: not yet seen)."""
        samples = list(self.samples)
        index = bisect_right([s[0] for s in samples], lsn)
        return samples[index][1] if index < len(samples) else None

    def __enter__(self) -> Observer:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()


@pytest.fixture
def paused_replica1(cluster: Cluster) -> Iterator[int]:
    yield cluster.node("replica1").port
    cluster.resume_replay("replica1")


@pytest.mark.parametrize("monitor", [False, True], ids=["no-probes", "probing"])
def test_no_read_is_staler_than_the_bound(
    cluster: Cluster,
    server_admin_url: str,
    admin_nodes: tuple[NodeConfig, ...],
    paused_replica1: int,
    monitor: bool,
) -> None:
    replica2 = cluster.node("replica2").port
    with Observer(server_admin_url) as seen, Router(admin_nodes, BOUND, monitor=monitor) as router:
        read = alternating(through_session(router, POSITION), through_connection(router, POSITION))
        with BackgroundReads(read, threads=2) as load:
            wait_for(lambda: paused_replica1 in load.ports(), what="reads")
            cluster.pause_replay("replica1")
            paused_at = time.monotonic()
            # Run until replica1 is well past the bound, by the observer's clock, and reads go on.
            wait_for(
                lambda: time.monotonic() - paused_at > 3 * BOUND.max_lag_s and len(load.reads) > 50,
                timeout=60,
                what="replica1 paused for three bounds",
            )
            since = len(load.reads)
            wait_for(lambda: len(load.reads) > since + 50, timeout=60, what="reads go on")
        checked = 0
        stale = []
        for started, port, lsn in (
            (r.started, r.port, parse_lsn(str(r.value))) for r in load.reads
        ):
            passed = seen.passed(lsn)
            if passed is None or passed > started:
                continue  # nothing sampled proves the read missed a change
            checked += 1
            if started - passed > BOUND.max_lag_s:
                stale.append((port, round(started - passed, 3)))
        late = [r.port for r in load.reads if r.started > paused_at + 2 * BOUND.max_lag_s]
        counts = router.core.metrics.counts()
    assert load.failures == [], f"{len(load.failures)} reads failed: {load.failures[:3]}"
    assert stale == [], f"{len(stale)} of {checked} reads staler than the bound: {stale[:5]}"
    assert late and paused_replica1 not in late, "replica1 left"
    if monitor:
        # Probes keep proving the other replica fresh: reads stay on it, not on the primary.
        assert late.count(replica2) > len(late) // 2
    else:
        # With no probe since the start nothing dates any replica's data: the in-band checks
        # send every read to the primary once the bound has passed.
        assert total(counts, "advisoros_router_retries", reason="replica_stale") > 0
