"""Index insights on indexes the tests create: usage rolled up to parents, unused, duplicate,
overlapping and invalid indexes."""

from __future__ import annotations

import re

import psycopg
import pytest

from advisoros_db.ops.insights import collect, problems
from tests.insights.conftest import flush_stats, settings, wait_for
from tests.support import PgDatabase

PROBE = """
CREATE TABLE probe (a int NOT NULL, b int NOT NULL, c text);
INSERT INTO probe SELECT g, g % 97, 'x' || g FROM generate_series(1, 20000) g;
CREATE INDEX probe_a ON probe (a);
CREATE INDEX probe_a_again ON probe (a);
CREATE INDEX probe_a_b ON probe (a, b);
CREATE INDEX probe_c ON probe (c);
ANALYZE probe;
"""


def _scans(url: str, index: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = %s", (index,)
        ).fetchone()
    return int(row[0]) if row else 0


def test_unused_duplicate_and_overlapping_indexes(db: PgDatabase) -> None:
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        conn.execute(PROBE)
        # Only the two-column index is used: a lookup on both its columns.
        conn.execute("SET enable_seqscan = off")
        conn.execute("SET enable_bitmapscan = off")
        plan = conn.execute("EXPLAIN SELECT * FROM probe WHERE a = 5 AND b = 5").fetchall()
        assert "probe_a_b" in str(plan)
        conn.execute("SELECT * FROM probe WHERE a = 5 AND b = 5").fetchall()
        flush_stats(conn)
    wait_for("the scan of probe_a_b to show", lambda: _scans(db.admin_url, "probe_a_b") > 0)

    report = collect(db.admin_url, settings())
    usage = {i["index"]: i for i in report["indexes"]["usage"]}
    assert usage["probe_a_b"]["scans"] >= 1 and usage["probe_a_b"]["bytes"] > 0
    unused = {i["index"]: i for i in report["indexes"]["unused"]}
    assert {"probe_a", "probe_a_again", "probe_c"} <= set(unused)
    assert "probe_a_b" not in unused
    assert all(i["bytes"] > 0 for name, i in unused.items() if name.startswith("probe"))
    # A primary key is never reported unused: it enforces uniqueness even with no scan.
    assert not any(i["unique"] for i in report["indexes"]["unused"])

    redundant = {(r["kind"], r["index"], r["covered_by"]) for r in report["indexes"]["redundant"]}
    assert ("duplicate", "probe_a_again", "probe_a") in redundant
    assert ("overlapping", "probe_a", "probe_a_b") in redundant
    assert not any(r["index"] == "probe_c" for r in report["indexes"]["redundant"])

    # Sizes list the largest tables first (the probe table outweighs the fresh schema's).
    totals = [t["table_bytes"] + t["index_bytes"] for t in report["sizes"]["tables"]]
    assert totals == sorted(totals, reverse=True)
    assert report["sizes"]["tables"][0]["table"] == "probe"

    found = problems(report, settings(insights_unused_index_bytes=0))
    subjects = {(p["check"], p["subject"]) for p in found}
    assert ("duplicate_index", "probe_a_again") in subjects
    assert ("unused_index", "probe_c") in subjects
    assert ("unused_index", "probe_a_b") not in subjects
    # Above the size threshold the small probe indexes are listed but not problems.
    large = problems(report, settings(insights_unused_index_bytes=1 << 40))
    assert not any(p["check"] == "unused_index" for p in large)


def test_partition_indexes_roll_up_to_their_parent(db: PgDatabase) -> None:
    report = collect(db.admin_url, settings())
    tables = {i["table"] for i in report["indexes"]["usage"]}
    assert "audit_logs" in tables and "documents" in tables
    partition = re.compile(r"^(audit_logs_\d{4}_\d{2}|documents_\d{4}|\w+_default)$")
    assert not [t for t in tables if partition.match(t)]
    sized = {t["table"] for t in report["sizes"]["tables"]}
    assert not [t for t in sized if partition.match(t)]


def test_invalid_index_is_a_problem(db: PgDatabase) -> None:
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE dup (a int)")
        conn.execute("INSERT INTO dup VALUES (1), (1)")
        # A unique build that fails on duplicates leaves an invalid index behind when concurrent.
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("CREATE UNIQUE INDEX CONCURRENTLY dup_a ON dup (a)")
    report = collect(db.admin_url, settings())
    assert {"schema": "public", "table": "dup", "index": "dup_a"} in report["indexes"]["invalid"]
    assert ("invalid_index", "dup_a") in {
        (p["check"], p["subject"]) for p in problems(report, settings())
    }
