"""Helpers shared by tests: the session's servers and throwaway databases on them."""

from __future__ import annotations

import atexit
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from advisoros_db.cluster import Cluster
from advisoros_db.errors import ClusterError
from advisoros_db.urls import masked_repr, with_database

TEMPLATE = "advisoros_template"
# Four large firms and 2,000 small ones: the planner's statistics for the plan and oracle tests.
DATASET = Path(__file__).with_name("plans") / "dataset.sql"
EXTERNAL_URL = os.environ.get("ADVISOROS_TEST_DATABASE_URL")
# Added to cluster/tuning.py's settings for every server the tests start (tests/conftest.py).
# fsync off: each test's database is created and dropped, each of those a checkpoint that fsyncs
# every file written since the last one, and on the shared disk those waits were a large part of
# the suite's time (docs/testing.md). What a test checks does not change: a server a test kills
# still finds all it wrote in the operating system's cache and recovers from its WAL; only a
# crash of the machine would lose writes, and no test survives that anyway.
THROWAWAY_SETTINGS = {"fsync": "off"}


@dataclass
class PgServer:
    """The session's servers. `admin_url` and `app_url` point at the `postgres` database."""

    admin_url: str
    app_url: str
    replica_urls: list[str] = field(default_factory=list)
    cluster: Cluster | None = None

    __repr__ = masked_repr


@dataclass
class PgDatabase:
    """One throwaway database, migrated to head, on the session's servers."""

    name: str
    admin_url: str
    app_url: str
    replica_urls: list[str]
    server: PgServer

    __repr__ = masked_repr


def scratch_path(prefix: str) -> Path:
    # /tmp and world-traversable: a root test run starts the server as an unprivileged user.
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    # Removed when the test process ends: clusters destroy their home, but not the backup
    # repositories and restore targets beside it (126 MB per failover test was left in /tmp).
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def create_database(server: PgServer, name: str, template: str | None = None) -> None:
    """A new database, copied file by file from `template` (template1 by default).

    FILE_COPY, not PostgreSQL 15+'s default WAL_LOG: WAL_LOG writes every block of the template
    to the WAL (2.6 MB per clone of the migrated template, measured), which the replicas must
    replay, and a replica restarted after hundreds of tests replays all of it since its last
    restartpoint. FILE_COPY logs one record (about 0.03 MB) at the cost of two checkpoints on the
    primary; on this machine a create plus drop took no longer (docs/testing.md).
    """
    with psycopg.connect(server.admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                sql.Identifier(name), sql.Identifier(template or "template1")
            )
        )


def drop_database(server: PgServer, name: str) -> None:
    with psycopg.connect(server.admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


class Dropper:
    """Drops the tests' throwaway databases on a thread of its own, one after another, so the
    next test starts while the server drops the last one's (docs/testing.md has the figures). No
    test reads another's database, so when a drop happens changes nothing a test checks.
    `drain()`, before the servers stop, waits for every drop and raises the first that failed."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[PgServer, str]] = queue.Queue()
        self._failures: list[BaseException] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def drop(self, server: PgServer, name: str) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="dropper", daemon=True)
                self._thread.start()
        self._queue.put((server, name))

    def _run(self) -> None:
        while True:
            server, name = self._queue.get()
            try:
                drop_database(server, name)
            except BaseException as exc:  # raised by drain(), in the session's teardown
                self._failures.append(exc)
            finally:
                self._queue.task_done()

    def drain(self) -> None:
        self._queue.join()
        if self._failures:
            raise self._failures[0]


DROPPER = Dropper()


def database_on(server: PgServer, name: str) -> PgDatabase:
    return PgDatabase(
        name=name,
        admin_url=with_database(server.admin_url, name),
        app_url=with_database(server.app_url, name),
        replica_urls=[with_database(u, name) for u in server.replica_urls],
        server=server,
    )


def revive_replica(cluster: Cluster, name: str, timeout_s: float = 120.0) -> None:
    """Bring a replica a test stopped, killed or paused back for the tests after it: running,
    replaying, streaming. A replica that will not come back (its recovery outlasted `pg_ctl`'s
    wait, or it failed) is rebuilt from a fresh base backup on the same port, so one slow restart
    cannot turn into errors in unrelated tests."""
    try:
        cluster.start_node(name)  # a no-op when it runs
        deadline = time.monotonic() + timeout_s
        while not _streams(cluster, name):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} does not stream after {timeout_s:.0f} s")
            time.sleep(0.2)
        cluster.resume_replay(name)
    except (ClusterError, psycopg.Error, TimeoutError) as exc:
        # Not a warning: the suite turns warnings into errors, and this one is handled.
        print(f"{name} did not come back ({exc}); rebuilding it", file=sys.stderr)
        cluster.rebuild_replica(name)


def _streams(cluster: Cluster, name: str) -> bool:
    try:
        with psycopg.connect(cluster.url(name), autocommit=True, connect_timeout=5) as conn:
            row = conn.execute("SELECT status FROM pg_stat_wal_receiver").fetchone()
    except psycopg.OperationalError:
        return False  # still starting up (recovering to a consistent state), or down
    return row == ("streaming",)


def wait_until_replay_paused(replica_url: str, timeout_s: float = 120.0) -> None:
    """`pg_wal_replay_pause()` only requests a pause: wait until replay has really stopped, so a
    write made next is certain to stay unreplayed."""
    with psycopg.connect(replica_url, autocommit=True) as replica:
        deadline = time.monotonic() + timeout_s
        while replica.execute("SELECT pg_get_wal_replay_pause_state()").fetchone() != ("paused",):
            if time.monotonic() > deadline:
                raise TimeoutError(f"replay did not pause within {timeout_s} s")
            time.sleep(0.05)
