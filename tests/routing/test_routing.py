"""Sessions land where their kind says, checked server-side; read sessions cannot write."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, event, insert, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from advisoros_db.errors import ReadOnlyViolation, TenantError
from advisoros_db.routing import NodeConfig, Router, RoutingError, UnknownKind, nodes_from
from advisoros_db.routing.metrics import total
from tests.routing.conftest import FAST, ONE_SHOT

WHERE = text("SELECT inet_server_port(), pg_is_in_recovery()")


def port(url: str) -> int:
    from advisoros_db.urls import port_of

    return port_of(url)


def test_each_kind_runs_where_it_should(admin_nodes: tuple[NodeConfig, ...]) -> None:
    primary, replica1, replica2 = admin_nodes
    nodes = nodes_from(
        primary.url, [replica1.url], analytics_url=replica2.url, background_url=replica1.url
    )
    with Router(nodes, ONE_SHOT, monitor=False) as router:
        for kind in ("write", "transactional"):
            with router.session(kind) as s:
                assert s.execute(WHERE).one() == (port(primary.url), False)
        with router.session("read") as s:
            assert s.execute(WHERE).one() == (port(replica1.url), True)
        with router.session("analytics") as s:
            assert s.execute(WHERE).one() == (port(replica2.url), True)
        with router.session("background") as s:
            assert s.execute(WHERE).one() == (port(replica1.url), True)
        counts = router.core.metrics.counts()
        assert total(counts, "advisoros_router_queries", kind="analytics", node="analytics") == 1


def test_reads_balance_over_both_replicas(router: Router) -> None:
    seen = set()
    for _ in range(6):
        with router.session("read") as s:
            seen.add(s.execute(WHERE).one())
    assert {in_recovery for _, in_recovery in seen} == {True}
    assert len(seen) == 2, "round-robin should use both replicas"


def test_without_replicas_reads_fall_back_to_the_primary_and_say_so(
    admin_nodes: tuple[NodeConfig, ...], caplog: pytest.LogCaptureFixture
) -> None:
    with Router(admin_nodes[:1], FAST, monitor=False) as router:
        assert "reads go to the primary" in caplog.text
        with router.session("analytics") as s:
            assert s.execute(WHERE).one()[1] is False
        counts = router.core.metrics.counts()
        assert total(counts, "advisoros_router_fallbacks", reason="no_replica_configured") == 1
        assert router.health()["reads_on_primary"] is True


def test_unknown_kinds_are_refused(router: Router) -> None:
    with pytest.raises(UnknownKind, match="use one of"), router.session("reporting"):
        pass


@pytest.fixture
def statements(router: Router) -> Iterator[list[tuple[str, str]]]:
    """Every statement any of the router's engines sends, with the node it went to."""
    sent: list[tuple[str, str]] = []
    listeners = []
    for name, engine in router.engines.items():

        def record(conn, cursor, statement, params, context, executemany, name=name) -> None:  # type: ignore[no-untyped-def]
            sent.append((name, statement))

        event.listen(engine, "before_cursor_execute", record)
        listeners.append((engine, record))
    yield sent
    for engine, record in listeners:
        event.remove(engine, "before_cursor_execute", record)


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[uuid.UUID | None]
    v: Mapped[str] = mapped_column(String)


items = Table("items", MetaData(), Column("id", Integer, primary_key=True), Column("v", String))


def test_a_read_session_that_writes_is_refused_before_anything_is_sent(
    router: Router, statements: list[tuple[str, str]]
) -> None:
    marker = f"ro-{uuid.uuid4()}"
    with pytest.raises(ReadOnlyViolation, match="write session"), router.session("read") as s:
        s.execute(text("INSERT INTO items (v) VALUES (:v)"), {"v": marker})
    with pytest.raises(ReadOnlyViolation, match="nothing was sent"), router.session("read") as s:
        s.execute(insert(items).values(v=marker))
    with pytest.raises(ReadOnlyViolation, match="pending ORM changes"), router.session("read") as s:
        s.add(Item(v=marker))
        s.flush()
    assert statements == [], "a refused write must not reach any node"


def test_a_disguised_write_is_stopped_by_the_read_only_transaction(
    admin_nodes: tuple[NodeConfig, ...], router: Router
) -> None:
    marker = f"cte-{uuid.uuid4()}"
    sneaky = text("WITH w AS (INSERT INTO items (v) VALUES (:v) RETURNING 1) SELECT * FROM w")
    with pytest.raises(ReadOnlyViolation, match="read-only"), router.session("read") as s:
        s.execute(sneaky, {"v": marker})
    # Even on the primary (no replica), a read session runs READ ONLY.
    with Router(admin_nodes[:1], FAST, monitor=False) as alone:
        with pytest.raises(ReadOnlyViolation, match="read-only"), alone.session("read") as s:
            s.execute(sneaky, {"v": marker})
        with alone.session("write") as s:
            assert (
                s.execute(text("SELECT count(*) FROM items WHERE v = :v"), {"v": marker}).scalar()
                == 0
            )


def test_sessions_are_scoped_to_their_tenant_on_replicas(app_nodes: tuple[NodeConfig, ...]) -> None:
    org_a, org_b = uuid.uuid4(), uuid.uuid4()
    with Router(app_nodes, ONE_SHOT, monitor=False) as router:
        for org in (org_a, org_b):
            with router.session("write", organization_id=org) as s:
                s.execute(
                    text("INSERT INTO items (organization_id, v) VALUES (:o, :v)"),
                    {"o": org, "v": f"row of {org}"},
                )
        for org in (org_a, org_b):
            with router.session("read", organization_id=org) as s:
                rows = s.execute(text("SELECT v, pg_is_in_recovery() FROM items")).all()
                assert rows == [(f"row of {org}", True)]
        with router.session("read") as s:
            assert s.execute(text("SELECT count(*) FROM items")).scalar() == 0, "no tenant, no rows"
        with (
            pytest.raises(TenantError, match="organization"),
            router.session("read", organization_id="acme"),
        ):
            pass
        # Writing a row of another tenant is refused by the policy.
        with (
            pytest.raises(Exception, match="row-level security"),
            router.session("write", organization_id=org_a) as s,
        ):
            s.execute(text("INSERT INTO items (organization_id, v) VALUES (:o, 'x')"), {"o": org_b})


def test_writes_are_refused_clearly_when_the_primary_is_unreachable(
    admin_nodes: tuple[NodeConfig, ...],
) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    dead = admin_nodes[0].url.replace(f":{port(admin_nodes[0].url)}/", f":{dead_port}/")
    nodes = nodes_from(dead, [n.url for n in admin_nodes[1:]])
    with Router(nodes, ONE_SHOT, monitor=False) as router:
        assert router.health()["primary"]["isHealthy"] is False
        with pytest.raises(RoutingError, match="not retried"), router.session("write") as s:
            s.execute(text("SELECT 1"))
        with router.session("read") as s:
            assert s.execute(WHERE).one()[1] is True, "reads still work on the replicas"


def test_orm_flush_errors_in_a_write_session_arrive_translated(
    router: Router, server_admin_url: str
) -> None:
    from advisoros_db.errors import NotNullViolation

    with pytest.raises(NotNullViolation, match="items"), router.session("write") as s:
        s.add(Item(v=None))  # type: ignore[arg-type]
        s.flush()


def test_errors_at_commit_arrive_translated_and_roll_back(router: Router) -> None:
    from advisoros_db.errors import NotNullViolation

    marker = f"commit-{uuid.uuid4()}"
    # No flush in the block: the pending rows are flushed by the commit on exit, and fail there.
    with pytest.raises(NotNullViolation, match="items"), router.session("write") as s:
        s.add(Item(v=marker))
        s.add(Item(v=None))  # type: ignore[arg-type]
    with router.session("write") as s:
        found = s.execute(text("SELECT count(*) FROM items WHERE v = :v"), {"v": marker}).scalar()
    assert found == 0, "the failed commit must leave nothing behind"
