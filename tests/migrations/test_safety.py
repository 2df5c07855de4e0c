"""Migrations that cannot surprise: a rollback that would drop rows needs --yes, a rollback that
stops says where and why, and concurrent migrate runs take turns instead of deadlocking."""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest
from typer.testing import CliRunner

from advisoros_db import advisory, migrations
from advisoros_db.cli.app import app
from advisoros_db.errors import MigrationError
from advisoros_db.migrations.drift import head_revision
from advisoros_db.migrations.runner import MIGRATION_LOCK
from tests.support import PgDatabase


def _add_organizations(url: str, count: int) -> None:
    with psycopg.connect(url) as conn:
        for _ in range(count):
            conn.execute(
                "INSERT INTO organizations (id, name, slug) VALUES (%s, 'Firm', %s)",
                (uuid.uuid4(), f"firm-{uuid.uuid4().hex[:8]}"),
            )


def _organizations(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM organizations").fetchone()
    return int(row[0]) if row else -1


def _cli(db: PgDatabase, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("ADVISOROS_DATABASE_URL", db.admin_url)
    monkeypatch.setenv("ADVISOROS_APP_DATABASE_URL", db.app_url)
    monkeypatch.setenv("COLUMNS", "400")
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_rollback_to_base_on_a_populated_database_is_refused_listing_what_it_drops(
    db: PgDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    _add_organizations(db.admin_url, 3)
    with pytest.raises(MigrationError, match=r"organizations \(3\).*--yes"):
        migrations.downgrade(db.admin_url, "base")
    code, out = _cli(db, monkeypatch, "rollback", "--to", "base")
    assert code == 1
    assert "would drop 1 table(s) holding 3 rows: organizations (3)" in out
    assert "Nothing was changed" in out
    assert migrations.current(db.admin_url) == head_revision()
    assert _organizations(db.admin_url) == 3

    code, out = _cli(db, monkeypatch, "rollback", "--to", "base", "--yes")
    assert code == 0, out
    assert "database at base" in out
    assert migrations.current(db.admin_url) is None


def test_rollback_of_an_empty_database_needs_no_confirmation(db: PgDatabase) -> None:
    done = migrations.downgrade(db.admin_url, "0004_partitioned_tables")
    revisions = [revision for revision, _down, _message in migrations.history()]
    above = revisions[revisions.index("0004_partitioned_tables") + 1 :]
    assert done.undone == list(reversed(above))
    assert done.undone[-3:] == [
        "0007_leakproof_search_operators",
        "0006_vector_indexes",
        "0005_partition_swap",
    ]
    assert done.at == "0004_partitioned_tables"


def test_a_rollback_that_fails_midway_says_where_it_stopped_and_why(
    db: PgDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another transaction holds audit_logs: undoing 0005 (which swaps it back) times out on its
    # lock, after 0007 and 0006 were undone. The later revisions go first, unblocked.
    migrations.downgrade(db.admin_url, "0007_leakproof_search_operators")
    with psycopg.connect(db.admin_url) as blocker:
        blocker.execute("LOCK TABLE audit_logs IN ACCESS SHARE MODE")
        code, out = _cli(db, monkeypatch, "rollback", "--steps", "3")
        blocker.rollback()
    assert code == 1
    assert "rollback stopped at 0005_partition_swap" in out
    assert "undoing 0005_partition_swap failed" in out
    assert "lock timeout" in out
    assert "Undone before it: 0007_leakproof_search_operators, 0006_vector_indexes" in out
    assert "Traceback" not in out
    assert migrations.current(db.admin_url) == "0005_partition_swap"


def test_steps_beyond_the_history_are_refused_before_anything_runs(db: PgDatabase) -> None:
    count = len(migrations.history())
    with pytest.raises(MigrationError, match=f"only {count} revision"):
        migrations.downgrade_steps(db.admin_url, count + 1)
    assert migrations.current(db.admin_url) == head_revision()


def test_concurrent_migrations_wait_for_each_other(empty_db: PgDatabase) -> None:
    url = empty_db.admin_url
    runs = 3
    waiting = [threading.Event() for _ in range(runs)]
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            migrations.upgrade(url, on_wait=waiting[i].set)
        except BaseException as exc:  # asserted on below
            errors.append(exc)

    # Deterministic: the test holds the migration lock until every run has said it waits.
    with advisory.holding(url, MIGRATION_LOCK) as got:
        assert got
        threads = [threading.Thread(target=run, args=(i,)) for i in range(runs)]
        for t in threads:
            t.start()
        for event in waiting:
            assert event.wait(timeout=60), "a migrate run did not wait for the lock"
        assert migrations.current(url) is None  # none ran while the lock was held
    for t in threads:
        t.join(timeout=600)
    assert errors == []
    assert migrations.current(url) == head_revision()
