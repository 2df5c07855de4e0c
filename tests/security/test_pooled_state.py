"""Attack: a borrower changes its session (tenant, role, search_path, timeouts, prepared
statements, temporary tables, locks, cursors) and hands the connection back; the next borrower of
the same pooled connection, through every pool the package builds, inherits none of it. A
statement that switches the tenant inside a tenant-scoped transaction fails the transaction."""

from __future__ import annotations

import asyncio
import uuid

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import create_async_engine

from advisoros_db.errors import TenantError
from advisoros_db.routing import AsyncRouter, NodeConfig, Router
from advisoros_db.search.connections import connect as search_connect
from advisoros_db.tenancy import (
    SessionReset,
    async_tenant_session,
    reset_connection,
    tenant_session,
    tenant_transaction,
)
from advisoros_db.urls import to_sqlalchemy
from tests.security.attacks import (
    ONE,
    STATE_SQL,
    assert_clean,
    changes,
    single_replica,
    state_sql,
)
from tests.support import PgDatabase

INSERT = "INSERT INTO items (organization_id, v) VALUES (%s, %s)"


def _seed(router: Router, org: uuid.UUID, marker: str) -> None:
    with router.connection("write", organization_id=org) as conn:
        conn.execute(INSERT, (org, marker))


@pytest.mark.parametrize("kind", ["write", "read"])
def test_router_connection_hands_back_a_clean_connection(
    app_nodes: tuple[NodeConfig, ...], kind: str
) -> None:
    victim = uuid.uuid4()
    with Router(single_replica(app_nodes), ONE, monitor=False) as router:
        _seed(router, victim, f"victim-{uuid.uuid4().hex}")
        token = router.token
        with router.connection(kind, token=token) as conn:
            before = conn.execute(STATE_SQL).fetchone()
        # Unscoped, so nothing stops the commit: only the reset on return protects the next one.
        with router.connection(kind, token=token) as conn:
            for statement, params in changes(victim, primary=kind == "write"):
                conn.execute(statement, params or None)  # type: ignore[arg-type]
            assert conn.execute("SELECT count(*) FROM public.items").fetchone() == (1,)
        with router.connection(kind, token=token) as conn:
            after = conn.execute(STATE_SQL).fetchone()
    assert before is not None and after is not None
    assert_clean(before, after)


def test_async_router_connection_hands_back_a_clean_connection(
    app_nodes: tuple[NodeConfig, ...],
) -> None:
    victim = uuid.uuid4()

    async def run() -> tuple[object, object]:
        router = AsyncRouter(app_nodes[:1], ONE, monitor=False)
        try:
            async with router.connection("write", organization_id=victim) as conn:
                await conn.execute(INSERT, (victim, "victim"))
            async with router.connection("write") as conn:
                before = await (await conn.execute(STATE_SQL)).fetchone()
            async with router.connection("write") as conn:
                for statement, params in changes(victim, primary=True):
                    await conn.execute(statement, params or None)  # type: ignore[arg-type]
            async with router.connection("write") as conn:
                after = await (await conn.execute(STATE_SQL)).fetchone()
            return before, after
        finally:
            await router.aclose()

    before, after = asyncio.run(run())
    assert_clean(before, after)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["write", "read"])
def test_router_session_hands_back_a_clean_connection(
    app_nodes: tuple[NodeConfig, ...], kind: str
) -> None:
    victim = uuid.uuid4()
    with Router(single_replica(app_nodes), ONE, monitor=False) as router:
        _seed(router, victim, f"victim-{uuid.uuid4().hex}")
        token = router.token
        with router.session(kind, token=token) as s:
            before = s.execute(text(STATE_SQL)).one()
        with router.session(kind, token=token) as s:
            raw = s.connection().connection.dbapi_connection
            assert raw is not None
            for statement, params in changes(victim, primary=kind == "write"):
                raw.cursor().execute(statement, params or None)
        with router.session(kind, token=token) as s:
            after = s.execute(text(STATE_SQL)).one()
    assert_clean(tuple(before), tuple(after))


def test_tenant_session_engines_sync_and_async_hand_back_clean_connections(
    app_nodes: tuple[NodeConfig, ...],
) -> None:
    victim = uuid.uuid4()
    url = to_sqlalchemy(app_nodes[0].url)
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        with tenant_session(engine, victim) as s:
            s.execute(
                text("INSERT INTO items (organization_id, v) VALUES (:o, 'v')"), {"o": victim}
            )
        with engine.connect() as conn:
            before = tuple(conn.execute(text(STATE_SQL)).one())
        with tenant_session(engine, victim) as s:
            raw = s.connection().connection.dbapi_connection
            assert raw is not None
            for statement, params in changes(victim, primary=True):
                raw.cursor().execute(statement, params or None)
        with engine.connect() as conn:
            after = tuple(conn.execute(text(STATE_SQL)).one())
    finally:
        engine.dispose()
    assert_clean(before, after)

    async def run() -> tuple[tuple[object, ...], tuple[object, ...]]:
        aengine = create_async_engine(url, pool_size=1, max_overflow=0)
        try:
            async with aengine.connect() as conn:
                first = tuple((await conn.execute(text(STATE_SQL))).one())
            async with async_tenant_session(aengine, victim) as s:
                for statement, params in changes(victim, primary=True):
                    await s.execute(text(statement.replace("%(org)s", ":org")), params)
            async with aengine.connect() as conn:
                second = tuple((await conn.execute(text(STATE_SQL))).one())
            return first, second
        finally:
            await aengine.dispose()

    first, second = asyncio.run(run())
    assert_clean(first, second, victim_rows=0)


def test_the_reset_helper_cleans_a_search_connection(db: PgDatabase) -> None:
    # Search holds no pool of its own: a caller that keeps a search connection for several
    # tenants hands it over through the same reset the pools use.
    victim = uuid.uuid4()
    state = state_sql("clients", count=False)
    with search_connect(db.app_url) as conn:
        before = conn.execute(state).fetchone()
        conn.commit()
        with conn.transaction():
            for statement, params in changes(victim, primary=True, table="clients"):
                conn.execute(statement, params or None)  # type: ignore[arg-type]
        reset_connection(conn)
        after = conn.execute(state).fetchone()
        conn.commit()
    assert before is not None and after is not None
    assert_clean(before, after)


def test_transaction_pooler_mode_sends_no_session_reset(app_nodes: tuple[NodeConfig, ...]) -> None:
    # Behind PgBouncer in transaction mode the pooler resets; the client only rolls back.
    with psycopg.connect(app_nodes[0].url) as conn:
        conn.execute("SET work_mem = '7777kB'")
        conn.commit()
        reset_connection(conn, SessionReset.TRANSACTION_POOLER)
        assert conn.execute("SHOW work_mem").fetchone() == ("7777kB",)


# -- switching the tenant inside a tenant-scoped transaction fails it ---------------------------

SWITCHES = (
    "SELECT set_config('app.organization_id', %(other)s, true)",
    "SELECT set_config('app.organization_id', %(other)s, false)",
)


def _count(admin_url: str, marker: str) -> int:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM items WHERE v = %s", (marker,)).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("switch", SWITCHES)
def test_a_tenant_switch_fails_the_routed_connection_and_session(
    app_nodes: tuple[NodeConfig, ...], server_admin_url: str, switch: str
) -> None:
    mine, other = uuid.uuid4(), uuid.uuid4()
    marker = f"switch-{uuid.uuid4().hex}"
    with Router(app_nodes[:1], ONE, monitor=False) as router:
        with (
            pytest.raises(TenantError, match="changed inside a transaction"),
            router.connection("write", organization_id=mine) as conn,
        ):
            conn.execute(INSERT, (mine, marker))
            conn.execute(switch, {"other": str(other)})  # type: ignore[arg-type]
            conn.execute(INSERT, (other, marker))
        with (
            pytest.raises(TenantError, match="changed inside a transaction"),
            router.session("write", organization_id=mine) as s,
        ):
            s.execute(
                text("INSERT INTO items (organization_id, v) VALUES (:o, :m)"),
                {"o": mine, "m": marker},
            )
            s.execute(text(switch.replace("%(other)s", ":other")), {"other": str(other)})
            s.execute(
                text("INSERT INTO items (organization_id, v) VALUES (:o, :m)"),
                {"o": other, "m": marker},
            )
        with router.connection("write") as conn:
            assert conn.execute(
                "SELECT current_setting('app.organization_id', true)"
            ).fetchone() in (
                (None,),
                ("",),
            )
    assert _count(server_admin_url, marker) == 0


@pytest.mark.parametrize("switch", SWITCHES)
def test_a_tenant_switch_fails_tenancy_sessions_and_transactions(
    app_nodes: tuple[NodeConfig, ...], server_admin_url: str, switch: str
) -> None:
    mine, other = uuid.uuid4(), uuid.uuid4()
    marker = f"switch-{uuid.uuid4().hex}"
    named = switch.replace("%(other)s", ":other")
    insert = text("INSERT INTO items (organization_id, v) VALUES (:o, :m)")
    engine = create_engine(to_sqlalchemy(app_nodes[0].url), pool_size=1, max_overflow=0)
    try:
        with (
            pytest.raises(TenantError, match="changed inside a transaction"),
            tenant_session(engine, mine) as s,
        ):
            s.execute(insert, {"o": mine, "m": marker})
            s.execute(text(named), {"other": str(other)})
            s.execute(insert, {"o": other, "m": marker})
    finally:
        engine.dispose()
    # The one tenant transaction, which search uses too (search.connections re-exports it).
    with (
        psycopg.connect(app_nodes[0].url) as conn,
        pytest.raises(TenantError, match="changed inside a transaction"),
        tenant_transaction(conn, mine),
    ):
        conn.execute(INSERT, (mine, marker))
        conn.execute(switch, {"other": str(other)})  # type: ignore[arg-type]
        conn.execute(INSERT, (other, marker))

    async def run() -> None:
        aengine = create_async_engine(to_sqlalchemy(app_nodes[0].url))
        try:
            with pytest.raises(TenantError, match="changed inside a transaction"):
                async with async_tenant_session(aengine, mine) as s:
                    await s.execute(insert, {"o": mine, "m": marker})
                    await s.execute(text(named), {"other": str(other)})
        finally:
            await aengine.dispose()

    asyncio.run(run())
    assert _count(server_admin_url, marker) == 0


def test_statements_prepared_before_a_reset_are_not_executed_after_it(
    app_nodes: tuple[NodeConfig, ...],
) -> None:
    # psycopg prepares a statement on its sixth run; DISCARD ALL deallocates it on the server, so
    # psycopg must forget it too or the next borrow EXECUTEs a statement that no longer exists.
    org = uuid.uuid4()
    engine = create_engine(to_sqlalchemy(app_nodes[0].url), pool_size=1, max_overflow=0)
    try:
        with Router(app_nodes[:1], ONE, monitor=False) as router:
            for _ in range(12):
                with router.connection("write", organization_id=org) as conn:
                    assert conn.execute("SELECT count(*) FROM items").fetchone() == (0,)
                with router.session("write", organization_id=org) as s:
                    assert s.execute(text("SELECT count(*) FROM items")).scalar() == 0
                with tenant_session(engine, org) as s:
                    assert s.execute(text("SELECT count(*) FROM items")).scalar() == 0
    finally:
        engine.dispose()
