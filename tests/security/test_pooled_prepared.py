"""Attack: the reset on return keeps psycopg's prepared statements, so a borrower that runs SQL as
the application role replaces them (DEALLOCATE, then PREPARE under the same name and parameter
types) and plants its own under the names psycopg will use next (`_pg3_N`). The next borrower of
the same pooled connection, through every pool the package builds and on every node, must run
only its own statements: its tenant, its rows, no error, and no SQL-prepared statement left.

Also: a COMMIT that fails leaves the next borrower a clean connection all the same, and a reset
string that fails gives way to DISCARD ALL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg_pool import ConnectionPool
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import create_async_engine

from advisoros_db.routing import AsyncRouter, NodeConfig, Router
from advisoros_db.tenancy import (
    SessionReset,
    apply_tenant,
    async_tenant_session,
    pool_reset,
    reset,
    tenant_session,
)
from advisoros_db.urls import to_sqlalchemy
from tests.security.attacks import ONE, STATE_SQL, assert_clean, single_replica

PROBE = (
    "SELECT count(*), current_setting('app.organization_id', true), "
    "(SELECT count(*) FROM pg_prepared_statements WHERE from_sql) FROM items"
)
INSERT = "INSERT INTO items (organization_id, v) VALUES (%s, %s)"
WARM = 8  # psycopg prepares a statement on its sixth run

Run = Callable[[str, dict[str, Any] | None], list[tuple[Any, ...]]]
Borrow = Callable[[uuid.UUID], AbstractContextManager[Run]]


def _rows(cursor: Any) -> list[tuple[Any, ...]]:
    return list(cursor.fetchall()) if cursor.description else []


LIST_PREPARED = (
    "SELECT name, parameter_types::text[], statement FROM pg_prepared_statements WHERE NOT from_sql"
)


def _attack_sql(rows: list[tuple[Any, ...]]) -> list[str]:
    """Statements that replace every statement psycopg prepared on this connection and plant the
    next names it will use. The tenant read-back before COMMIT is replaced by a copy of itself
    (the attacker's own commit needs it); every other statement answers for another tenant."""
    numbers = [int(n.removeprefix("_pg3_")) for n, _, _ in rows if n.startswith("_pg3_")]
    planted = [n for n in range(max(numbers, default=0) + 40) if n not in numbers]
    attack: list[str] = []
    for name, types, statement in rows:
        attack.append(sql.SQL("DEALLOCATE {}").format(sql.Identifier(name)).as_string())
        read_back = statement.startswith("SELECT current_setting(") and " FROM " not in statement
        attack.append(_prepare(name, types, statement if read_back else None))
    attack.extend(_prepare(f"_pg3_{number}", [], None) for number in planted)
    return attack


def _prepare(name: str, types: list[str], body: str | None) -> str:
    # Types and bodies come from the server's own catalog.
    declared = (
        sql.SQL("({})").format(sql.SQL(", ").join(sql.SQL(t) for t in types))
        if types
        else sql.SQL("")
    )
    answer = body or "SELECT 999999::bigint, 'attacker'::text, 0::bigint"
    return (
        sql.SQL("PREPARE {}{} AS {}")
        .format(sql.Identifier(name), declared, sql.SQL(answer))
        .as_string()
    )


def _attack(run: Run) -> int:
    """Run the attack on this borrow; returns how many of psycopg's statements it replaced."""
    rows = run(LIST_PREPARED, None)
    for statement in _attack_sql(rows):
        run(statement, None)
    return len(rows)


def _victim_reads(borrow: Borrow, victim: uuid.UUID, rows: int) -> None:
    # One borrow each, then all in one borrow: psycopg prepares within a borrow too, under the
    # next `_pg3_N` name, which the attacker may have planted.
    for _ in range(WARM):
        with borrow(victim) as run:
            assert run(PROBE, None) == [(rows, str(victim), 0)]
    with borrow(victim) as run:
        for _ in range(WARM):
            assert run(PROBE, None) == [(rows, str(victim), 0)]


def _replaced_then_clean(
    borrow: Borrow, victim: uuid.UUID, attacker: uuid.UUID, *, kept: bool = True
) -> None:
    with borrow(victim) as run:
        pid = run("SELECT pg_backend_pid()", None)
    _victim_reads(borrow, victim, 1)
    with borrow(attacker) as run:
        assert run("SELECT pg_backend_pid()", None) == pid, "not the same pooled connection"
        replaced = _attack(run)
    if kept:  # the reset kept psycopg's statements: the attack had something to replace
        assert replaced >= 1
    _victim_reads(borrow, victim, 1)
    with borrow(victim) as run:
        assert run("SELECT pg_backend_pid()", None) == pid


def _seed(router: Router, org: uuid.UUID) -> None:
    with router.connection("write", organization_id=org) as conn:
        conn.execute(INSERT, (org, f"victim-{uuid.uuid4().hex}"))


@pytest.mark.parametrize("kind", ["write", "read"])
def test_router_connections_run_only_their_own_prepared_statements(
    app_nodes: tuple[NodeConfig, ...], kind: str
) -> None:
    victim, attacker = uuid.uuid4(), uuid.uuid4()
    with Router(single_replica(app_nodes), ONE, monitor=False) as router:
        _seed(router, victim)
        token = router.token

        @contextmanager
        def borrow(org: uuid.UUID) -> Iterator[Run]:
            with router.connection(kind, organization_id=org, token=token) as conn:
                yield lambda q, p: _rows(conn.execute(q, p))

        _replaced_then_clean(borrow, victim, attacker)


@pytest.mark.parametrize("kind", ["write", "read"])
def test_router_sessions_run_only_their_own_prepared_statements(
    app_nodes: tuple[NodeConfig, ...], kind: str
) -> None:
    victim, attacker = uuid.uuid4(), uuid.uuid4()
    with Router(single_replica(app_nodes), ONE, monitor=False) as router:
        _seed(router, victim)
        token = router.token

        @contextmanager
        def borrow(org: uuid.UUID) -> Iterator[Run]:
            with router.session(kind, organization_id=org, token=token) as s:
                raw = s.connection().connection.dbapi_connection
                assert raw is not None
                yield lambda q, p: _rows(raw.cursor().execute(q, p))

        # A routed session ends with a ROLLBACK (a read is only closed; a write reads its WAL
        # position on a second connection), on which psycopg drops its prepared statements: the
        # attack can only plant names.
        _replaced_then_clean(borrow, victim, attacker, kept=False)


def test_tenant_session_engines_run_only_their_own_prepared_statements(
    app_nodes: tuple[NodeConfig, ...],
) -> None:
    victim, attacker = uuid.uuid4(), uuid.uuid4()
    engine = create_engine(to_sqlalchemy(app_nodes[0].url), pool_size=1, max_overflow=0)
    try:
        with tenant_session(engine, victim) as s:
            s.execute(
                text("INSERT INTO items (organization_id, v) VALUES (:o, 'v')"), {"o": victim}
            )

        @contextmanager
        def borrow(org: uuid.UUID) -> Iterator[Run]:
            with tenant_session(engine, org) as s:
                raw = s.connection().connection.dbapi_connection
                assert raw is not None
                yield lambda q, p: _rows(raw.cursor().execute(q, p))

        _replaced_then_clean(borrow, victim, attacker)
    finally:
        engine.dispose()


@pytest.mark.parametrize("node", [0, 1])
def test_application_pools_with_pool_reset_run_only_their_own_prepared_statements(
    app_nodes: tuple[NodeConfig, ...], server_admin_url: str, node: int
) -> None:
    # What docs/security.md tells applications that build their own psycopg pools to use.
    victim, attacker = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(server_admin_url, autocommit=True) as admin:
        admin.execute(INSERT, (victim, "victim"))
    pool = ConnectionPool(
        app_nodes[node].url, min_size=1, max_size=1, reset=pool_reset(SessionReset.SESSION)
    )
    with pool:

        @contextmanager
        def borrow(org: uuid.UUID) -> Iterator[Run]:
            with pool.connection() as conn, conn.transaction():
                apply_tenant(conn, str(org))
                yield lambda q, p: _rows(conn.execute(q, p))

        if node:  # a replica: wait for the victim's row instead of racing replay
            _wait_for_row(borrow, victim)
        _replaced_then_clean(borrow, victim, attacker)


def _wait_for_row(borrow: Borrow, org: uuid.UUID) -> None:
    from tests.routing.conftest import wait_for

    def seen() -> bool:
        with borrow(org) as run:
            return bool(run("SELECT count(*) FROM items", None) == [(1,)])

    wait_for(seen, what="the victim's row replayed on the replica")


def test_async_router_and_engine_run_only_their_own_prepared_statements(
    app_nodes: tuple[NodeConfig, ...],
) -> None:
    victim, attacker = uuid.uuid4(), uuid.uuid4()

    async def attack(borrow: Callable[[uuid.UUID, str | None], Awaitable[Any]]) -> None:
        pid = await borrow(victim, "SELECT pg_backend_pid()")
        for _ in range(WARM):
            assert await borrow(victim, PROBE) == [(1, str(victim), 0)]
        assert await borrow(attacker, None) >= 1
        for _ in range(WARM):
            assert await borrow(victim, PROBE) == [(1, str(victim), 0)]
        assert await borrow(victim, "SELECT pg_backend_pid()") == pid

    async def run() -> None:
        router = AsyncRouter(app_nodes[:1], ONE, monitor=False)
        try:
            async with router.connection("write", organization_id=victim) as conn:
                await conn.execute(INSERT, (victim, "victim"))

            async def routed(org: uuid.UUID, query: str | None) -> Any:
                async with router.connection("write", organization_id=org) as conn:
                    if query is not None:
                        return await (await conn.execute(query)).fetchall()
                    return await _attack_async(conn.raw)

            await attack(routed)
        finally:
            await router.aclose()
        aengine = create_async_engine(to_sqlalchemy(app_nodes[0].url), pool_size=1, max_overflow=0)
        try:

            async def engine_borrow(org: uuid.UUID, query: str | None) -> Any:
                async with async_tenant_session(aengine, org) as s:
                    conn = await s.connection()
                    raw = (await conn.get_raw_connection()).driver_connection
                    assert isinstance(raw, psycopg.AsyncConnection)
                    if query is not None:
                        return await (await raw.execute(query)).fetchall()
                    return await _attack_async(raw)

            await attack(engine_borrow)
        finally:
            await aengine.dispose()

    asyncio.run(run())


async def _attack_async(conn: psycopg.AsyncConnection[Any]) -> int:
    rows = await (await conn.execute(LIST_PREPARED)).fetchall()
    for statement in _attack_sql(rows):
        await conn.execute(statement)
    return len(rows)


def test_prepared_statements_survive_the_reset_and_nothing_else_does(
    app_nodes: tuple[NodeConfig, ...],
) -> None:
    # What the reset keeps: the statements psycopg prepared, on the server and in its cache.
    org = uuid.uuid4()
    with Router(app_nodes[:1], ONE, monitor=False) as router:
        for _ in range(WARM):
            with router.connection("write", organization_id=org) as conn:
                conn.execute("SELECT count(*) FROM items")
        with router.connection("write", organization_id=org) as conn:
            rows = conn.execute(
                "SELECT name, from_sql FROM pg_prepared_statements ORDER BY name"
            ).fetchall()
            cached = {n.decode() for n in conn.raw._prepared._names.values()}
    assert rows and all(not from_sql for _, from_sql in rows)
    assert {name for name, _ in rows} == cached


# -- failures ------------------------------------------------------------------------------


def test_a_failed_commit_raises_commits_nothing_and_the_next_borrower_is_clean(
    app_nodes: tuple[NodeConfig, ...], server_admin_url: str
) -> None:
    org = uuid.uuid4()
    marker = f"deferred-{uuid.uuid4().hex}"
    with Router(app_nodes[:1], ONE, monitor=False) as router:
        with router.connection("write") as conn:
            before = conn.execute(STATE_SQL).fetchone()
        with (
            pytest.raises(Exception, match="duplicate key"),
            router.connection("write", organization_id=org) as conn,
        ):
            conn.execute("SET work_mem = '7777kB'")
            conn.execute("PREPARE attacker_statement AS SELECT 1")
            conn.execute("CREATE TEMP TABLE deferred (x int UNIQUE DEFERRABLE INITIALLY DEFERRED)")
            conn.execute("INSERT INTO deferred VALUES (1), (1)")  # fails at COMMIT
            conn.execute(INSERT, (org, marker))
        with router.connection("write") as conn:
            after = conn.execute(STATE_SQL).fetchone()
    assert before is not None and after is not None
    assert_clean(before, after)
    with psycopg.connect(server_admin_url) as admin:
        assert admin.execute("SELECT count(*) FROM items WHERE v = %s", (marker,)).fetchone() == (
            0,
        )


def test_a_reset_string_that_fails_falls_back_to_discard_all(
    app_nodes: tuple[NodeConfig, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reset, "_SESSION_SQL", "RESET ALL; SELECT 1 / 0")
    with psycopg.connect(app_nodes[0].url) as conn:
        before = conn.execute(STATE_SQL).fetchone()
        conn.commit()
        for _ in range(WARM):
            conn.execute("SELECT count(*) FROM items")
            conn.commit()
        conn.execute("SET work_mem = '7777kB'")
        conn.execute("PREPARE attacker_statement AS SELECT 1")
        conn.commit()
        assert conn._prepared._names  # psycopg prepared its statements: they must go too
        reset.reset_connection(conn)
        assert not conn._prepared._names  # DISCARD ALL took psycopg's statements too
        after = conn.execute(STATE_SQL).fetchone()
        conn.commit()
    assert before is not None and after is not None
    assert_clean(before, after)


def test_the_last_sequence_value_is_not_inherited(app_nodes: tuple[NodeConfig, ...]) -> None:
    org = uuid.uuid4()
    with Router(app_nodes[:1], ONE, monitor=False) as router:
        with router.connection("write", organization_id=org) as conn:
            conn.execute(INSERT, (org, "sequence"))
            assert conn.execute("SELECT lastval()").fetchone() is not None
        with (
            pytest.raises(Exception, match="lastval is not yet defined"),
            router.connection("write") as conn,
        ):
            conn.execute("SELECT lastval()")
