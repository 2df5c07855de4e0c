"""The revision chain on a real database: up, down to base, up again; each step reversible; a held
lock makes a migration give up instead of queueing; `alembic upgrade head` works from the root."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from advisoros_db import migrations
from advisoros_db.errors import LockTimeout, MigrationError
from advisoros_db.migrations.drift import head_revision
from advisoros_db.partitioning.layout import kept_tables
from tests.support import PgDatabase

ROOT = Path(__file__).resolve().parents[2]


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
            "AND relkind IN ('r', 'p') AND NOT relispartition"
        ).fetchall()
    return {r[0] for r in rows}


def _scalar(url: str, query: str) -> object:
    with psycopg.connect(url) as conn:
        row = conn.execute(query).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return row[0]


def test_upgrade_downgrade_to_base_and_upgrade_again(empty_db: PgDatabase) -> None:
    url = empty_db.admin_url
    migrations.upgrade(url)
    assert migrations.current(url) == head_revision()
    # 48 tables, the documents id registry and the audit month rollups (0018); the plain tables
    # the partition swap keeps for its rollback window are not the schema's.
    assert len(_tables(url) - {"alembic_version"} - kept_tables()) == 50

    migrations.downgrade(url, "base")
    assert migrations.current(url) is None
    assert _tables(url) <= {"alembic_version"}
    assert _scalar(url, "SELECT count(*) FROM pg_policy") == 0
    assert (
        _scalar(url, "SELECT count(*) FROM pg_proc WHERE proname = 'advisoros_refuse_change'") == 0
    )
    assert (
        _scalar(url, "SELECT count(*) FROM pg_extension WHERE extname IN ('vector', 'citext')") == 0
    )

    migrations.upgrade(url)
    assert migrations.current(url) == head_revision()
    assert migrations.drift(url) == []


def test_each_revision_steps_down_and_up(empty_db: PgDatabase) -> None:
    url = empty_db.admin_url
    migrations.upgrade(url, "0001_initial_schema")
    assert len(_tables(url) - {"alembic_version"}) == 42
    migrations.upgrade(url, "0002_added_tables")
    assert {"document_embeddings", "job_executions"} <= _tables(url)
    migrations.downgrade_steps(url, 1)
    assert migrations.current(url) == "0001_initial_schema"
    assert "document_embeddings" not in _tables(url)
    assert _scalar(url, "SELECT count(*) FROM pg_policy") == 41


def test_an_unknown_revision_is_a_migration_error(empty_db: PgDatabase) -> None:
    with pytest.raises(MigrationError, match=r"nope.*advisoros-db history"):
        migrations.upgrade(empty_db.admin_url, "nope")
    with pytest.raises(MigrationError, match="at least 1"):
        migrations.downgrade_steps(empty_db.admin_url, 0)


def test_a_migration_gives_up_on_a_held_lock_and_leaves_the_database_as_it_was(
    empty_db: PgDatabase,
) -> None:
    url = empty_db.admin_url
    migrations.upgrade(url, "0001_initial_schema")
    with psycopg.connect(url) as holder:
        holder.execute("LOCK TABLE documents IN ACCESS EXCLUSIVE MODE")
        # Gave up (LockTimeout, from the revision's lock_timeout) rather than waited: how long
        # that took is wall-clock, not asserted on a shared machine; a hang would meet the
        # suite's per-test timeout.
        with pytest.raises(LockTimeout, match="retry later"):
            migrations.upgrade(url)
        holder.rollback()
    assert migrations.current(url) == "0001_initial_schema"
    assert "document_embeddings" not in _tables(url)


def test_every_revision_sets_a_lock_timeout(capsys: pytest.CaptureFixture[str]) -> None:
    # Regression: the offline SQL went to stdout and upgrade_sql() returned "".
    script = migrations.upgrade_sql()
    assert capsys.readouterr().out == ""
    revisions = [rev for rev, _down, _msg in migrations.history()]
    assert script.count("SET LOCAL lock_timeout") >= len(revisions)
    assert script.count("FORCE ROW LEVEL SECURITY") == 46 + 1 + 1  # + audit_log_rollups (0018)


def test_alembic_upgrade_head_from_the_repository_root(empty_db: PgDatabase) -> None:
    env = {**os.environ, "ADVISOROS_DATABASE_URL": empty_db.admin_url}
    done = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert migrations.current(empty_db.admin_url) == head_revision()
