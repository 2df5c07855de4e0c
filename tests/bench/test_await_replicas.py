"""Before timing, the benchmark waits for the replicas to replay what the primary wrote."""

from __future__ import annotations

import psycopg

from advisoros_db.bench.runner import await_replicas
from advisoros_db.cluster import Cluster
from tests.support import PgServer, wait_until_replay_paused


def _write(server: PgServer) -> None:
    with psycopg.connect(server.admin_url, autocommit=True) as conn:
        conn.execute("SELECT pg_current_xact_id()")  # a commit for the replicas to replay


def test_caught_up_replicas_are_waited_for_briefly(server: PgServer, cluster: Cluster) -> None:
    _write(server)
    # A deadline no busy machine reaches: returning before it shows the wait ended because the
    # replicas caught up, not because time ran out.
    waited = await_replicas(server.admin_url, list(server.replica_urls), timeout_s=600.0)
    assert waited["behind"] == [] and waited["unreachable"] == []
    assert waited["seconds"] < 600.0


def test_a_paused_replica_is_reported_behind_at_the_deadline(
    server: PgServer, cluster: Cluster
) -> None:
    cluster.pause_replay("replica2")
    try:
        wait_until_replay_paused(server.replica_urls[1])
        _write(server)
        waited = await_replicas(
            server.admin_url, list(server.replica_urls), timeout_s=1.0, poll_s=0.1
        )
    finally:
        cluster.resume_replay("replica2")
    assert len(waited["behind"]) == 1 and "***" in waited["behind"][0]  # masked URL
    assert waited["seconds"] >= 1.0


def test_an_unreachable_replica_is_reported_not_waited_for(server: PgServer) -> None:
    gone = server.admin_url.rsplit(":", 1)[0] + ":1/postgres"  # nothing listens on port 1
    waited = await_replicas(server.admin_url, [gone], timeout_s=300.0)
    assert waited["unreachable"] and waited["behind"] == []
    assert waited["seconds"] < 300.0, "returned at the deadline: it waited for a dead replica"
