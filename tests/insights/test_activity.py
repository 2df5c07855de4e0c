"""Activity and replication insights on situations the tests make: a query blocked by another
session's lock, an idle transaction, an abandoned replication slot, top queries."""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest

from advisoros_db.ops.insights import collect, metrics, problems
from advisoros_db.ops.insights.statements import top_queries
from tests.insights.conftest import settings, wait_for
from tests.support import PgDatabase


def _waiting_on_lock(url: str, pid: int) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted", (pid,)
        ).fetchone()
    return bool(row and row[0])


def test_blocked_query_names_its_blocker(db: PgDatabase) -> None:
    with psycopg.connect(db.admin_url, autocommit=True) as setup:
        setup.execute("CREATE TABLE contended (id int PRIMARY KEY, n int)")
        setup.execute("INSERT INTO contended VALUES (1, 0)")
    holder = psycopg.connect(db.admin_url)
    waiter = psycopg.connect(db.admin_url, autocommit=True)
    try:
        holder.execute("UPDATE contended SET n = n + 1 WHERE id = 1")
        failures: list[BaseException] = []

        def blocked_update() -> None:
            try:
                waiter.execute("UPDATE contended SET n = n + 10 WHERE id = 1")
            except BaseException as exc:
                failures.append(exc)

        thread = threading.Thread(target=blocked_update)
        thread.start()
        wait_for(
            "the second update to wait on the row lock",
            lambda: _waiting_on_lock(db.admin_url, waiter.info.backend_pid),
        )
        report = collect(db.admin_url, settings())
        blocked = {s["pid"]: s for s in report["activity"]["blocked"]}
        assert blocked[waiter.info.backend_pid]["blocked_by"] == [holder.info.backend_pid]
        idle = {s["pid"] for s in report["activity"]["idle_in_transaction"]}
        assert holder.info.backend_pid in idle
        # Both transactions are older than a millisecond: over that threshold they are long.
        strict = collect(db.admin_url, settings(insights_long_query_s=0.001))
        long_running = {s["pid"] for s in strict["activity"]["long_running"]}
        assert {holder.info.backend_pid, waiter.info.backend_pid} <= long_running
        assert holder.info.backend_pid not in {s["pid"] for s in report["activity"]["long_running"]}
        found = problems(report, settings(insights_blocked_s=0, insights_idle_in_transaction_s=0))
        subjects = {(p["check"], p["subject"]) for p in found}
        assert ("blocked_query", str(waiter.info.backend_pid)) in subjects
        assert ("idle_in_transaction", str(holder.info.backend_pid)) in subjects
        holder.commit()
        thread.join(timeout=60)
        assert not thread.is_alive() and not failures
        after = collect(db.admin_url, settings())
        assert waiter.info.backend_pid not in {s["pid"] for s in after["activity"]["blocked"]}
    finally:
        holder.close()
        waiter.close()
    with psycopg.connect(db.admin_url) as check:
        assert check.execute("SELECT n FROM contended").fetchone() == (11,)


def test_abandoned_replication_slot(db: PgDatabase) -> None:
    slot = f"abandoned_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        conn.execute("SELECT pg_create_physical_replication_slot(%s, true)", (slot,))
        try:
            # WAL written after the slot reserved its position is WAL it keeps.
            conn.execute("CREATE TABLE wal_filler AS SELECT g FROM generate_series(1, 50000) g")
            report = collect(db.admin_url, settings())
            slots = {s["slot"]: s for s in report["replication"]["slots"]}
            assert slots[slot]["active"] is False and slots[slot]["retained_bytes"] > 0
            found = problems(report, settings(insights_slot_retained_bytes=1))
            assert ("abandoned_slot", slot) in {(p["check"], p["subject"]) for p in found}
            scraped = metrics.render(report, found).decode()
            assert (
                f'pg_replication_slot_slot_is_active{{slot_name="{slot}",slot_type="physical"}} 0.0'
                in scraped
            )
            assert 'advisoros_insights_problems{check="abandoned_slot"} 1.0' in scraped
            quiet = problems(report, settings(insights_slot_retained_bytes=1 << 50))
            assert ("abandoned_slot", slot) not in {(p["check"], p["subject"]) for p in quiet}
        finally:
            conn.execute("SELECT pg_drop_replication_slot(%s)", (slot,))


@pytest.mark.replicas
def test_replicas_show_with_their_lag(db: PgDatabase) -> None:
    if not db.replica_urls:
        pytest.skip("no streaming replicas configured")
    report = collect(db.admin_url, settings())
    assert len(report["replication"]["replicas"]) >= 1
    assert all(r["state"] for r in report["replication"]["replicas"])
    assert any(s["active"] for s in report["replication"]["slots"])


def test_top_queries_from_pg_stat_statements(db: PgDatabase) -> None:
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        for n in range(5):
            conn.execute("SELECT count(*) FROM generate_series(1, %s) AS distinctive_probe", (n,))
    report = collect(db.admin_url, settings())
    statements = report["statements"]
    if not statements["available"] and db.server.cluster is None:
        # A configured server that does not preload the library: the section says how to.
        assert "shared_preload_libraries" in statements["hint"]
        pytest.skip("the configured server does not preload pg_stat_statements")
    # The embedded cluster preloads it (cluster/tuning.py) and insights creates the extension.
    assert statements["available"], statements["hint"]
    texts = [q["query"] for q in statements["by_total"] + statements["by_mean"]]
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        probe = conn.execute(
            "SELECT calls, query FROM pg_stat_statements WHERE query LIKE %s",
            ("%distinctive_probe%",),
        ).fetchone()
    assert probe is not None and probe[0] >= 5
    # Constants are normalised away: the texts shown carry $1, never the values.
    assert "$1" in probe[1]
    assert texts and all(isinstance(t, str) for t in texts)


def test_without_the_extension_the_section_says_how_to_enable_it(db: PgDatabase) -> None:
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        conn.execute("DROP EXTENSION IF EXISTS pg_stat_statements")
    # The application role may not create it: the section explains instead of failing.
    with psycopg.connect(db.app_url, autocommit=True) as conn:
        section = top_queries(conn)
    assert section["available"] is False
    assert "CREATE EXTENSION pg_stat_statements" in section["hint"]
    # The owner can: insights creates it where the server preloads the library.
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        assert top_queries(conn)["available"] is True
