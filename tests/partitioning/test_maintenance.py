"""Maintenance, default-partition moves, pruning, archive and export."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from advisoros_db.bench.partition_load import ORG, fill
from advisoros_db.partitioning import ArchiveError, archive, convert, maintain, restore, stats
from advisoros_db.partitioning.layout import AUDIT_LOGS, DOCUMENTS, add_months, month_start
from advisoros_db.partitioning.verify import table_checksum
from tests.support import PgDatabase


@pytest.fixture
def partitioned(plain: PgDatabase, admin: psycopg.Connection) -> PgDatabase:
    """audit_logs (six months of rows) and documents converted and finalized."""
    fill(admin, audit=600, documents=320)
    for spec in (AUDIT_LOGS, DOCUMENTS):
        convert.run(admin, spec)
        convert.finalize(admin, spec)
    return plain


def _partitions(conn: psycopg.Connection, parent: str) -> set[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = %s::regclass",
        (parent,),
    ).fetchall()
    return {r[0] for r in rows}


def _scanned(conn: psycopg.Connection, query: str, params: tuple[Any, ...]) -> set[str]:
    plan = conn.execute("EXPLAIN (FORMAT JSON) " + query, params).fetchone()
    assert plan is not None
    found: set[str] = set()

    def walk(node: dict[str, Any]) -> None:
        if "Relation Name" in node:
            found.add(node["Relation Name"])
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0][0]["Plan"])
    return found


def test_queries_prune_to_one_month_and_one_tax_year(
    partitioned: PgDatabase, admin: psycopg.Connection
) -> None:
    month = add_months(month_start(dt.datetime.now(dt.UTC)), -1)
    scanned = _scanned(
        admin,
        "SELECT count(*) FROM audit_logs WHERE organization_id = %s AND created_at >= %s AND created_at < %s",
        (ORG, month, add_months(month, 1)),
    )
    assert scanned == {f"audit_logs_{month:%Y_%m}"}
    scanned = _scanned(
        admin, "SELECT * FROM documents WHERE organization_id = %s AND tax_year = %s", (ORG, 2024)
    )
    assert scanned == {"documents_2024"}


def test_out_of_range_and_null_tax_years_land_in_the_default(
    partitioned: PgDatabase, admin: psycopg.Connection
) -> None:
    admin.execute(
        "INSERT INTO documents (organization_id, file_name, tax_year) VALUES (%s, 'old', 2035), (%s, 'none', NULL)",
        (ORG, ORG),
    )
    rows = admin.execute(
        "SELECT file_name, tableoid::regclass::text FROM documents WHERE file_name IN ('old', 'none')"
    ).fetchall()
    assert sorted(rows) == [("none", "documents_default"), ("old", "documents_default")]


def test_creating_a_month_moves_its_rows_out_of_the_default(
    partitioned: PgDatabase, admin: psycopg.Connection
) -> None:
    future = add_months(month_start(dt.datetime.now(dt.UTC)), 8)
    admin.execute(
        "INSERT INTO audit_logs (organization_id, entity_type, action, created_at)"
        " SELECT %s, 'client', 'create', %s + make_interval(hours => g) FROM generate_series(1, 40) g",
        (ORG, future),
    )
    before = table_checksum(admin, sql.Identifier("audit_logs"))
    assert admin.execute("SELECT count(*) FROM audit_logs_default").fetchone() == (40,)
    report = maintain(partitioned.admin_url, today=future.date(), tables=["audit_logs"])
    assert f"audit_logs_{future:%Y_%m}" in report.tables[0].created
    assert admin.execute("SELECT count(*) FROM audit_logs_default").fetchone() == (0,)
    assert admin.execute(
        sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(f"audit_logs_{future:%Y_%m}"))
    ).fetchone() == (40,)
    assert table_checksum(admin, sql.Identifier("audit_logs")) == before


def test_maintenance_is_idempotent_and_safe_twice_at_once(
    partitioned: PgDatabase, admin: psycopg.Connection
) -> None:
    later = dt.date.today() + dt.timedelta(days=800)
    reports = []
    threads = [
        threading.Thread(
            target=lambda: reports.append(maintain(partitioned.admin_url, today=later))
        )
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(reports) == 2 and any(r.ran for r in reports)
    created = [name for r in reports for t in r.tables for name in t.created]
    assert len(created) == len(set(created)) and created
    expected = {f"audit_logs_{add_months(month_start(later), i):%Y_%m}" for i in range(4)}
    assert expected <= _partitions(admin, "audit_logs")
    assert f"documents_{later.year + 2}" in _partitions(admin, "documents")
    again = maintain(partitioned.admin_url, today=later)
    assert again.ran and all(t.created == [] for t in again.tables)
    assert admin.execute(
        "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'audit_logs'"
    ).fetchone() in ((True,), None)


def test_sql_functions_keep_the_runway_and_report_stats(
    partitioned: PgDatabase, admin: psycopg.Connection
) -> None:
    name = admin.execute("SELECT create_next_audit_logs_partition()").fetchone()
    newest = add_months(month_start(dt.datetime.now(dt.UTC)), 4)
    assert name == (f"audit_logs_{newest:%Y_%m}",)
    assert admin.execute("SELECT create_next_documents_partition()").fetchone() == (
        "documents_2031",
    )
    rows = stats(partitioned.admin_url, "documents")
    assert {r["partition_name"] for r in rows} >= {"documents_2031", "documents_default"}
    assert all(r["parent_table"] == "documents" for r in rows)


def test_archive_detaches_old_months_and_keeps_them_readable(
    partitioned: PgDatabase, admin: psycopg.Connection
) -> None:
    total = admin.execute("SELECT count(*) FROM audit_logs").fetchone()
    done = archive(partitioned.admin_url, keep_months=3)
    assert [a.partition for a in done] == sorted(a.partition for a in done) and len(done) == 2
    archived = sum(
        admin.execute(
            sql.SQL("SELECT count(*) FROM archive.{}").format(sql.Identifier(a.partition))
        ).fetchone()[0]
        for a in done
    )
    assert archived == sum(a.rows for a in done) == 200
    assert admin.execute("SELECT count(*) FROM audit_logs").fetchone() == (total[0] - 200,)
    assert archive(partitioned.admin_url, keep_months=3) == []


def test_export_restores_to_the_same_checksum_and_rejects_a_damaged_file(
    partitioned: PgDatabase, admin: psycopg.Connection, tmp_path: Path
) -> None:
    # Six months of rows (this one and five before); keeping three archives the oldest two.
    done = archive(partitioned.admin_url, keep_months=3, export_dir=tmp_path)
    assert len(done) == 2 and all(a.dropped for a in done)
    first = done[0]
    assert admin.execute("SELECT to_regclass(%s)", (f"archive.{first.partition}",)).fetchone() == (
        None,
    )
    path = Path(first.file or "")
    rows, checksum = restore(admin, path, schema="restored")
    assert (rows, checksum) == (first.rows, first.checksum)
    manifest = json.loads(path.with_suffix(".json").read_text())
    assert manifest["rows"] == first.rows
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ArchiveError, match="damaged"):
        restore(admin, path, schema="restored", name="again")
    assert admin.execute("SELECT to_regclass('restored.again')").fetchone() == (None,)
    with pytest.raises(ArchiveError, match="0 or more"):
        archive(partitioned.admin_url, keep_months=-1)
