"""Faults on the real replicas: a killed node under load, paused replay, idle-primary lag.

Each test restores what it breaks (restart, resume) so later tests find both replicas streaming.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import psycopg
import pytest
from sqlalchemy import text

from advisoros_db.cluster import Cluster
from advisoros_db.routing import NodeConfig, Router, core
from advisoros_db.routing.metrics import total
from tests.routing.conftest import FAST, ONE_SHOT, wait_for
from tests.routing.reads import BackgroundReads, through_session
from tests.support import wait_until_replay_paused

pytestmark = pytest.mark.replicas

READ = "SELECT inet_server_port(), count(*) FROM items"
WHERE = text(READ)


def test_killing_a_replica_under_load_fails_no_read(
    cluster: Cluster, admin_nodes: tuple[NodeConfig, ...], revive: list[str]
) -> None:
    replica1_port = cluster.node("replica1").port
    cluster.checkpoint("replica1")  # its restart replays only WAL written from here
    with (
        Router(admin_nodes, FAST) as router,
        BackgroundReads(through_session(router, READ)) as load,
    ):
        wait_for(lambda: load.ok > 50, what="load running")
        revive.append("replica1")
        cluster.kill_node("replica1")  # returns once the processes are gone and the port is free
        wait_for(lambda: router.core.snapshot.node("replica1").ejected, what="ejection")
        served_before = load.ok
        wait_for(lambda: load.ok > served_before + 100, what="reads continue")
        cluster.start_node("replica1")
        wait_for(lambda: not router.core.snapshot.node("replica1").ejected, what="return")
        back = load.ok
        wait_for(lambda: replica1_port in load.ports(back), what="reads on the returned replica")
    # How fast the monitor alone ejects a dead node is a wall-clock figure, not asserted on a
    # shared machine: test_a_dead_idle_replica_is_ejected_by_the_next_probe_and_returns proves
    # that the probe (not traffic) ejects it.
    assert load.failures == [], f"{len(load.failures)} reads failed: {load.failures[:3]}"
    counts = router.core.metrics.counts()
    assert total(counts, "advisoros_router_ejections", node="replica1") >= 1


def test_paused_replay_makes_a_replica_stale_then_it_returns(
    cluster: Cluster, server_admin_url: str, admin_nodes: tuple[NodeConfig, ...], revive: list[str]
) -> None:
    replica1_port = cluster.node("replica1").port
    stop = threading.Event()

    def write_steadily() -> None:
        with psycopg.connect(server_admin_url, autocommit=True) as conn:
            while not stop.is_set():
                conn.execute("INSERT INTO items (v) VALUES ('tick')")
                time.sleep(0.02)

    writer = threading.Thread(target=write_steadily)
    with Router(admin_nodes, FAST) as router:
        revive.append("replica1")
        cluster.pause_replay("replica1")
        writer.start()
        try:
            wait_for(
                lambda: (router.core.snapshot.node("replica1").lag_s or 0) > FAST.max_lag_s,
                what="replica1 stale",
            )
            report = {n["name"]: n for n in router.health()["nodes"]}
            assert report["replica1"]["usable_for_reads"] is False
            assert report["replica1"]["replay_paused"] is True
            assert report["replica2"]["usable_for_reads"] is True
            for _ in range(20):
                with router.session("read") as s:
                    assert s.execute(WHERE).one()[0] != replica1_port
            cluster.resume_replay("replica1")
            wait_for(lambda: router.health()["nodes"][1]["usable_for_reads"], what="replica1 back")
        finally:
            stop.set()
            writer.join()


def test_an_idle_primary_with_caught_up_replicas_reports_no_lag(
    server_admin_url: str, admin_nodes: tuple[NodeConfig, ...]
) -> None:
    with Router(admin_nodes, FAST) as router:
        with router.session("write") as s:
            s.execute(text("INSERT INTO items (v) VALUES ('last write')"))
        # Idle from here, no transaction anywhere, until the naive measure (the age of the last
        # replayed commit) is past the bound on both replicas...
        for replica in admin_nodes[1:]:
            with psycopg.connect(replica.url, autocommit=True) as conn:
                wait_for(
                    lambda c=conn: _naive_lag(c) > FAST.max_lag_s,
                    what=f"{replica.name}'s last replayed commit older than the bound",
                )
        # ...while the router, probing all along, dates the replicas by WAL, not by commits.
        wait_for(
            lambda: (
                [router.core.snapshot.node(n).lag_s for n in ("replica1", "replica2")] == [0.0, 0.0]
            ),
            what="no lag reported for caught-up replicas",
        )
        assert not any(router.core.snapshot.node(n).ejected for n in ("replica1", "replica2"))


def _naive_lag(conn: psycopg.Connection) -> float:
    row = conn.execute(
        "SELECT EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())"
    ).fetchone()
    assert row is not None
    return float(row[0])


def _terminate(admin_url: str, pid: int) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))


def _alive(admin_url: str, pid: int) -> bool:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,))
        return row.fetchone() == (1,)


def test_a_read_whose_connection_breaks_mid_session_is_retried_elsewhere(
    admin_nodes: tuple[NodeConfig, ...],
) -> None:
    urls = {n.name: n.url for n in admin_nodes}
    with Router(admin_nodes, ONE_SHOT, monitor=False) as router:
        with router.session("read") as s:
            first, pid = s.execute(text("SELECT inet_server_port(), pg_backend_pid()")).one()
            node = s.route.node
            _terminate(urls[node], pid)
            second, in_recovery = s.execute(
                text("SELECT inet_server_port(), pg_is_in_recovery()")
            ).one()
        assert second != first and in_recovery is True, "retried on the other replica"
        counts = router.core.metrics.counts()
        assert total(counts, "advisoros_router_failovers", from_node=node) == 1
        assert router.core.snapshot.node(node).ejected, "ejected at once, not at the next probe"


def test_a_write_whose_connection_breaks_is_not_retried(
    admin_nodes: tuple[NodeConfig, ...], server_admin_url: str
) -> None:
    from advisoros_db.routing import RoutingError

    marker = f"once-{time.monotonic_ns()}"
    with Router(admin_nodes, FAST, monitor=False) as router:
        with pytest.raises(RoutingError, match="not retried"), router.session("write") as s:
            pid = s.execute(text("SELECT pg_backend_pid()")).scalar()
            _terminate(server_admin_url, int(pid))
            s.execute(text("INSERT INTO items (v) VALUES (:v)"), {"v": marker})
        assert total(router.core.metrics.counts(), "advisoros_router_retries") == 0
    with psycopg.connect(server_admin_url) as conn:
        row = conn.execute("SELECT count(*) FROM items WHERE v = %s", (marker,)).fetchone()
    assert row == (0,)


def test_a_dead_idle_replica_is_ejected_by_the_next_probe_and_returns(
    cluster: Cluster, admin_nodes: tuple[NodeConfig, ...], revive: list[str]
) -> None:
    cluster.checkpoint("replica2")  # its restart replays only WAL written from here
    with Router(admin_nodes, FAST) as router:
        revive.append("replica2")
        cluster.stop_node("replica2")
        wait_for(lambda: router.core.snapshot.node("replica2").ejected, what="probe ejection")
        # No traffic went through the router: only the monitor can have noticed.
        assert total(router.core.metrics.counts(), "advisoros_router_queries") == 0
        assert router.health()["replica2"]["available"] is False
        cluster.start_node("replica2")
        wait_for(lambda: not router.core.snapshot.node("replica2").ejected)
        with router.session("read") as s, router.session("read") as t:
            ports = {s.execute(WHERE).one()[0], t.execute(WHERE).one()[0]}
        assert cluster.node("replica2").port in ports


@pytest.fixture
def replica1_cancels_at_once(cluster: Cluster, routing_db: str) -> Iterator[str]:
    """replica1 with max_standby_streaming_delay = 0: replay cancels conflicting queries at once."""
    url = cluster.url("replica1", database=routing_db)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET max_standby_streaming_delay = 0")
        conn.execute("SELECT pg_reload_conf()")
    try:
        yield url
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ALTER SYSTEM RESET max_standby_streaming_delay")
            conn.execute("SELECT pg_reload_conf()")


def test_a_read_cancelled_by_a_recovery_conflict_is_retried_transparently(
    admin_nodes: tuple[NodeConfig, ...], server_admin_url: str, replica1_cancels_at_once: str
) -> None:
    # The read holds its lock on items on replica1 until cancelled (its sleep is cut short by
    # the conflict); on the primary, where the retry runs, it does not sleep.
    slow_read = text(
        "SELECT pg_is_in_recovery(), pg_sleep(CASE WHEN pg_is_in_recovery() THEN 600 ELSE 0 END),"
        " n FROM (SELECT count(*) n FROM items) c"
    )
    result: list[object] = []

    def read() -> None:
        with router.session("read") as s:
            result.append(s.execute(slow_read).one()[0])

    def reading_on_replica1() -> bool:
        with psycopg.connect(replica1_cancels_at_once, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'"
                " AND query LIKE '%%pg_sleep(CASE%%' AND pid <> pg_backend_pid()"
            ).fetchone()
        return row == (1,)

    # The retry deadline counts from the read's start: room for a slow replay on a busy machine.
    with Router(
        admin_nodes[:2], replace(ONE_SHOT, retry_deadline_s=120.0), monitor=False
    ) as router:
        reader = threading.Thread(target=read)
        reader.start()
        try:
            wait_for(reading_on_replica1, timeout=60, what="the read sleeping on replica1")
            with (
                psycopg.connect(server_admin_url) as conn,
                psycopg.connect(server_admin_url, autocommit=True) as other,
            ):
                # The ACCESS EXCLUSIVE lock is WAL-logged; replaying it cancels the replica's
                # reader. Another session's commit flushes that WAL to the replica now (an open
                # transaction's WAL waits for a full page). The lock is held until the read is
                # cancelled, then released for its retry on the primary.
                conn.execute("LOCK TABLE items IN ACCESS EXCLUSIVE MODE")
                other.execute("SELECT pg_current_xact_id()")
                wait_for(lambda: not reading_on_replica1(), timeout=60, what="the read cancelled")
                conn.rollback()
        finally:
            reader.join()
        counts = router.core.metrics.counts()
        assert result == [False], "the retry ran on the primary"
        assert total(counts, "advisoros_router_retries", reason="recovery_conflict") == 1
        assert not router.core.snapshot.node("replica1").ejected, "a conflict is not a dead node"


def test_a_node_dying_after_the_last_read_does_not_fail_the_session(
    admin_nodes: tuple[NodeConfig, ...],
) -> None:
    # Regression: the ROLLBACK at session end used to raise AdminShutdown after the rows were read.
    urls = {n.name: n.url for n in admin_nodes}
    with Router(admin_nodes, FAST, monitor=False) as router:
        with router.session("read") as s:
            count, pid = s.execute(text("SELECT count(*), pg_backend_pid() FROM items")).one()
            node = s.route.node
            _terminate(urls[node], pid)
            wait_for(lambda: not _alive(urls[node], pid), what="the backend gone")
        assert count >= 0
        assert router.core.snapshot.node(node).ejected


def test_a_one_shot_probe_waits_out_wal_without_a_commit(
    server_admin_url: str,
    admin_nodes: tuple[NodeConfig, ...],
    cluster: Cluster,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Regression: a checkpoint record the replica had not replayed yet made a one-shot probe
    date the gap by the last commit's age, so a healthy replica on an idle cluster was stale."""
    # The probe's wait ends when the replica has replayed the primary's sample: a window no
    # busy machine outlasts makes the resume below land within it, however late it runs.
    monkeypatch.setattr(core, "SETTLE_S", 600.0)
    with Router(admin_nodes, FAST, monitor=False) as router, router.session("write") as s:
        s.execute(text("INSERT INTO items (v) VALUES ('before the quiet')"))
    time.sleep(FAST.max_lag_s + 0.5)  # the last commit is now older than the lag threshold
    cluster.pause_replay("replica1")
    # The probe waits (SETTLE_S) for the replica to replay up to the primary's position.
    try:
        wait_until_replay_paused(admin_nodes[1].url)
        with psycopg.connect(server_admin_url, autocommit=True) as conn:
            conn.execute("CHECKPOINT")  # WAL with no commit in it
        resume = threading.Timer(0.05, cluster.resume_replay, args=("replica1",))
        resume.start()
        with Router(admin_nodes, FAST, monitor=False) as router:
            node = next(n for n in router.health()["nodes"] if n["name"] == "replica1")
        resume.join()
    finally:
        cluster.resume_replay("replica1")
    assert node["usable_for_reads"] is True, node
    assert node["lag_seconds"] is not None and node["lag_seconds"] < FAST.max_lag_s
