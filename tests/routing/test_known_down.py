"""The failover moment on real servers: the primary stopped, the only replica stale (replay
paused behind the primary's last sample). A read through either shell must neither fail nor wait
on the down primary: it re-plans until the replica is fresh again, then is served there.

Deterministic: the reads cannot finish while the replica is stale and the primary down, so the
test waits for them to re-plan, then resumes replay and waits for them to finish; nothing is timed.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import replace

import psycopg
import pytest
from sqlalchemy import text

from advisoros_db.cluster import Cluster
from advisoros_db.routing import NodeConfig, Router
from advisoros_db.routing.metrics import total
from tests.routing.conftest import FAST, wait_for

pytestmark = pytest.mark.replicas

# A retry deadline far longer than the orchestration can take on a loaded machine.
PATIENT = replace(FAST, max_lag_s=1.0, retry_deadline_s=180.0)


def test_a_read_with_the_primary_down_and_the_replica_stale_waits_for_the_replica(
    cluster: Cluster, admin_nodes: tuple[NodeConfig, ...]
) -> None:
    primary, replica1 = admin_nodes[0], admin_nodes[1]
    nodes = (primary, replica1)
    results: dict[str, object] = {}

    def read(shell: str) -> None:
        try:
            if shell == "session":
                with router.session("read") as s:
                    results[shell] = s.execute(text("SELECT inet_server_port()")).scalar()
            else:
                with router.connection("read") as conn:
                    row = conn.execute("SELECT inet_server_port()").fetchone()
                    results[shell] = None if row is None else row[0]
        except BaseException as exc:
            results[shell] = exc

    cluster.pause_replay("replica1")
    try:
        with Router(nodes, PATIENT) as router:
            with psycopg.connect(primary.url, autocommit=True) as conn:
                conn.execute("INSERT INTO items (v) VALUES ('not replayed yet')")
                row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
            assert row is not None
            wait_for(
                lambda: (
                    (h := router.core.snapshot.wal_history)
                    and h[-1].lsn > (router.core.snapshot.node("replica1").replay_lsn or 0)
                ),
                what="a primary sample past replica1's replay position",
            )
            cluster.stop_node("primary")
            wait_for(
                lambda: not router.core.snapshot.node("primary").healthy, what="primary known down"
            )
            wait_for(
                lambda: time.monotonic() >= router.core.routes.fresh.get("replica1", -math.inf),
                what="replica1 past the staleness bound",
            )
            threads = [threading.Thread(target=read, args=(s,)) for s in ("session", "connection")]
            for thread in threads:
                thread.start()
            wait_for(
                lambda: (
                    len(results) == 2
                    or total(router.core.metrics.counts(), "advisoros_router_replans") >= 2
                ),
                what="reads re-planning (or failing)",
            )
            # Neither read can have finished: the replica is stale and the primary down.
            assert results == {}
            cluster.resume_replay("replica1")
            for thread in threads:
                thread.join(timeout=PATIENT.retry_deadline_s + 30)
            port = cluster.node("replica1").port
            assert results == {"session": port, "connection": port}
            # The down primary was never waited on: no pool was ever opened there.
            assert "primary" not in router.pools.open
    finally:
        cluster.resume_replay("replica1")
        if not next(n for n in cluster.status() if n.name == "primary").running:
            cluster.start_node("primary")
