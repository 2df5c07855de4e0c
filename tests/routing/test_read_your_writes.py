"""Read-your-writes by WAL position, with one replica's replay paused: never a stale read."""

from __future__ import annotations

import asyncio
import contextvars
import uuid

import pytest
from sqlalchemy import text

from advisoros_db.errors import ReadOnlyViolation
from advisoros_db.routing import AsyncRouter, ConsistencyToken, NodeConfig, Router
from advisoros_db.routing.metrics import total
from tests.routing.conftest import FAST

INSERT = text("INSERT INTO items (v) VALUES (:v)")
FIND = text("SELECT count(*), inet_server_port() FROM items WHERE v = :v")


@pytest.mark.replicas
def test_a_thousand_writes_then_reads_with_the_token_are_never_stale(
    admin_nodes: tuple[NodeConfig, ...], replica1_paused: int
) -> None:
    stale: list[int] = []
    ports: set[int] = set()
    with Router(admin_nodes, FAST) as router:
        for i in range(1000):
            marker = f"ryw-{i}-{uuid.uuid4().hex[:6]}"
            with router.session("write") as s:
                s.execute(INSERT, {"v": marker})
            token = str(s.token)

            def read(token: str = token, marker: str = marker) -> tuple[int, int]:
                # A fresh context: only the token passed along (as in a header) applies.
                with router.session("read", token=token) as rs:
                    found, where = rs.execute(FIND, {"v": marker}).one()
                    return found, where

            found, where = contextvars.Context().run(read)
            ports.add(where)
            if found != 1:
                stale.append(i)
        counts = router.core.metrics.counts()
    assert stale == [], f"stale reads at iterations {stale[:10]}"
    assert replica1_paused not in ports, "the paused replica served a read"
    replica_reads = total(counts, "advisoros_router_queries", kind="read", node="replica2")
    assert replica_reads > 0, "caught-up replica2 should serve token reads, not only the primary"


def test_the_token_is_applied_automatically_within_a_context(
    admin_nodes: tuple[NodeConfig, ...], replica1_paused: int
) -> None:
    with Router(admin_nodes, FAST) as router:
        marker = f"ctx-{uuid.uuid4().hex}"
        with router.session("write") as s:
            s.execute(INSERT, {"v": marker})
        assert router.token == s.token and s.token is not None
        with router.session("read") as rs:
            assert rs.execute(FIND, {"v": marker}).one()[0] == 1
        # A token carried into another context (say, a background job) keeps the guarantee.
        carried = str(router.token)

        def job() -> int:
            assert router.token is None
            with router.consistent_with(carried), router.session("background") as js:
                return int(js.execute(FIND, {"v": marker}).one()[0])

        assert contextvars.Context().run(job) == 1
        assert ConsistencyToken.parse(carried) == s.token


def test_async_sessions_share_the_routing(admin_nodes: tuple[NodeConfig, ...]) -> None:
    primary_port = int(admin_nodes[0].url.rsplit(":", 1)[1].split("/")[0])

    async def scenario() -> None:
        router = AsyncRouter(admin_nodes, FAST)
        try:
            marker = f"async-{uuid.uuid4().hex}"
            async with router.session("write") as s:
                await s.execute(INSERT, {"v": marker})
                assert (await s.execute(text("SELECT inet_server_port()"))).scalar() == primary_port
            assert router.token is not None
            async with router.session("read") as rs:
                found, where = (await rs.execute(FIND, {"v": marker})).one()
                in_recovery = (await rs.execute(text("SELECT pg_is_in_recovery()"))).scalar()
            assert found == 1
            assert in_recovery is True or where == primary_port
            with pytest.raises(ReadOnlyViolation):
                async with router.session("read") as rs:
                    await rs.execute(INSERT, {"v": marker})
        finally:
            await router.aclose()

    asyncio.run(scenario())
