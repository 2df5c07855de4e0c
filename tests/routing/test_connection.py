"""`router.connection(...)`, the psycopg fast path: placement, read-only, tenants, faults, tokens."""

from __future__ import annotations

import asyncio
import contextvars
import uuid

import psycopg
import pytest

from advisoros_db.cluster import Cluster
from advisoros_db.errors import PermissionDenied, ReadOnlyViolation, UniqueViolation
from advisoros_db.routing import AsyncRouter, NodeConfig, Router, RoutingError, nodes_from
from advisoros_db.routing.metrics import total
from advisoros_db.urls import port_of
from tests.routing.conftest import FAST, ONE_SHOT, wait_for
from tests.routing.reads import BackgroundReads, through_connection

WHERE = "SELECT inet_server_port(), pg_is_in_recovery()"
INSERT = "INSERT INTO items (organization_id, v) VALUES (%s, %s)"
CTE_INSERT = "WITH w AS (INSERT INTO items (v) VALUES (%s) RETURNING 1) SELECT * FROM w"
FIND = "SELECT count(*), inet_server_port() FROM items WHERE v = %s"
READ = "SELECT inet_server_port(), count(*) FROM items"


def count_of(url: str, marker: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM items WHERE v = %s", (marker,)).fetchone()
    assert row is not None
    return int(row[0])


def test_each_kind_runs_where_it_should(admin_nodes: tuple[NodeConfig, ...]) -> None:
    primary, replica1, replica2 = admin_nodes
    nodes = nodes_from(
        primary.url, [replica1.url], analytics_url=replica2.url, background_url=replica1.url
    )
    with Router(nodes, ONE_SHOT, monitor=False) as router:
        for kind in ("write", "transactional"):
            with router.connection(kind) as conn:
                assert conn.execute(WHERE).fetchone() == (port_of(primary.url), False)
                assert conn.node == "primary"
        expected = {"read": replica1, "analytics": replica2, "background": replica1}
        for kind, node in expected.items():
            with router.connection(kind) as conn:
                assert conn.execute(WHERE).fetchone() == (port_of(node.url), True)
        counts = router.core.metrics.counts()
    assert total(counts, "advisoros_router_queries", kind="analytics", node="analytics") == 1
    assert total(counts, "advisoros_router_queries", kind="write", node="primary") == 1


def test_a_read_connection_cannot_write_anywhere(
    admin_nodes: tuple[NodeConfig, ...], server_admin_url: str
) -> None:
    marker = f"ro-{uuid.uuid4().hex}"
    # Reads fall back to the primary here, where only BEGIN READ ONLY stands in the way.
    with Router(admin_nodes[:1], FAST, monitor=False) as router:
        with (
            pytest.raises(ReadOnlyViolation, match="nothing was sent"),
            router.connection("read") as conn,
        ):
            conn.execute(INSERT, (None, marker))
        with pytest.raises(ReadOnlyViolation, match="read-only"), router.connection("read") as conn:
            assert conn.node == "primary"
            conn.execute(CTE_INSERT, (marker,))
        # The failed transaction was rolled back; the pooled connection is clean for the next one.
        with router.connection("read") as conn:
            assert conn.execute("SELECT current_setting('transaction_read_only')").fetchone() == (
                "on",
            )
    with (
        Router(admin_nodes, ONE_SHOT, monitor=False) as router,
        pytest.raises(ReadOnlyViolation, match="read-only"),
        router.connection("read") as conn,
    ):
        assert conn.node != "primary"
        conn.execute(CTE_INSERT, (marker,))
    assert count_of(server_admin_url, marker) == 0


def test_connections_are_tenant_scoped_per_transaction(app_nodes: tuple[NodeConfig, ...]) -> None:
    org_a, org_b = uuid.uuid4(), uuid.uuid4()
    marker = f"tenant-{uuid.uuid4().hex}"
    with Router(app_nodes, FAST) as router:
        for org in (org_a, org_a, org_b):
            with router.connection("write", organization_id=org) as conn:
                conn.execute(INSERT, (org, marker))
        # Row-level security refuses a row for another tenant.
        with (
            pytest.raises(PermissionDenied, match="row-level security"),
            router.connection("write", organization_id=org_a) as conn,
        ):
            conn.execute(INSERT, (org_b, marker))
        for org, expected in ((org_a, 2), (org_b, 1)):
            with router.connection("read", organization_id=org) as conn:
                assert conn.execute(FIND, (marker,)).fetchone()[0] == expected  # type: ignore[index]
                setting = conn.execute("SELECT current_setting('app.organization_id')").fetchone()
                assert setting == (str(org),)
        # Transaction-local: the same pooled connections carry no tenant afterwards.
        for kind in ("read", "write"):
            with router.connection(kind) as conn:
                assert conn.execute(FIND, (marker,)).fetchone()[0] == 0  # type: ignore[index]
                setting = conn.execute(
                    "SELECT current_setting('app.organization_id', true)"
                ).fetchone()
                assert setting in ((None,), ("",))


def test_writes_commit_leave_a_token_and_errors_roll_back(
    admin_nodes: tuple[NodeConfig, ...], server_admin_url: str
) -> None:
    marker = f"commit-{uuid.uuid4().hex}"
    with Router(admin_nodes, FAST, monitor=False) as router:
        with router.connection("write") as conn:
            conn.execute(INSERT, (None, marker))
        assert conn.token is not None and router.token == conn.token
        with pytest.raises(ZeroDivisionError), router.connection("write") as conn:
            conn.execute(INSERT, (None, marker))
            raise ZeroDivisionError
        with pytest.raises(UniqueViolation), router.connection("write") as conn:
            conn.execute("INSERT INTO items (id, v) VALUES (-1, %s), (-1, %s)", (marker, marker))
    assert count_of(server_admin_url, marker) == 1


@pytest.mark.replicas
def test_killing_a_replica_under_connection_reads_fails_no_read(
    cluster: Cluster, admin_nodes: tuple[NodeConfig, ...], revive: list[str]
) -> None:
    replica1_port = cluster.node("replica1").port
    cluster.checkpoint("replica1")  # its restart replays only WAL written from here
    with (
        Router(admin_nodes, FAST) as router,
        BackgroundReads(through_connection(router, READ)) as load,
    ):
        wait_for(lambda: load.ok > 50 and replica1_port in load.ports(), what="load on replica1")
        revive.append("replica1")
        cluster.kill_node("replica1")
        wait_for(lambda: router.core.snapshot.node("replica1").ejected, what="ejection")
        served_before = load.ok
        wait_for(lambda: load.ok > served_before + 100, what="reads continue")
        cluster.start_node("replica1")
        wait_for(lambda: not router.core.snapshot.node("replica1").ejected, what="return")
        back = load.ok
        wait_for(lambda: replica1_port in load.ports(back), what="reads on the returned replica")
        counts = router.core.metrics.counts()
    assert load.failures == [], f"{len(load.failures)} reads failed: {load.failures[:3]}"
    assert total(counts, "advisoros_router_ejections", node="replica1") >= 1


@pytest.mark.replicas
def test_writes_then_token_reads_are_never_stale_with_a_paused_replica(
    admin_nodes: tuple[NodeConfig, ...], replica1_paused: int
) -> None:
    stale: list[int] = []
    ports: set[int] = set()
    with Router(admin_nodes, FAST) as router:
        for i in range(300):
            marker = f"fast-ryw-{i}-{uuid.uuid4().hex[:6]}"
            with router.connection("write") as conn:
                conn.execute(INSERT, (None, marker))
            token = str(conn.token)

            def read(token: str = token, marker: str = marker) -> tuple[int, int]:
                # A fresh context: only the token passed along (as in a header) applies.
                with router.connection("read", token=token) as rc:
                    row = rc.execute(FIND, (marker,)).fetchone()
                    assert row is not None
                    return int(row[0]), int(row[1])

            found, where = contextvars.Context().run(read)
            ports.add(where)
            if found != 1:
                stale.append(i)
        counts = router.core.metrics.counts()
    assert stale == [], f"stale reads at iterations {stale[:10]}"
    assert replica1_paused not in ports, "the paused replica served a read"
    assert total(counts, "advisoros_router_queries", kind="read", node="replica2") > 0


def test_a_write_that_fails_on_a_dead_primary_is_not_retried(
    admin_nodes: tuple[NodeConfig, ...],
) -> None:
    with Router(admin_nodes, FAST, monitor=False) as router:
        with (
            pytest.raises(RoutingError, match="not retried"),
            router.connection("write") as conn,
        ):
            # Our own backend dying mid-transaction stands in for a primary crash.
            conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        assert router.core.snapshot.node("primary").ejected
        retries = router.core.metrics.counts().get("advisoros_router_retries", {})
    assert retries == {}


def test_the_async_twin_routes_scopes_and_keeps_tokens(
    admin_nodes: tuple[NodeConfig, ...], replica1_paused: int
) -> None:
    primary_port = port_of(admin_nodes[0].url)

    async def scenario() -> None:
        router = AsyncRouter(admin_nodes, FAST)
        try:
            for i in range(20):
                marker = f"async-fast-{i}-{uuid.uuid4().hex}"
                async with router.connection("write") as conn:
                    await conn.execute(INSERT, (None, marker))
                    cur = await conn.execute(WHERE)
                    assert await cur.fetchone() == (primary_port, False)
                assert router.token == conn.token and conn.token is not None
                async with router.connection("read") as rc:
                    cur = await rc.execute(FIND, (marker,))
                    found, where = await cur.fetchone()  # type: ignore[misc]
                assert found == 1 and where != replica1_paused
            with pytest.raises(ReadOnlyViolation):
                async with router.connection("read") as rc:
                    await rc.execute(INSERT, (None, "never"))
        finally:
            await router.aclose()

    asyncio.run(scenario())


def test_the_async_router_never_probes_in_the_event_loop(
    admin_nodes: tuple[NodeConfig, ...],
) -> None:
    """A primary whose probe hangs (a listener that accepts and never answers) must not hold the
    event loop: the router is built, and other tasks run, while its first probe is stuck."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    hung_port = listener.getsockname()[1]
    hung = admin_nodes[0].url.replace(f":{port_of(admin_nodes[0].url)}/", f":{hung_port}/")

    async def scenario() -> None:
        router = AsyncRouter(nodes_from(hung, [admin_nodes[1].url]), FAST, monitor=False)
        try:
            # Still stuck in the probe's connect: nothing answered yet.
            assert not router._probed.is_set()
            ticks = 0
            for _ in range(5):
                await asyncio.sleep(0)
                ticks += 1
            assert ticks == 5, "the loop ran other work meanwhile"
            listener.close()  # the hung probe now fails: the primary is reported down
            report = await router.aprobe()
            assert report["primary"]["available"] is False
            async with router.connection("read") as rc:
                cur = await rc.execute("SELECT pg_is_in_recovery()")
                assert await cur.fetchone() == (True,)
        finally:
            await router.aclose()

    try:
        asyncio.run(scenario())
    finally:
        listener.close()
