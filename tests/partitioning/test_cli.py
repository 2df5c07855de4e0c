"""The `partitions` commands: thin shells that print JSON or one clear error line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psycopg
import pytest
import typer

from advisoros_db import partitioning
from advisoros_db.cli.partitions import parse_duration
from tests.support import PgDatabase


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ADVISOROS_DATABASE_URL": url, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "advisoros_db.cli.app", "partitions", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_durations() -> None:
    assert (
        parse_duration("90s") == 90
        and parse_duration("15m") == 900
        and parse_duration("1d") == 86400
    )
    for bad in ("", "5", "-1m", "0s", "1w"):
        with pytest.raises(typer.BadParameter, match="not a duration"):
            parse_duration(bad)


def test_maintain_and_stats_as_json(db: PgDatabase) -> None:
    done = _cli(db.admin_url, "maintain", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["ran"] and {t["table"] for t in report["tables"]} == {"audit_logs", "documents"}
    shown = _cli(db.admin_url, "stats", "--json")
    assert shown.returncode == 0, shown.stderr
    rows = json.loads(shown.stdout)
    assert {"audit_logs", "documents"} == {r["parent_table"] for r in rows}


def test_bad_input_is_one_clear_line(db: PgDatabase) -> None:
    unknown = _cli(db.admin_url, "convert", "clients")
    assert unknown.returncode == 1 and "choose one of audit_logs, documents" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    # A database migrated from empty has no rollback window: nothing to roll back or finalize.
    for step, verb in (("rollback", "roll back"), ("finalize", "finalize")):
        refused = _cli(db.admin_url, step, "audit_logs")
        assert refused.returncode == 1 and f"cannot {verb} audit_logs" in refused.stderr
        assert "phase finalized" in refused.stderr and "Traceback" not in refused.stderr


def test_convert_rollback_and_finalize_print_json(plain: PgDatabase) -> None:
    url = plain.admin_url
    for table in ("audit_logs", "documents"):
        converted = _cli(url, "convert", table, "--json")
        assert converted.returncode == 0, converted.stderr
        assert json.loads(converted.stdout)["table"] == table
    back = _cli(url, "rollback", "audit_logs", "--json")
    assert back.returncode == 0, back.stderr
    rolled = json.loads(back.stdout)
    assert rolled["table"] == "audit_logs" and rolled["partitioned"] is False
    assert rolled["swap_lock_ms"] >= 0
    done = _cli(url, "finalize", "documents", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "table": "documents",
        "partitioned": True,
        "dropped": partitioning.spec_for("documents").old_name,
    }
    with psycopg.connect(url) as conn:
        kinds = dict(
            conn.execute(
                "SELECT relname, relkind FROM pg_class"
                " WHERE relname IN ('audit_logs', 'documents') AND relnamespace = 'public'::regnamespace"
            ).fetchall()
        )
    assert kinds == {"audit_logs": "r", "documents": "p"}
