"""Disk a restore needs (`backup.room`): an incremental chain is combined with hard links, so only
the files with changed blocks are written anew, and the estimate made from the manifests before a
restore covers what pg_combinebackup really writes."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest

from advisoros_db.backup import restore, room
from advisoros_db.backup.crypt import BackupError
from advisoros_db.backup.restore import materialize
from tests.backup.conftest import BackupEnv, db_url, execute

pytestmark = pytest.mark.slow


def test_a_chain_restore_writes_anew_no_more_than_the_estimate_and_links_the_rest(
    benv: BackupEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = db_url(benv.admin_url)
    execute(
        url,
        "DROP TABLE IF EXISTS room_still, room_edited",
        "CREATE TABLE room_still AS SELECT g AS id, repeat('s', 500) AS v"
        " FROM generate_series(1, 20000) g",
        "CREATE TABLE room_edited AS SELECT g AS id, repeat('e', 500) AS v"
        " FROM generate_series(1, 20000) g",
        "VACUUM (FREEZE) room_still, room_edited",
        "CHECKPOINT",
    )
    with psycopg.connect(url) as conn:
        paths = {
            t: str(conn.execute("SELECT pg_relation_filepath(%s)", (t,)).fetchone()[0])  # type: ignore[index]
            for t in ("room_still", "room_edited")
        }
    backups = benv.backups
    backups.create()
    execute(url, "UPDATE room_edited SET v = 'changed' WHERE id % 1000 = 0")
    incremental = backups.create(incremental=True)
    chain = backups.repo.chain(incremental)

    estimate = room.rebuilt_bytes(backups.repo, backups.cipher, chain)
    need = room.restore_need(backups.repo, backups.cipher, incremental)
    target = benv.folder("room")
    target.mkdir()
    data = target / "data"
    # Keep the unpacked backups (materialize deletes them) to see which files are links into them.
    kept: list[Path] = []
    monkeypatch.setattr(restore, "shutil", SimpleNamespace(move=shutil.move, rmtree=kept.append))
    materialize(backups.repo, backups.cipher, incremental, data, target / "unpacked")
    monkeypatch.undo()

    files = [p for p in data.rglob("*") if p.is_file()]
    written = sum(p.stat().st_size for p in files if p.stat().st_nlink == 1)
    linked = sum(p.stat().st_size for p in files if p.stat().st_nlink > 1)
    assert sorted(kept) == sorted(target / "unpacked" / r.id for r in chain)
    assert 0 < written <= estimate, (written, estimate)
    # The unchanged table (10 MB) is a link, the edited one rebuilt; the estimate counts only it.
    assert (data / paths["room_still"]).stat().st_nlink > 1
    assert (data / paths["room_edited"]).stat().st_nlink == 1
    assert linked > 10_000_000
    assert estimate < (data / paths["room_still"]).stat().st_size * 2
    assert need.parts["files pg_combinebackup rebuilds"] == estimate
    assert need.bytes > estimate
    shutil.rmtree(target)


def test_refuses_a_step_the_disk_cannot_hold_naming_the_figures(benv: BackupEnv) -> None:
    need = room.create_need(40 * room.GB)
    with pytest.raises(BackupError) as caught:
        room.ensure_room(benv.scratch, need, reserve=3 * room.GB, free=70 * room.GB)
    message = str(caught.value)
    assert "not enough disk for a full backup" in message
    assert "81.0 GB" in message and "3.0 GB are to stay free" in message
    assert "70.0 GB are free" in message and "plaintext staging 40.00 GB" in message
    room.ensure_room(benv.scratch, need, reserve=3 * room.GB, free=84 * room.GB)
