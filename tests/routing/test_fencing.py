"""Fencing on an own small cluster (promotion cannot be undone): after a DR failover the old
primary comes back writable on an older timeline and gets no write, from a running router or a
fresh one; a promoted replica stops serving reads."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import replace

import psycopg
import pytest
from sqlalchemy import text

from advisoros_db.cluster import Cluster
from advisoros_db.routing import Router, RoutingError, nodes_from, survey
from advisoros_db.tenancy import APP_ROLE
from tests.routing.conftest import FAST, wait_for
from tests.support import scratch_path

pytestmark = [pytest.mark.replicas, pytest.mark.slow]

WHERE = text("SELECT inet_server_port(), pg_is_in_recovery()")
SETUP = "CREATE TABLE marks (v text NOT NULL); GRANT SELECT, INSERT ON marks TO advisoros_app"


@pytest.fixture
def own_cluster(cluster: Cluster) -> Iterator[Cluster]:
    own = Cluster(scratch_path("advisoros-fence-") / "home", app_role=APP_ROLE)
    try:
        own.up(2)
        yield own
    finally:
        own.destroy()


def _write(router: Router, marker: str, count: int) -> list[int]:
    """`count` routed write sessions; the port each one ran on."""
    ports = []
    for _ in range(count):
        with router.session("write") as s:
            s.execute(text("INSERT INTO marks (v) VALUES (:v)"), {"v": marker})
            ports.append(s.execute(WHERE).one()[0])
    return ports


def _count(url: str, marker: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM marks WHERE v = %s", (marker,)).fetchone()
    assert row is not None
    return int(row[0])


def test_an_old_primary_back_after_a_dr_failover_is_fenced(
    own_cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    admin = {n: own_cluster.url(n) for n in ("primary", "replica1", "replica2")}
    with psycopg.connect(admin["primary"], autocommit=True) as conn:
        conn.execute(SETUP)
    app = {n: own_cluster.url(n, app=True) for n in admin}
    nodes = nodes_from(app["primary"], [app["replica1"]], dr_url=app["replica2"])
    primary_port = own_cluster.node("primary").port
    dr_port = own_cluster.node("replica2").port

    with Router(nodes, FAST, monitor=False) as router:
        assert set(_write(router, "before", 5)) == {primary_port}
        wait_for(lambda: _count(admin["replica2"], "before") == 5, what="DR replayed")

        own_cluster.kill_node("primary")
        own_cluster.promote("replica2")
        router.probe()
        assert set(_write(router, "on-dr", 20)) == {dr_port}, "writes follow the promoted DR"

        # The old primary restarts as a writable server on the old timeline.
        own_cluster.start_node("primary")
        with psycopg.connect(admin["primary"], autocommit=True) as conn:
            assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (False,)
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="advisoros_db.routing"):
            report = router.probe()
        assert report["fenced"] == ["primary"]
        assert any("fenced" in r.getMessage() for r in caplog.records), "logged"
        node = {n["name"]: n for n in report["nodes"]}
        assert node["primary"]["fenced"] and node["primary"]["timeline"] == 1
        assert node["dr"]["takes_writes"] and node["dr"]["timeline"] == 2
        assert report["primary"] == {
            "isHealthy": True,
            "latencyMs": report["primary"]["latencyMs"],
            "node": "dr",
        }
        assert any("primary: fenced" in w for w in report["warnings"])
        assert 'advisoros_router_node_fenced{node="primary"} 1.0' in router.metrics_text().decode()
        # Many probes later, writes still go to the DR, never to the fenced server.
        for _ in range(5):
            router.probe()
            assert set(_write(router, "after", 10)) == {dr_port}
        # replica1 still follows the fenced old primary's timeline: no read goes there.
        assert node["replica1"]["usable_for_reads"] is False
        for _ in range(10):
            with router.session("read") as s:
                assert s.execute(WHERE).one() == (dr_port, False)
        with router.connection("read") as conn:
            assert conn.execute("SELECT inet_server_port()").fetchone() == (dr_port,)

    # A fresh router (and the library's survey) reach the same verdict from the servers alone.
    verdict = survey(nodes)
    assert verdict.primary == "dr" and set(verdict.fenced) == {"primary"}
    assert verdict.newest_timeline == 2
    with Router(nodes, FAST, monitor=False) as fresh:
        assert fresh.health()["fenced"] == ["primary"]
        assert set(_write(fresh, "fresh", 10)) == {dr_port}

    assert _count(admin["primary"], "after") == 0, "no write reached the fenced server"
    assert _count(admin["primary"], "fresh") == 0
    assert _count(admin["primary"], "on-dr") == 0
    assert _count(admin["replica2"], "after") == 50
    assert _count(admin["replica2"], "before") == 5, "the DR kept what it had replayed"


def test_a_fenced_primary_without_a_reachable_successor_takes_no_writes(
    own_cluster: Cluster,
) -> None:
    """The router remembers the newest timeline: with the promoted node gone too, the old
    primary still gets no write (writes are refused, saying why)."""
    app = {n: own_cluster.url(n, app=True) for n in ("primary", "replica1", "replica2")}
    nodes = nodes_from(app["primary"], [app["replica1"]], dr_url=app["replica2"])
    with Router(nodes, FAST, monitor=False) as router:
        own_cluster.kill_node("primary")
        own_cluster.promote("replica2")
        router.probe()
        own_cluster.start_node("primary")
        own_cluster.kill_node("replica2")
        report = router.probe()
        assert report["fenced"] == ["primary"]
        assert report["primary"]["isHealthy"] is False
        with pytest.raises(RoutingError, match="fenced"), router.session("write") as s:
            s.execute(text("SELECT 1"))
        with pytest.raises(RoutingError, match="fenced"), router.connection("write") as c:
            c.execute("SELECT 1")


def test_a_promoted_read_replica_serves_no_reads_and_takes_the_writes(
    own_cluster: Cluster,
) -> None:
    """Promotion starts a newer timeline: writes follow it (as after `advisoros-db failover`),
    the old primary is fenced, and the promoted node serves no read as a replica."""
    app = {n: own_cluster.url(n, app=True) for n in ("primary", "replica1", "replica2")}
    nodes = nodes_from(app["primary"], [app["replica1"], app["replica2"]])
    replica1_port = own_cluster.node("replica1").port
    with (
        Router(nodes, FAST, monitor=False) as router,
        Router(nodes, replace(FAST, check_every_read=True), monitor=False) as strict,
    ):
        own_cluster.promote("replica1")
        # check_every_read: not one read on the promoted node, right after the promotion.
        for _ in range(10):
            with strict.session("read") as s:
                assert s.execute(WHERE).one()[0] != replica1_port
            with strict.connection("read") as conn:
                assert conn.execute("SELECT inet_server_port()").fetchone() != (replica1_port,)
        assert strict.core.snapshot.node("replica1").ejected
        # No probe yet. Once the last probe no longer proves the bound, a read checks in-band in
        # its BEGIN round trip, sees the promotion and ejects the node at once.
        wait_for(
            lambda: time.monotonic() >= router.core.routes.fresh["replica1"],
            what="the last probe's proof expired",
        )
        for _ in range(10):
            with router.session("read") as s:
                assert s.execute(WHERE).one()[0] != replica1_port
            with router.connection("read") as conn:
                assert conn.execute("SELECT inet_server_port()").fetchone() != (replica1_port,)
        assert router.core.snapshot.node("replica1").ejected
        report = router.probe()
        node = {n["name"]: n for n in report["nodes"]}
        assert node["replica1"]["usable_for_reads"] is False
        assert report["fenced"] == ["primary"]
        assert report["primary"]["node"] == "replica1"
        for _ in range(20):
            with router.session("read") as s:
                port, in_recovery = s.execute(WHERE).one()
            assert (port, in_recovery) != (replica1_port, True)
        with router.session("write") as s:
            assert s.execute(WHERE).one() == (replica1_port, False)


def test_two_promotions_onto_the_same_timeline_the_later_one_takes_the_writes(
    own_cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    """The primary dies, the DR is promoted (timeline 2) and takes writes; then the read replica,
    still on the old history, is promoted too and also picks timeline 2. The router saw it a
    standby after the DR took writes, so it was promoted last: it takes the writes and the DR is
    fenced. A fresh router cannot order the two and refuses writes to both."""
    admin = {n: own_cluster.url(n) for n in ("primary", "replica1", "replica2")}
    with psycopg.connect(admin["primary"], autocommit=True) as conn:
        conn.execute(SETUP)
    app = {n: own_cluster.url(n, app=True) for n in admin}
    nodes = nodes_from(app["primary"], [app["replica1"]], dr_url=app["replica2"])
    replica1_port = own_cluster.node("replica1").port
    dr_port = own_cluster.node("replica2").port
    with Router(nodes, FAST, monitor=False) as router:
        own_cluster.kill_node("primary")
        own_cluster.promote("replica2")
        router.probe()
        assert set(_write(router, "on-dr", 10)) == {dr_port}
        router.probe()  # replica1 seen a standby while the DR takes writes
        own_cluster.promote("replica1")
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="advisoros_db.routing"):
            report = router.probe()
        node = {n["name"]: n for n in report["nodes"]}
        assert node["replica1"]["timeline"] == node["dr"]["timeline"] == 2, "the same timeline"
        assert report["fenced"] == ["dr"]
        assert report["primary"]["node"] == "replica1"
        assert any("'dr' fenced" in r.getMessage() for r in caplog.records), "logged"
        for _ in range(3):
            router.probe()
            assert set(_write(router, "on-replica1", 10)) == {replica1_port}
        # The winner gone, the fenced DR still gets no write.
        own_cluster.kill_node("replica1")
        report = router.probe()
        assert "dr" in report["fenced"]
        with pytest.raises(RoutingError), router.session("write") as s:
            s.execute(text("INSERT INTO marks (v) VALUES ('lost')"))
        own_cluster.start_node("replica1")

    with (
        Router(nodes, FAST, monitor=False) as fresh,
        pytest.raises(RoutingError, match="did not see which was promoted last"),
        fresh.session("write") as s,
    ):
        s.execute(text("INSERT INTO marks (v) VALUES ('fresh')"))
    assert _count(admin["replica2"], "on-replica1") == 0, "no write reached the fenced DR"
    assert _count(admin["replica2"], "lost") == 0
    assert _count(admin["replica1"], "on-replica1") == 30
    assert _count(admin["replica1"], "fresh") == _count(admin["replica2"], "fresh") == 0
