"""A database migrated from empty gets its partitioned tables directly: no plain copies, no mirror
triggers, no rollback window. One opens only with `partitions convert` of a populated table, is
shown by stats, maintain and health, and closes with finalize (issue 16.1)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from typing import Any

import psycopg

from advisoros_db import migrations, partitioning
from advisoros_db.partitioning import AUDIT_LOGS, convert
from tests.support import PgDatabase

_ORG = "INSERT INTO organizations (name, slug) VALUES ('Acme CPA', %s) RETURNING id"


def _leftovers(admin: psycopg.Connection[Any]) -> tuple[list[str], list[str]]:
    mirrors = admin.execute(
        "SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname = 'partition_mirror'"
        " AND tgparentid = 0"  # not the clones on each partition
    ).fetchall()
    plain = admin.execute(
        "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace"
        " AND relname IN ('documents_old', 'audit_logs_old', 'documents_partitioned',"
        " 'audit_logs_partitioned')"
    ).fetchall()
    return [r[0] for r in mirrors], [r[0] for r in plain]


def _cli(db: PgDatabase, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ADVISOROS_DATABASE_URL": db.admin_url,
        "ADVISOROS_APP_DATABASE_URL": db.app_url,
        "COLUMNS": "300",
    }
    return subprocess.run(
        [sys.executable, "-m", "advisoros_db.cli.app", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_a_fresh_database_has_no_copies_no_mirrors_and_no_window(db: PgDatabase) -> None:
    with psycopg.connect(db.admin_url) as admin:
        assert _leftovers(admin) == ([], [])
        assert partitioning.open_windows(admin) == []
        kinds = admin.execute(
            "SELECT relname, relkind FROM pg_class WHERE relname IN ('documents', 'audit_logs')"
            " AND relnamespace = 'public'::regnamespace ORDER BY 1"
        ).fetchall()
    assert kinds == [("audit_logs", "p"), ("documents", "p")]
    assert all(r["rollback_window_since"] is None for r in partitioning.stats(db.admin_url))


def test_the_swap_downgrades_and_upgrades_with_rows_and_leaves_nothing_behind(
    db: PgDatabase,
) -> None:
    with psycopg.connect(db.admin_url, autocommit=True) as admin:
        org = admin.execute(_ORG, (f"acme-{uuid.uuid4().hex[:6]}",)).fetchone()
        assert org is not None
        admin.execute(
            "INSERT INTO audit_logs (organization_id, entity_type, action, created_at)"
            " SELECT %s, 'client', 'create', now() - make_interval(days => g)"
            " FROM generate_series(1, 300) g",
            (org[0],),
        )
    migrations.downgrade(db.admin_url, "0004_partitioned_tables")
    with psycopg.connect(db.admin_url) as admin:
        kind = admin.execute("SELECT relkind FROM pg_class WHERE relname = 'audit_logs'")
        assert kind.fetchone() == ("r",)
        assert admin.execute("SELECT count(*) FROM audit_logs").fetchone() == (300,)
    migrations.upgrade(db.admin_url, "head")
    with psycopg.connect(db.admin_url) as admin:
        assert admin.execute("SELECT count(*) FROM audit_logs").fetchone() == (300,)
        assert _leftovers(admin) == ([], [])


def test_a_conversion_opens_a_window_that_is_shown_until_finalize(empty_db: PgDatabase) -> None:
    url = empty_db.admin_url
    migrations.upgrade(url, "0004_partitioned_tables")
    with psycopg.connect(url, autocommit=True) as admin:
        org = admin.execute(_ORG, ("acme",)).fetchone()
        assert org is not None
        admin.execute(
            "INSERT INTO audit_logs (organization_id, entity_type, action)"
            " SELECT %s, 'client', 'create' FROM generate_series(1, 50)",
            (org[0],),
        )
        convert.run(admin, AUDIT_LOGS)
    migrations.upgrade(url, "head")
    with psycopg.connect(url, autocommit=True) as admin:
        windows = partitioning.open_windows(admin)
        assert [(w.table, w.plain_table) for w in windows] == [("audit_logs", "audit_logs_old")]
        assert _leftovers(admin) == (["audit_logs"], ["audit_logs_old"])
    since = windows[0].since.isoformat()
    rows = json.loads(_cli(empty_db, "partitions", "stats", "--json").stdout)
    assert {r["parent_table"]: r["rollback_window_since"] for r in rows} == {
        "audit_logs": since,
        "documents": None,
    }
    text = _cli(empty_db, "partitions", "stats")
    assert "rollback window open on audit_logs since" in text.stdout
    maintained = partitioning.maintain(url)
    assert any("rollback window open" in w for t in maintained.tables for w in t.warnings)
    health = _cli(empty_db, "health", "--json")
    assert health.returncode == 0, health.stderr
    assert [w["table"] for w in json.loads(health.stdout)["rollback_windows"]] == ["audit_logs"]
    with psycopg.connect(url, autocommit=True) as admin:
        convert.finalize(admin, AUDIT_LOGS)
        assert partitioning.open_windows(admin) == []
        assert _leftovers(admin) == ([], [])
    assert "rollback window" not in _cli(empty_db, "partitions", "stats").stdout
