"""The COPY loader is all-or-nothing per table, and puts back what it set aside."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import psycopg
import pytest

from advisoros_db.datagen import deferred, partitions
from advisoros_db.datagen.assemble import Batch
from advisoros_db.datagen.introspect import describe
from advisoros_db.datagen.loader import Part, freezable, load_table
from advisoros_db.errors import CheckViolation, ForeignKeyViolation, UniqueViolation
from tests.support import PgDatabase

INDEXES = "SELECT indexname FROM pg_indexes WHERE tablename = 'clients' ORDER BY 1"
FOREIGN_KEYS = "SELECT conname FROM pg_constraint WHERE conrelid = 'clients'::regclass AND contype = 'f' ORDER BY 1"


def snapshot(conn: psycopg.Connection[Any]) -> tuple[list[Any], list[Any]]:
    return conn.execute(INDEXES).fetchall(), conn.execute(FOREIGN_KEYS).fetchall()


def test_a_bad_row_loads_nothing_and_keeps_indexes_and_keys(db: PgDatabase) -> None:
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        org = uuid.uuid4()
        conn.execute(
            "INSERT INTO organizations (id, name, slug) VALUES (%s, 'Acme CPAs', 'acme')", (org,)
        )
        before = snapshot(conn)
        assert before[0], "the migrated clients table should have secondary indexes"
        types = [
            describe(conn, "clients").columns[c].oid
            for c in ("id", "organization_id", "business_name", "status")
        ]
        good = Batch(
            ["id", "organization_id", "business_name", "status"],
            types,
            [(uuid.uuid4(), org, "Fine Co", "active")],
        )
        bad = Batch(good.columns, types, [(uuid.uuid4(), org, "Broken Co", "not-a-status")])
        with pytest.raises(CheckViolation):
            load_table(conn, "public", "clients", [good, bad])
        assert conn.execute("SELECT count(*) FROM clients").fetchone() == (0,)
        assert snapshot(conn) == before

        result = load_table(conn, "public", "clients", [good])
        assert result.rows == 1
        assert snapshot(conn) == before


KEYS = (
    "SELECT conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint"
    " WHERE conrelid = 'clients'::regclass ORDER BY 1"
)


def test_trigger_skipping_load_checks_every_reference_and_loads_nothing_on_a_bad_one(
    db: PgDatabase,
) -> None:
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        org = uuid.uuid4()
        conn.execute(
            "INSERT INTO organizations (id, name, slug) VALUES (%s, 'Acme CPAs', 'acme')", (org,)
        )
        before = snapshot(conn), conn.execute(KEYS).fetchall()
        types = [
            describe(conn, "clients").columns[c].oid
            for c in ("id", "organization_id", "business_name", "status")
        ]
        columns = ["id", "organization_id", "business_name", "status"]
        good = Batch(columns, types, [(uuid.uuid4(), org, "Fine Co", "active")])
        stray = uuid.uuid4()
        orphan = Batch(columns, types, [(uuid.uuid4(), stray, "Nobody's Co", "active")])
        with pytest.raises(ForeignKeyViolation) as caught:
            load_table(conn, "public", "clients", [good, orphan], skip_triggers=True)
        assert str(stray) in str(caught.value) and "organizations" in str(caught.value)
        assert caught.value.constraint and caught.value.table == "clients"
        assert conn.execute("SELECT count(*) FROM clients").fetchone() == (0,)
        assert (snapshot(conn), conn.execute(KEYS).fetchall()) == before
        # The replica role ended with the transaction: triggers (and FK checks) fire again.
        assert conn.execute("SHOW session_replication_role").fetchone() == ("origin",)

        assert load_table(conn, "public", "clients", [good], skip_triggers=True).rows == 1
        assert (snapshot(conn), conn.execute(KEYS).fetchall()) == before


def test_primary_and_unique_keys_are_rebuilt_and_still_refuse_duplicates(db: PgDatabase) -> None:
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        org = uuid.uuid4()
        conn.execute(
            "INSERT INTO organizations (id, name, slug) VALUES (%s, 'Acme CPAs', 'acme')", (org,)
        )
        before = conn.execute(KEYS).fetchall()
        columns = ["id", "organization_id", "business_name", "status"]
        types = [describe(conn, "clients").columns[c].oid for c in columns]
        same = uuid.uuid4()
        twice = Batch(columns, types, [(same, org, "One", "active"), (same, org, "Two", "active")])
        with pytest.raises(UniqueViolation):
            load_table(conn, "public", "clients", [twice], skip_triggers=True)
        assert conn.execute("SELECT count(*) FROM clients").fetchone() == (0,)
        assert conn.execute(KEYS).fetchall() == before


# Rows of the first page with both xmin hint bits set: HEAP_XMIN_FROZEN (0x0300).
FROZEN = (
    "SELECT count(*) FILTER (WHERE t_infomask & 768 = 768) > 0,"
    " bool_and(t_infomask & 768 = 768) FROM heap_page_items(get_raw_page('job_executions', 0))"
)


def test_a_freezable_table_loads_frozen_and_the_load_settings_end_with_it(db: PgDatabase) -> None:
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
        default = conn.execute("SHOW maintenance_work_mem").fetchone()
        columns = ["queue", "job_name"]
        types = [describe(conn, "job_executions").columns[c].oid for c in columns]
        jobs = Batch(columns, types, [("default", f"job-{i}") for i in range(5_000)])
        settings = {"maintenance_work_mem": "77MB", "max_parallel_maintenance_workers": "0"}

        plain = load_table(conn, "public", "job_executions", [jobs], settings=settings)
        assert plain.rows == 5_000
        assert conn.execute(FROZEN).fetchone() == (False, False)
        conn.execute("TRUNCATE job_executions")

        frozen = load_table(
            conn, "public", "job_executions", [jobs], freeze=True, settings=settings
        )
        assert frozen.rows == 5_000
        assert conn.execute(FROZEN).fetchone() == (True, True)
        assert conn.execute("SHOW maintenance_work_mem").fetchone() == default


def test_freeze_is_not_attempted_where_it_would_lose_rows_or_fail(db: PgDatabase) -> None:
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        # Referenced by other tables' foreign keys (TRUNCATE would refuse), partitioned (COPY
        # FREEZE would refuse), and a table that already holds rows (TRUNCATE would lose them).
        assert not freezable(conn, "public", "organizations")
        assert not freezable(conn, "public", "audit_logs")
        assert freezable(conn, "public", "job_executions")
        conn.execute("INSERT INTO job_executions (queue, job_name) VALUES ('default', 'kept')")
        assert not freezable(conn, "public", "job_executions")
        columns = ["queue", "job_name"]
        types = [describe(conn, "job_executions").columns[c].oid for c in columns]
        load_table(
            conn, "public", "job_executions", [Batch(columns, types, [("q", "new")])], freeze=True
        )
        assert conn.execute("SELECT count(*) FROM job_executions").fetchone() == (2,)


def frozen_page(leaf: str) -> str:
    return (
        "SELECT count(*) FILTER (WHERE t_infomask & 768 = 768) > 0,"
        f" bool_and(t_infomask & 768 = 768) FROM heap_page_items(get_raw_page('{leaf}', 0))"
    )


def test_rows_routed_to_leaf_partitions_load_frozen_and_a_wrong_route_loads_nothing(
    db: PgDatabase,
) -> None:
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
        org = uuid.uuid4()
        conn.execute(
            "INSERT INTO organizations (id, name, slug) VALUES (%s, 'Acme CPAs', 'acme')", (org,)
        )
        info = describe(conn, "audit_logs")
        partitions.ensure(conn, info, dt.datetime(2026, 6, 15, tzinfo=dt.UTC))
        indexes = "SELECT count(*) FROM pg_indexes WHERE tablename LIKE 'audit_logs%'"
        before = conn.execute(indexes).fetchone()
        columns = ["id", "organization_id", "entity_type", "action", "created_at"]
        types = [info.columns[c].oid for c in columns]
        may = dt.datetime(2026, 5, 10, tzinfo=dt.UTC)
        june = dt.datetime(2026, 6, 10, tzinfo=dt.UTC)

        def rows(moment: dt.datetime, k: int) -> Batch:
            return Batch(
                columns, types, [(uuid.uuid4(), org, "client", "view", moment) for _ in range(k)]
            )

        # A June row sent to May's leaf: the leaf's bounds refuse it, and nothing is loaded.
        wrong = [
            Part("audit_logs_2026_05", [rows(may, 10)]),
            Part("audit_logs_2026_05", [rows(june, 1)]),
        ]
        with pytest.raises(CheckViolation):
            load_table(conn, "public", "audit_logs", parts=wrong, skip_triggers=True, freeze=True)
        assert conn.execute("SELECT count(*) FROM audit_logs").fetchone() == (0,)
        assert conn.execute(indexes).fetchone() == before

        parts = [
            Part("audit_logs_2026_05", [rows(may, 300)]),
            Part("audit_logs_2026_06", [rows(june, 200)]),
        ]
        result = load_table(
            conn, "public", "audit_logs", parts=parts, skip_triggers=True, freeze=True
        )
        assert result.rows == 500
        assert result.frozen == {"audit_logs_2026_05", "audit_logs_2026_06"}
        for leaf, n in (("audit_logs_2026_05", 300), ("audit_logs_2026_06", 200)):
            assert conn.execute(f"SELECT count(*) FROM {leaf}").fetchone() == (n,)
            assert conn.execute(frozen_page(leaf)).fetchone() == (True, True)
        assert conn.execute(indexes).fetchone() == before


def test_deferred_indexes_are_recorded_and_an_interrupted_seed_gets_them_back(
    db: PgDatabase,
) -> None:
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        org = uuid.uuid4()
        conn.execute(
            "INSERT INTO organizations (id, name, slug) VALUES (%s, 'Acme CPAs', 'acme')", (org,)
        )
        deferred.prepare(conn)
        before = snapshot(conn), conn.execute(KEYS).fetchall()
        unique = {
            r[0]
            for r in conn.execute(
                "SELECT indexrelid::regclass::text FROM pg_index"
                " WHERE indrelid = 'clients'::regclass AND indisunique"
            ).fetchall()
        }
        columns = ["id", "organization_id", "business_name", "status"]
        types = [describe(conn, "clients").columns[c].oid for c in columns]
        rows = Batch(columns, types, [(uuid.uuid4(), org, "Fine Co", "active")])
        result = load_table(
            conn, "public", "clients", [rows], skip_triggers=True, defer_indexes=True
        )
        later = {name for name, _ in result.deferred}
        assert later and not later & unique  # a uniqueness is never left unchecked
        # Committed with its keys, its secondary indexes recorded and not yet built: what a seed
        # stopped right here (killed, out of memory) would leave behind.
        indexes = {r[0] for r in conn.execute(INDEXES).fetchall()}
        assert not later & indexes
        recorded = conn.execute(
            "SELECT index_name FROM datagen.pending_indexes WHERE table_name = 'clients'"
        ).fetchall()
        assert {r[0] for r in recorded} == later
        assert conn.execute(KEYS).fetchall() == before[1]

        assert set(deferred.recover(conn)) == later
        assert (snapshot(conn), conn.execute(KEYS).fetchall()) == before
        assert conn.execute("SELECT count(*) FROM datagen.pending_indexes").fetchone() == (0,)
        assert deferred.recover(conn) == []
