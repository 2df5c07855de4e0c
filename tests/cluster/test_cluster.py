"""The embedded cluster manager against real servers."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from advisoros_db import embedded
from advisoros_db.cluster import Cluster
from advisoros_db.errors import ClusterError
from advisoros_db.settings import Settings
from advisoros_db.tenancy import APP_ROLE
from tests.support import PgServer, revive_replica, scratch_path, wait_until_replay_paused


def _wait_for(predicate: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_replicas_stream_a_row_written_on_the_primary(server: PgServer, cluster: Cluster) -> None:
    with psycopg.connect(server.admin_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS stream_probe (v text)")
        marker = f"m{time.monotonic_ns()}"
        conn.execute("INSERT INTO stream_probe VALUES (%s)", (marker,))
    assert len(server.replica_urls) == 2
    for url in server.replica_urls:

        def seen(url: str = url) -> bool:
            with psycopg.connect(url) as rconn:
                if rconn.execute("SELECT to_regclass('stream_probe')").fetchone() == (None,):
                    return False
                row = rconn.execute(
                    "SELECT count(*) FROM stream_probe WHERE v = %s", (marker,)
                ).fetchone()
                return row is not None and row[0] == 1

        _wait_for(seen)
        with psycopg.connect(url) as rconn:
            in_recovery = rconn.execute("SELECT pg_is_in_recovery()").fetchone()
            assert in_recovery == (True,)


def test_status_reports_roles_pids_and_lag(cluster: Cluster) -> None:
    nodes = {n.name: n for n in cluster.status()}
    assert nodes["primary"].in_recovery is False
    assert nodes["replica1"].in_recovery is True and nodes["replica2"].in_recovery is True
    assert all(n.running and n.pid for n in nodes.values())
    assert all(n.lag_bytes is not None for n in nodes.values())


@pytest.fixture
def own_cluster() -> Iterator[Cluster]:
    home = scratch_path("advisoros-own-") / "home"
    cluster = Cluster(home, app_role=APP_ROLE)
    yield cluster
    cluster.destroy()


def test_up_is_idempotent_and_recovers_a_killed_server(own_cluster: Cluster) -> None:
    info = own_cluster.up(1)
    pids = {n.name: n.pid for n in own_cluster.status()}
    again = own_cluster.up(1)
    assert again.primary_url == info.primary_url
    assert {n.name: n.pid for n in own_cluster.status()} == pids, "a second up started new servers"

    own_cluster.kill_node("primary")
    assert not next(n for n in own_cluster.status() if n.name == "primary").running
    assert (own_cluster.node("primary").data_dir / "postmaster.pid").exists(), "stale pid file"
    own_cluster.up(1)
    with psycopg.connect(info.primary_url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_credentials_are_private_and_app_role_is_unprivileged(own_cluster: Cluster) -> None:
    info = own_cluster.up(0)
    creds = own_cluster.home / "credentials.json"
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    assert "advisoros_app" in json.dumps(info.app_url)
    with psycopg.connect(info.app_url) as conn:
        row = conn.execute(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        assert row == (False, False)
    with psycopg.connect(info.primary_url) as conn:
        method = conn.execute(
            "SELECT DISTINCT auth_method FROM pg_hba_file_rules WHERE type = 'host'"
        ).fetchall()
        assert method == [("scram-sha-256",)]
        listen = conn.execute("SHOW listen_addresses").fetchone()
        assert listen == ("127.0.0.1",)


def test_pause_resume_and_promote_replica(own_cluster: Cluster) -> None:
    info = own_cluster.up(1)
    own_cluster.pause_replay("replica1")
    wait_until_replay_paused(info.replica_urls[0])
    with psycopg.connect(info.primary_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE paused_probe (v int)")
        row = conn.execute("SELECT pg_current_wal_flush_lsn()::text").fetchone()
    assert row is not None
    with psycopg.connect(info.replica_urls[0], autocommit=True) as conn:
        # Received but not replayed: the pause, not a slow stream, keeps the table away.
        _wait_for(
            lambda: (
                conn.execute("SELECT pg_last_wal_receive_lsn() >= %s::pg_lsn", (row[0],)).fetchone()
                == (True,)
            )
        )
        assert conn.execute("SELECT to_regclass('paused_probe')").fetchone() == (None,)
    own_cluster.resume_replay("replica1")

    def visible() -> bool:
        with psycopg.connect(info.replica_urls[0]) as conn:
            return conn.execute("SELECT to_regclass('paused_probe')").fetchone() != (None,)

    _wait_for(visible)
    own_cluster.promote("replica1")
    with psycopg.connect(own_cluster.url("replica1")) as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (False,)
    with pytest.raises(ClusterError, match="not a replica"):
        own_cluster.pause_replay("replica1")


def _last_checkpoint(url: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT checkpoint_lsn::text FROM pg_control_checkpoint()").fetchone()
    assert row is not None
    return str(row[0])


def test_a_replica_checkpoint_bounds_its_restart_and_a_lost_replica_is_rebuilt(
    own_cluster: Cluster,
) -> None:
    info = own_cluster.up(1)
    primary, replica = info.primary_url, info.replica_urls[0]
    with psycopg.connect(primary, autocommit=True) as conn:
        conn.execute("CREATE TABLE bulk AS SELECT g AS v FROM generate_series(1, 100000) g")
    own_cluster.checkpoint("replica1")
    # The replica's restartpoint is the primary's newest checkpoint: a crash now replays only
    # WAL written after it (a restartpoint can only be taken at a replayed checkpoint record).
    assert _last_checkpoint(replica) == _last_checkpoint(primary)
    own_cluster.kill_node("replica1")
    own_cluster.start_node("replica1")
    # A replica whose data is gone cannot start: revive_replica (the tests' fixture) rebuilds
    # it from a fresh base backup, on the same port, streaming.
    own_cluster.kill_node("replica1")
    shutil.rmtree(own_cluster.node("replica1").data_dir)
    revive_replica(own_cluster, "replica1")
    assert own_cluster.url("replica1") == info.replica_urls[0]
    with psycopg.connect(primary, autocommit=True) as conn:
        conn.execute("INSERT INTO bulk VALUES (-1)")
    with psycopg.connect(replica, autocommit=True) as conn:
        _wait_for(lambda: conn.execute("SELECT count(*) FROM bulk WHERE v = -1").fetchone() == (1,))
        assert conn.execute("SELECT status FROM pg_stat_wal_receiver").fetchone() == ("streaming",)


def test_clear_error_when_the_port_is_taken() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        cluster = Cluster(
            scratch_path("advisoros-port-") / "home", app_role=APP_ROLE, primary_port=port
        )
        with pytest.raises(ClusterError, match=f"port {port}.*taken"):
            cluster.up(0)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_clear_error_when_home_is_not_writable(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(ClusterError, match=r"not writable|cannot create"):
        Cluster(locked / "home", app_role=APP_ROLE).up(0)


def test_clear_error_when_home_cannot_be_created() -> None:
    blocker = scratch_path("advisoros-file-") / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ClusterError, match="cannot create ADVISOROS_HOME"):
        Cluster(blocker / "home", app_role=APP_ROLE).up(0)


def test_commands_keep_a_cluster_started_without_replicas_as_it_is(own_cluster: Cluster) -> None:
    # Regression: `up --replicas 0` followed by any other command (seed, bench, ...) resolved the
    # target with the settings' default and quietly created two replicas by base backup.
    own_cluster.up(0)
    settings = Settings(home=own_cluster.home, embedded_replicas=2, database_url=None)
    target = embedded.start(settings)
    assert target.replica_urls == []
    assert [n.name for n in own_cluster.nodes()] == ["primary"]
