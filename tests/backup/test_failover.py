"""Failover under the router's read load, a fenced old primary, and rejoin with pg_rewind (on an own
cluster: a failover cannot be undone)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from advisoros_db.cli.app import app
from advisoros_db.cluster import Cluster
from advisoros_db.cluster import failover as failover_ops
from advisoros_db.routing import Router, nodes_from
from advisoros_db.tenancy import APP_ROLE
from tests.routing.conftest import FAST, wait_for
from tests.routing.reads import BackgroundReads, through_session
from tests.support import EXTERNAL_URL, scratch_path

pytestmark = [pytest.mark.replicas, pytest.mark.slow]


@pytest.fixture
def dr_cluster() -> Iterator[Cluster]:
    if EXTERNAL_URL:
        pytest.skip("failover runs on an own embedded cluster")
    cluster = Cluster(scratch_path("advisoros-failover-") / "home", app_role=APP_ROLE)
    try:
        cluster.up(2)
        with psycopg.connect(cluster.url("primary", database="postgres"), autocommit=True) as conn:
            conn.execute("CREATE TABLE items (id bigserial PRIMARY KEY, v text)")
            conn.execute("INSERT INTO items (v) SELECT 'before' FROM generate_series(1, 100)")
        yield cluster
    finally:
        cluster.destroy()


def _replayed(url: str, value: str) -> bool:
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=3) as conn:
            row = conn.execute("SELECT count(*) FROM items WHERE v = %s", (value,)).fetchone()
    except (psycopg.OperationalError, psycopg.errors.UndefinedTable):
        return False  # not reachable, or the table not replayed yet
    return row is not None and row[0] > 0


def test_failover_under_read_load_fences_the_primary_and_rejoin_makes_it_a_replica(
    dr_cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster = dr_cluster
    url = {n.name: cluster.url(n.name, database="postgres") for n in cluster.nodes()}
    wait_for(lambda: _replayed(url["replica2"], "before"), what="DR replica caught up")
    monkeypatch.setenv("ADVISOROS_HOME", str(cluster.home))
    monkeypatch.setenv("ADVISOROS_DR_URL", url["replica2"])
    monkeypatch.delenv("ADVISOROS_DATABASE_URL", raising=False)
    nodes = nodes_from(url["primary"], [url["replica1"]], dr_url=url["replica2"])

    def write(value: str) -> bool:
        try:
            with router.session("write") as s:
                s.execute(text("INSERT INTO items (v) VALUES (:v)"), {"v": value})
        except Exception:
            return False
        return True

    with (
        Router(nodes, FAST) as router,
        BackgroundReads(
            through_session(router, "SELECT inet_server_port(), count(*) FROM items")
        ) as load,
    ):
        wait_for(lambda: load.ok > 50, what="read load running")
        result = CliRunner().invoke(app, ["failover"])
        assert result.exit_code == 0, result.output
        assert "replica2 is the primary" in result.output
        # Writes must come back; how fast is a measured figure (scripts/measure_backup.py, goal
        # 10 s), not a wall-clock assert that a busy machine would break.
        wait_for(lambda: write("after failover"), timeout=120, what="writes back")
        served = load.ok
        wait_for(lambda: load.ok > served + 100, what="reads continue after the failover")
        wait_for(lambda: _replayed(url["replica1"], "after failover"), what="replica1 follows")
    assert load.failures == [], f"{len(load.failures)} reads failed: {load.failures[:3]}"
    roles = {n.name: n.role for n in cluster.nodes()}
    assert roles == {"primary": "fenced", "replica1": "replica", "replica2": "primary"}

    # Fenced: even started by hand, the old primary takes no writes.
    cluster.start_node("primary")
    with (
        psycopg.connect(url["primary"], autocommit=True) as conn,
        pytest.raises(psycopg.errors.ReadOnlySqlTransaction),
    ):
        conn.execute("INSERT INTO items (v) VALUES ('split brain')")

    result = CliRunner().invoke(app, ["rejoin", "primary"])
    assert result.exit_code == 0, result.output
    with psycopg.connect(url["replica2"], autocommit=True) as conn:
        conn.execute("INSERT INTO items (v) VALUES ('after rejoin')")
        streaming = conn.execute(
            "SELECT state FROM pg_stat_replication WHERE application_name = 'primary'"
        ).fetchone()
    assert streaming == ("streaming",)
    wait_for(lambda: _replayed(url["primary"], "after rejoin"), what="rejoined node replays")
    with psycopg.connect(url["primary"], autocommit=True) as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
        # The slots its replicas used while it was the primary would hold its WAL forever.
        assert conn.execute("SELECT slot_name FROM pg_replication_slots").fetchall() == []
    assert {n.name: n.role for n in cluster.nodes()}["primary"] == "replica"


def test_failover_refuses_a_node_that_is_not_a_replica(
    dr_cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADVISOROS_HOME", str(dr_cluster.home))
    monkeypatch.delenv("ADVISOROS_DATABASE_URL", raising=False)
    result = CliRunner().invoke(app, ["failover", "--to", "primary"])
    assert result.exit_code == 1
    assert "not a replica" in result.output
    assert {n.name: n.role for n in dr_cluster.nodes()}["primary"] == "primary"


def test_up_after_a_failover_adds_a_replica_under_a_new_name(dr_cluster: Cluster) -> None:
    """Regression: `up` named new replicas replica<count+1>, which after a failover to replica2
    is the primary's name (and its data directory)."""
    failover_ops.failover(dr_cluster, "replica2")
    dr_cluster.up(2)
    roles = {n.name: n.role for n in dr_cluster.nodes()}
    assert roles == {
        "primary": "fenced",
        "replica1": "replica",
        "replica2": "primary",
        "replica3": "replica",
    }
    primary = dr_cluster.url("replica2", database="postgres")
    with psycopg.connect(primary, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM items").fetchone() == (100,)
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (False,)
    wait_for(
        lambda: _replayed(dr_cluster.url("replica3", database="postgres"), "before"),
        what="the new replica streams from the new primary",
    )
