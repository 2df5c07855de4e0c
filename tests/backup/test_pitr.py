"""Point-in-time restore and incremental chains, on real servers restored from real backups."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from advisoros_db.backup import Target
from advisoros_db.cli.app import app
from advisoros_db.cluster import node
from advisoros_db.cluster.node import Node
from tests.backup.conftest import (
    BackupEnv,
    current_lsn,
    db_url,
    execute,
    server_time,
    table_checksums,
)

pytestmark = pytest.mark.slow


def test_restore_to_a_noted_time_has_a_and_not_b_and_every_table_matches(
    benv: BackupEnv, monkeypatch: pytest.MonkeyPatch, stop_after: list[tuple[Node, object]]
) -> None:
    url = db_url(benv.admin_url)
    execute(url, "CREATE TABLE IF NOT EXISTS pitr_notes (id int PRIMARY KEY, v text)")
    benv.backups.create()
    execute(
        url,
        "INSERT INTO pitr_notes VALUES (1, 'A')",
        "INSERT INTO organizations (id, name, slug)"
        " VALUES ('00000000-0000-0000-0000-00000000000a', 'Firm A', 'firm-a')",
    )
    expected = table_checksums(url)
    noted = server_time(url)
    execute(
        url,
        "INSERT INTO pitr_notes VALUES (2, 'B')",
        "UPDATE organizations SET name = 'Firm B' WHERE slug = 'firm-a'",
    )
    benv.backups.wait_archived(current_lsn(url))
    assert table_checksums(url) != expected, "B must change what the checksums see"

    for name, value in benv.env().items():
        monkeypatch.setenv(name, value)
    folder = benv.folder("pitr")
    result = CliRunner().invoke(
        app,
        [
            "backup",
            "restore",
            "--latest",
            "--target-time",
            noted.isoformat(),
            "--to",
            str(folder),
            "--start",
        ],
    )
    assert result.exit_code == 0, result.output
    port = int(re.search(r"running on 127\.0\.0\.1:(\d+)", result.output).group(1))  # type: ignore[union-attr]
    restored = Node("restored", "replica", port, folder)
    stop_after.append((restored, benv.cluster))
    restored_url = url.replace(f":{benv.cluster.node('primary').port}/", f":{port}/")

    with psycopg.connect(restored_url) as conn:
        notes = conn.execute("SELECT v FROM pitr_notes ORDER BY id").fetchall()
        firm = conn.execute("SELECT name FROM organizations WHERE slug = 'firm-a'").fetchone()
    assert notes == [("A",)]
    assert firm == ("Firm A",)
    assert table_checksums(restored_url) == expected
    assert len(expected) > 50, "every table of the migrated schema is compared"


def test_an_incremental_chain_restores_to_what_a_full_backup_of_the_same_point_holds(
    benv: BackupEnv, stop_after: list[tuple[Node, object]]
) -> None:
    url = db_url(benv.admin_url)
    execute(url, "CREATE TABLE IF NOT EXISTS chain_rows (id int PRIMARY KEY, v text)")
    execute(url, "INSERT INTO chain_rows SELECT g, 'first ' || g FROM generate_series(1, 2000) g")
    full = benv.backups.create()
    execute(
        url,
        "UPDATE chain_rows SET v = 'changed' WHERE id % 7 = 0",
        "DELETE FROM chain_rows WHERE id % 11 = 0",
        "INSERT INTO chain_rows SELECT g, 'second ' || g FROM generate_series(3001, 3500) g",
    )
    first_inc = benv.backups.create(incremental=True)
    execute(url, "INSERT INTO chain_rows VALUES (9999, 'after the first incremental')")
    second_inc = benv.backups.create(incremental=True)
    expected = table_checksums(url)
    reference = benv.backups.create()
    assert table_checksums(url) == expected, "nothing wrote between the two backups"
    assert (first_inc.parent, second_inc.parent) == (full.id, first_inc.id)
    assert second_inc.files["base.tar"] < reference.files["base.tar"] / 2, (
        "an incremental copies only changed blocks"
    )

    sums = {}
    for record in (second_inc, reference):
        restored = benv.backups.restore(
            benv.folder(f"chain-{record.id}"),
            backup_id=record.id,
            target=Target(immediate=True),
            keep_running=True,
        )
        stop_after.append((restored.node, benv.cluster))
        sums[record.id] = table_checksums(db_url(restored.url))
        node.stop(restored.node, benv.cluster.user)
    assert sums[second_inc.id] == sums[reference.id] == expected


def test_a_target_before_every_backup_is_refused_clearly(benv: BackupEnv, tmp_path: Path) -> None:
    from advisoros_db.backup import BackupError, parse_time

    with pytest.raises(BackupError, match="no backup ended before the target"):
        benv.backups.restore(
            tmp_path / "too-early", target=Target(time=parse_time("2000-01-01T00:00:00"))
        )
    assert not (tmp_path / "too-early").exists()


def test_restore_by_id_to_a_noted_lsn(
    benv: BackupEnv, stop_after: list[tuple[Node, object]]
) -> None:
    url = db_url(benv.admin_url)
    execute(url, "CREATE TABLE IF NOT EXISTS lsn_notes (v text)")
    record = benv.backups.create()
    execute(url, "INSERT INTO lsn_notes VALUES ('C')")
    noted = current_lsn(url)
    execute(url, "INSERT INTO lsn_notes VALUES ('D')")
    benv.backups.wait_archived(current_lsn(url))
    restored = benv.backups.restore(
        benv.folder("by-lsn"), backup_id=record.id, target=Target(lsn=noted), keep_running=True
    )
    stop_after.append((restored.node, benv.cluster))
    with psycopg.connect(db_url(restored.url)) as conn:
        assert conn.execute("SELECT v FROM lsn_notes").fetchall() == [("C",)]
