"""Promotion on an own small cluster (it cannot be undone): noticed, reported, DR takes over writes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from advisoros_db.cluster import Cluster
from advisoros_db.routing import Router, nodes_from
from advisoros_db.tenancy import APP_ROLE
from tests.routing.conftest import FAST
from tests.support import scratch_path

pytestmark = [pytest.mark.replicas, pytest.mark.slow]

WHERE = text("SELECT inet_server_port(), pg_is_in_recovery()")


@pytest.fixture
def own_cluster(cluster: Cluster) -> Iterator[Cluster]:
    own = Cluster(scratch_path("advisoros-router-") / "home", app_role=APP_ROLE)
    try:
        own.up(1)
        yield own
    finally:
        own.destroy()


def test_a_promoted_replica_is_reported_and_a_dr_replica_waits_for_promotion(
    own_cluster: Cluster,
) -> None:
    primary = own_cluster.url("primary", database="postgres")
    replica = own_cluster.url("replica1", database="postgres")
    replica_port = own_cluster.node("replica1").port
    with (
        Router(nodes_from(primary, [replica]), FAST, monitor=False) as reads,
        Router(nodes_from(primary, dr_url=replica), FAST, monitor=False) as with_dr,
    ):
        with reads.session("read") as s:
            assert s.execute(WHERE).one() == (replica_port, True)
        with with_dr.session("read") as s:
            assert s.execute(WHERE).one()[1] is False, "an unpromoted DR replica takes no reads"
        with with_dr.session("write") as s:
            assert s.execute(WHERE).one()[1] is False

        own_cluster.kill_node("primary")
        own_cluster.promote("replica1")

        report = reads.probe()
        assert any("promoted" in w for w in report["warnings"])
        node = next(n for n in report["nodes"] if n["name"] == "replica1")
        assert node["server_role"] == "primary" and node["usable_for_reads"] is False
        assert report["primary"]["isHealthy"] is False

        with_dr.probe()
        with with_dr.session("write") as s:
            s.execute(text("CREATE TABLE after_failover (v int)"))
            assert s.execute(WHERE).one() == (replica_port, False)
        assert with_dr.health()["primary"] == {
            "isHealthy": True,
            "latencyMs": with_dr.health()["primary"]["latencyMs"],
            "node": "dr",
        }
