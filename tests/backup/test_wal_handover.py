"""No WAL gap after a failover: commits acknowledged by the new primary before the archive's
streamer is re-pointed at it (the former gap) are restorable, with writes going on throughout.

The former gap is made certain, not left to timing: between the promotion and the re-pointing the
test writes on the new primary across several segments (pg_switch_wal) and runs the CHECKPOINT
PostgreSQL itself requests after a promotion. Without the slot reserved on the standby before
the promotion, the streamer starts at that checkpoint and these segments are never archived."""

from __future__ import annotations

import contextlib
import threading

import psycopg
import pytest

from advisoros_db.backup import Target
from advisoros_db.cluster import Cluster
from advisoros_db.cluster import failover as failover_ops
from advisoros_db.cluster.node import Node
from advisoros_db.errors import ClusterError
from advisoros_db.settings import Settings
from advisoros_db.targets import embedded_cluster
from tests.backup.conftest import (
    backups_on_primary,
    current_lsn,
    db_url,
    execute,
    server_time,
    timeline,
)
from tests.routing.conftest import wait_for
from tests.support import scratch_path

pytestmark = [pytest.mark.replicas, pytest.mark.slow]


class Writer(threading.Thread):
    """Commits one row per transaction on whichever node is the primary, reconnecting through
    the failover; `acked` holds the ids whose COMMIT returned."""

    def __init__(self, cluster: Cluster) -> None:
        super().__init__(daemon=True)
        self.cluster = cluster
        self.acked: list[int] = []
        self.stopping = threading.Event()

    def _connect(self) -> psycopg.Connection[tuple[object, ...]] | None:
        try:
            url = self.cluster.info().primary_url  # None while no node is recorded as primary
            conn = psycopg.connect(url, autocommit=True, connect_timeout=3)
        except (ClusterError, psycopg.Error, ValueError, OSError):
            return None
        row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
        if row != (False,):
            conn.close()
            return None
        return conn

    def run(self) -> None:
        conn = None
        next_id = 0
        while not self.stopping.is_set():
            if conn is None:
                conn = self._connect()
                if conn is None:
                    self.stopping.wait(0.05)
                    continue
            next_id += 1
            try:
                conn.execute("INSERT INTO acks VALUES (%s)", (next_id,))
            except psycopg.Error:
                # Not acknowledged: it may or may not have committed, and counts for nothing.
                with contextlib.suppress(psycopg.Error):
                    conn.close()
                conn = None
                continue
            self.acked.append(next_id)
        if conn is not None:
            conn.close()

    def wait_more(self, count: int, what: str) -> None:
        target = len(self.acked) + count
        wait_for(lambda: len(self.acked) >= target, timeout=120, what=what)


def rows(url: str, query: str) -> list[object]:
    with psycopg.connect(url, autocommit=True) as conn:
        return [r[0] for r in conn.execute(query).fetchall()]


def test_commits_made_before_the_archive_follows_the_new_primary_are_restorable(
    one_replica: Settings, stop_after: list[tuple[Node, object]]
) -> None:
    settings = one_replica
    cluster = embedded_cluster(settings)
    old = db_url(cluster.url("primary"))
    execute(
        old,
        "CREATE TABLE acks (id bigint PRIMARY KEY)",
        "CREATE TABLE marks (n int PRIMARY KEY, name text NOT NULL)",
    )
    record = backups_on_primary(settings).create()  # starts the WAL streamer too
    writer = Writer(cluster)
    writer.start()
    try:
        writer.wait_more(50, "writes on the old primary")
        # What `advisoros-db failover` does, with the former gap made certain in its middle.
        archive = backups_on_primary(settings)
        failover_ops.failover(cluster, "replica1", prepare=archive.reserve_on_standby)
        new = db_url(cluster.url("replica1"))
        assert timeline(new) == 2
        writer.wait_more(20, "writes on the new primary")
        execute(new, "INSERT INTO marks VALUES (1, 'in the gap')")
        acked_before_noted = list(writer.acked)
        noted = server_time(new)
        execute(new, "INSERT INTO marks VALUES (2, 'later in the gap')")
        with psycopg.connect(new, autocommit=True) as conn:
            for n in range(3, 6):  # three more segments
                conn.execute("INSERT INTO marks VALUES (%s, 'another segment')", (n,))
                conn.execute("SELECT pg_switch_wal()")
            conn.execute("CHECKPOINT")
        writer.wait_more(20, "more writes in the gap")
        backups_on_primary(settings).stream()  # re-pointed at the new primary
        writer.wait_more(50, "writes after the archive follows")
    finally:
        writer.stopping.set()
        writer.join(60)
    assert not writer.is_alive()
    acked = set(writer.acked)
    archive = backups_on_primary(settings)
    archive.wait_archived(current_lsn(new), timeout=120)

    latest = archive.restore(
        scratch_path("advisoros-handover-latest-") / "data",
        backup_id=record.id,
        keep_running=True,
    )
    stop_after.append((latest.node, cluster))
    restored = set(rows(db_url(latest.url), "SELECT id FROM acks"))
    assert acked - restored == set(), "acknowledged commits missing from the newest point"
    assert rows(db_url(latest.url), "SELECT n FROM marks ORDER BY n") == [1, 2, 3, 4, 5]

    inside = archive.restore(
        scratch_path("advisoros-handover-gap-") / "data",
        backup_id=record.id,
        target=Target(time=noted),
        keep_running=True,
    )
    stop_after.append((inside.node, cluster))
    assert rows(db_url(inside.url), "SELECT name FROM marks") == ["in the gap"]
    at_noted = set(rows(db_url(inside.url), "SELECT id FROM acks"))
    assert set(acked_before_noted) - at_noted == set()
