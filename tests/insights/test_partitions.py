"""Partition insights: a short runway, an open conversion rollback window, `insights check`."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import psycopg
from psycopg import sql

from advisoros_db.bench.partition_load import fill
from advisoros_db.ops.insights import collect, problems
from advisoros_db.partitioning import convert, maintain
from advisoros_db.partitioning.archive import partitions_of
from advisoros_db.partitioning.layout import AUDIT_LOGS, DOCUMENTS, month_start
from tests.insights.conftest import settings
from tests.support import PgDatabase


def _runway(report: dict, table: str) -> dict:
    return next(r for r in report["partitions"]["runway"] if r["table"] == table)


def _drop_future_months(url: str) -> list[str]:
    start = month_start(dt.datetime.now(dt.UTC))
    with psycopg.connect(url, autocommit=True) as conn:
        future = [
            p.name
            for p in partitions_of(conn, AUDIT_LOGS)
            if isinstance(p.lower, dt.datetime) and p.lower > start
        ]
        for name in future:
            conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(name)))
    return future


def test_short_runway_is_a_problem_until_maintenance_runs(db: PgDatabase) -> None:
    maintain(db.admin_url)
    before = collect(db.admin_url, settings())
    assert _runway(before, "audit_logs")["ahead"] == AUDIT_LOGS.runway
    assert _runway(before, "documents")["ahead"] >= DOCUMENTS.runway
    assert "partition_runway" not in {p["check"] for p in problems(before, settings())}

    assert len(_drop_future_months(db.admin_url)) == AUDIT_LOGS.runway
    short = collect(db.admin_url, settings())
    runway = _runway(short, "audit_logs")
    assert runway["ahead"] == 0 and runway["covers_current"]
    found = [p for p in problems(short, settings()) if p["check"] == "partition_runway"]
    assert [p["subject"] for p in found] == ["audit_logs"]
    assert "partitions maintain" in found[0]["message"]

    maintain(db.admin_url)
    again = collect(db.admin_url, settings())
    assert _runway(again, "audit_logs")["ahead"] == AUDIT_LOGS.runway
    assert "partition_runway" not in {p["check"] for p in problems(again, settings())}


def test_open_rollback_window_until_finalize(plain: PgDatabase, admin: psycopg.Connection) -> None:
    fill(admin, audit=300, documents=10)
    closed = collect(plain.admin_url, settings())
    assert not any(w["open"] for w in closed["partitions"]["rollback_windows"])
    convert.run(admin, AUDIT_LOGS)
    opened = collect(plain.admin_url, settings())
    windows = {w["table"]: w["open"] for w in opened["partitions"]["rollback_windows"]}
    assert windows == {"audit_logs": True, "documents": False}
    assert ("rollback_window", "audit_logs") in {
        (p["check"], p["subject"]) for p in problems(opened, settings())
    }
    convert.finalize(admin, AUDIT_LOGS)
    final = collect(plain.admin_url, settings())
    assert not any(w["open"] for w in final["partitions"]["rollback_windows"])


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ADVISOROS_DATABASE_URL": url,
        "COLUMNS": "200",
        # The fresh test database's small indexes and the session's replicas are not the subject.
        "ADVISOROS_INSIGHTS_UNUSED_INDEX_BYTES": str(1 << 40),
        "ADVISOROS_INSIGHTS_SLOT_RETAINED_BYTES": str(1 << 50),
    }
    return subprocess.run(
        [sys.executable, "-m", "advisoros_db.cli.app", "insights", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_insights_check_exits_non_zero_and_lists_problems(db: PgDatabase) -> None:
    maintain(db.admin_url)
    shown = _cli(db.admin_url, "--json")
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)
    assert {"indexes", "sizes", "activity", "statements", "replication", "partitions"} <= set(
        report
    )
    baseline = {p["check"] for p in report["problems"]}
    assert "partition_runway" not in baseline

    _drop_future_months(db.admin_url)
    failed = _cli(db.admin_url, "check", "--json")
    assert failed.returncode == 1
    listed = json.loads(failed.stdout)
    assert ("partition_runway", "audit_logs") in {(p["check"], p["subject"]) for p in listed}
    text = _cli(db.admin_url, "check")
    assert text.returncode == 1 and "audit_logs has 0 months" in text.stdout
