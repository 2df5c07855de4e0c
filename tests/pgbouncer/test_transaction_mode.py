"""Every path through a real PgBouncer 1.18 in transaction mode: detection, the router's probe, tenant
sessions, the psycopg fast path, search, seed and migrate, with concurrent clients and zero errors.

Through a transaction-mode pooler, a server-side prepared statement made by one client can be run
by another (psycopg names them `_pg3_0`, `_pg3_1`, ... on every connection), and a session setting
stays on whichever server connection took it; these tests run each path often enough that psycopg
would prepare its statements, and check results that would differ if a statement were mixed up.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from sqlalchemy import text

from advisoros_db import datagen, migrations, pooler
from advisoros_db.migrations.drift import head_revision
from advisoros_db.routing import Router, RouterOptions, nodes_from
from advisoros_db.search import fulltext
from advisoros_db.search.connections import connect as search_connect
from advisoros_db.tenancy import SessionReset, tenant_transaction
from tests.pgbouncer_support import Bouncer
from tests.support import PgDatabase

THREADS = 4
ROUNDS = 40  # each statement runs far more than psycopg's prepare threshold (5) per connection

SETUP_SQL = """
CREATE TABLE items (id bigserial PRIMARY KEY, organization_id uuid NOT NULL, v int NOT NULL);
GRANT SELECT, INSERT ON items TO advisoros_app;
GRANT USAGE ON SEQUENCE items_id_seq TO advisoros_app;
ALTER TABLE items ENABLE ROW LEVEL SECURITY;
CREATE POLICY items_tenant ON items
    USING (organization_id = NULLIF(current_setting('app.organization_id', true), '')::uuid)
    WITH CHECK (organization_id = NULLIF(current_setting('app.organization_id', true), '')::uuid);
"""

OPTIONS = RouterOptions(interval_s=30.0, probe_timeout_s=2.0, pool_size=4, retry_deadline_s=10.0)


def routed(db: PgDatabase, bouncer: Bouncer) -> PgDatabase:
    return PgDatabase(
        name=db.name,
        admin_url=bouncer.route(db.admin_url),
        app_url=bouncer.route(db.app_url),
        replica_urls=[],
        server=db.server,
    )


def concurrently(work: Callable[[int], None], threads: int = THREADS) -> list[BaseException]:
    """Run `work(i)` on `threads` threads released together; every exception they raised."""
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def run(i: int) -> None:
        try:
            start.wait(timeout=30)
            work(i)
        except BaseException as exc:  # collected and asserted on by the test
            errors.append(exc)

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=300)
        assert not t.is_alive(), "a worker did not finish within 300 s"
    return errors


@pytest.fixture
def items_db(db: PgDatabase) -> PgDatabase:
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        conn.execute(SETUP_SQL)
    return db


@pytest.fixture
def router(items_db: PgDatabase, bouncer: Bouncer) -> Iterator[Router]:
    with Router(nodes_from(bouncer.route(items_db.app_url)), OPTIONS, monitor=False) as r:
        yield r


def test_pgbouncer_is_detected_and_a_direct_server_is_not(db: PgDatabase, bouncer: Bouncer) -> None:
    with pooler.connect(bouncer.route(db.app_url)) as through:
        assert through.prepare_threshold is None
    with pooler.connect(db.app_url) as direct:
        assert direct.prepare_threshold == 5  # psycopg's default: prepared statements stay on
    with pooler.connect(db.app_url, pgbouncer="on") as forced:
        assert forced.prepare_threshold is None


def test_pool_reset_sends_no_discard_all_behind_a_pooler(db: PgDatabase, bouncer: Bouncer) -> None:
    # The router's pools reset returned connections with `pooler.pool_reset`: DISCARD ALL on a
    # direct connection, nothing from the client behind PgBouncer (detected or declared), whose
    # next transaction may run on another server connection.
    with pooler.connect(bouncer.route(db.app_url)) as through:
        assert pooler.reset_mode(through, SessionReset.DISCARD_ALL) is (
            SessionReset.TRANSACTION_POOLER
        )
    with pooler.connect(db.app_url) as direct:
        assert pooler.reset_mode(direct, SessionReset.DISCARD_ALL) is SessionReset.DISCARD_ALL
        direct.execute("SET work_mem = '7777kB'")
        direct.commit()
        pooler.pool_reset(SessionReset.DISCARD_ALL, "on")(direct)  # declared: nothing sent
        assert direct.execute("SHOW work_mem").fetchone() == ("7777kB",)
        direct.commit()
        pooler.pool_reset(SessionReset.DISCARD_ALL, "auto")(direct)  # direct: DISCARD ALL
        assert direct.execute("SHOW work_mem").fetchone() != ("7777kB",)


def test_the_health_probe_passes_pgbouncer(router: Router, bouncer: Bouncer) -> None:
    # What the probe did before: a startup `options`, which PgBouncer refuses.
    url = router.core.snapshot.primary.config.url
    with pytest.raises(psycopg.OperationalError, match="options"):
        psycopg.connect(url, options="-c statement_timeout=1000").close()
    health = router.probe()
    assert health["primary"]["available"] is True, health


def test_tenant_sessions_and_fast_path_under_load(router: Router, items_db: PgDatabase) -> None:
    orgs = [str(uuid.uuid4()) for _ in range(THREADS)]
    # Same parameter count, different SQL per thread: a statement bound to another client's
    # prepared statement of the same name would return another thread's arithmetic.
    queries = ["SELECT %s::int + %s::int", "SELECT %s::int * %s::int", "SELECT %s::int - %s::int"]
    expected: list[Callable[[int, int], int]] = [
        lambda a, b: a + b,
        lambda a, b: a * b,
        lambda a, b: a - b,
    ]

    def work(i: int) -> None:
        org = orgs[i]
        query, answer = queries[i % 3], expected[i % 3]
        for n in range(ROUNDS):
            with router.session("write", organization_id=org) as s:
                s.execute(
                    text("INSERT INTO items (organization_id, v) VALUES (:o, :v)"),
                    {"o": org, "v": n},
                )
            with router.connection("write", organization_id=org) as conn:
                conn.execute("INSERT INTO items (organization_id, v) VALUES (%s, %s)", (org, n))
            with router.connection("read", organization_id=org) as conn:
                got = conn.execute(query, (n, i + 2)).fetchone()
                assert got == (answer(n, i + 2),), (query, n, got)
                seen = conn.execute("SELECT count(*) FROM items").fetchone()
                assert seen == (2 * (n + 1),), seen  # only this tenant's rows, all of them
            with router.session("read", organization_id=org) as s:
                total = s.execute(text("SELECT count(*) FROM items")).scalar_one()
                assert total == 2 * (n + 1)

    errors = concurrently(work)
    assert errors == []
    with router.pools.get("primary").connection() as conn:
        assert conn.prepare_threshold is None
    with psycopg.connect(items_db.admin_url) as conn:
        assert conn.execute("SELECT count(*) FROM items").fetchone() == (THREADS * ROUNDS * 2,)


def test_seed_then_search_under_load(db: PgDatabase, bouncer: Bouncer) -> None:
    via = routed(db, bouncer)
    stop = threading.Event()
    background_errors: list[BaseException] = []

    def background() -> None:  # other clients keep the pooler's server connections busy
        tenant = uuid.uuid4()  # the app role reads tenant tables only with a tenant set
        try:
            with pooler.connect(via.app_url) as conn:
                while not stop.is_set():
                    with tenant_transaction(conn, tenant):
                        conn.execute("SELECT count(*) FROM organizations WHERE name <> %s", ("x",))
        except BaseException as exc:
            background_errors.append(exc)

    threads = [threading.Thread(target=background) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        report = datagen.seed(via.admin_url, "tiny", seed=7)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert background_errors == []
    assert report.tables and sum(t.rows for t in report.tables) > 0
    with psycopg.connect(db.admin_url) as conn:
        org_row = conn.execute("SELECT id FROM organizations ORDER BY id LIMIT 1").fetchone()
    assert org_row is not None
    org = org_row[0]

    def search(i: int) -> None:
        with search_connect(via.app_url) as conn:
            assert conn.prepare_threshold is None
            first = fulltext.search_text(conn, org, "tax return")
            for _ in range(ROUNDS // 4):
                again = fulltext.search_text(conn, org, "tax return")
                assert [h.id for h in again] == [h.id for h in first]

    assert concurrently(search) == []


def test_concurrent_migrations_through_pgbouncer_leave_no_session_state(
    empty_db: PgDatabase, bouncer: Bouncer
) -> None:
    via = routed(empty_db, bouncer)
    errors = concurrently(lambda _i: migrations.upgrade(via.admin_url), threads=3)
    assert errors == []
    assert migrations.current(empty_db.admin_url) == head_revision()
    # Hold as many transactions at once as the pooler keeps server connections for this
    # database and user, so each one shows the settings of a different server connection.
    held = [psycopg.connect(via.admin_url, prepare_threshold=None) for _ in range(20)]
    try:
        for conn in held:
            row = conn.execute(
                "SELECT current_setting('lock_timeout'), current_setting('statement_timeout')"
            ).fetchone()
            assert row == ("0", "0"), row
    finally:
        for conn in held:
            conn.close()
