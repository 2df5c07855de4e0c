"""A backup killed midway leaves a clear state and the next one succeeds; retention by recovery
window never removes what a restore inside the window needs."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys

import psutil
import pytest
from typer.testing import CliRunner

from advisoros_db.backup import BackupRecord, Target
from advisoros_db.backup.retention import plan
from advisoros_db.cli.app import app
from tests.backup.conftest import BackupEnv, db_url, execute, table_checksums
from tests.routing.conftest import wait_for

NOW = dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)


@pytest.mark.slow
def test_a_backup_killed_midway_reads_as_failed_and_the_next_one_succeeds(
    benv: BackupEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = benv.backups.repo
    before = {r.id for r in repo.records()}
    # Throttled to pg_basebackup's slowest rate, the copy is certain to be under way when killed.
    proc = subprocess.Popen(
        [sys.executable, "-m", "advisoros_db.cli.app", "backup", "create", "--max-rate=32k"],
        env={**os.environ, **benv.env()},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def copying() -> bool:
            running = [r for r in repo.records() if r.id not in before and r.status == "running"]
            staged = running and (repo.staging / running[0].id).exists()
            return bool(staged and any((repo.staging / running[0].id).iterdir()))

        wait_for(copying, timeout=60, what="the backup started copying")
        children = [
            c
            for c in psutil.Process(proc.pid).children(recursive=True)
            if "pg_basebackup" in c.name()
        ]
        assert children, "pg_basebackup is copying"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)

    killed = next(r for r in repo.records() if r.id not in before)
    assert killed.status == "failed"
    assert killed.error is not None and "interrupted" in killed.error
    for name, value in benv.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("COLUMNS", "300")
    listing = CliRunner().invoke(app, ["backup", "list"])
    assert "failed: interrupted" in listing.output

    nxt = benv.backups.create()
    assert nxt.status == "done"
    # No copy of the killed backup is left writing plaintext behind it.
    psutil.wait_procs(children, timeout=10)
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert not (repo.staging / killed.id).exists(), "the killed backup's plaintext is gone"
    assert killed.id not in {r.id for r in benv.backups.repo.done()}
    with pytest.raises(Exception, match="is failed"):
        benv.backups.restore(benv.folder("from-killed"), backup_id=killed.id)


def _record(
    backup_id: str, hours_ago: float, *, parent: str | None = None, status: str = "done"
) -> BackupRecord:
    finished = (NOW - dt.timedelta(hours=hours_ago)).isoformat()
    return BackupRecord(
        id=backup_id,
        kind="incremental" if parent else "full",
        parent=parent,
        status=status,  # type: ignore[arg-type]
        started_at=finished,
        finished_at=finished,
        start_lsn="0/3000000",
        timeline=1,
    )


def test_retention_keeps_the_newest_backup_before_the_window_and_the_chains_inside() -> None:
    records = [
        _record("f1", 24 * 20),
        _record("f2", 24 * 10),
        _record("i1", 24 * 9, parent="f2"),
        _record("f3", 24 * 3),
        _record("i2", 24 * 2, parent="f3"),
        _record("bad", 24 * 1, status="failed"),
    ]
    result = plan(records, dt.timedelta(days=7), NOW)
    # A restore to 7 days ago starts from i1 (ended 9 days ago), which needs f2.
    assert result.keep == ["f2", "f3", "i1", "i2"]
    assert result.remove == ["f1", "bad"]


def test_retention_never_removes_the_only_backup_even_when_it_is_older_than_the_window() -> None:
    only = [_record("f1", 24 * 30), _record("i1", 24 * 29, parent="f1")]
    result = plan(only, dt.timedelta(days=7), NOW)
    assert result.keep == ["f1", "i1"] and result.remove == []


def test_retention_keeps_an_incrementals_parent_far_outside_the_window() -> None:
    records = [
        _record("f1", 24 * 60),
        _record("i1", 24 * 30, parent="f1"),
        _record("i2", 1, parent="i1"),
    ]
    assert plan(records, dt.timedelta(days=7), NOW).keep == ["f1", "i1", "i2"]


@pytest.mark.slow
def test_prune_then_restore_to_the_newest_point_still_works(benv: BackupEnv) -> None:
    url = db_url(benv.admin_url)
    execute(
        url, "CREATE TABLE IF NOT EXISTS prune_rows (v int)", "INSERT INTO prune_rows VALUES (1)"
    )
    benv.backups.create()
    newest = benv.backups.create(incremental=True)
    # A window that ended just before now: everything but the newest chain is outside it.
    narrow = type(benv.backups)(**{**benv.backups.__dict__, "window": dt.timedelta(microseconds=1)})
    result = narrow.prune()
    kept = {r.id for r in benv.backups.repo.records()}
    assert newest.id in kept and newest.parent in kept
    assert set(result.remove).isdisjoint(kept)
    expected = table_checksums(url)
    restored = benv.backups.restore(
        benv.folder("after-prune"), target=Target(immediate=True), keep_running=True
    )
    try:
        assert restored.backup_id == newest.id
        assert table_checksums(db_url(restored.url)) == expected
    finally:
        from advisoros_db.cluster import node

        node.kill(restored.node)
