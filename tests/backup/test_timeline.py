"""Point-in-time recovery across a failover: a backup taken on the old primary's timeline, WAL
archived from both timelines, restored to a moment after the switch (an own cluster with one
replica: a failover cannot be undone)."""

from __future__ import annotations

import psycopg
import pytest
from typer.testing import CliRunner

from advisoros_db.backup import Target
from advisoros_db.cli.app import app
from advisoros_db.cluster.node import Node
from advisoros_db.settings import Settings
from advisoros_db.targets import embedded_cluster
from tests.backup.conftest import (
    backups_on_primary,
    current_lsn,
    db_url,
    execute,
    server_time,
    timeline,
)
from tests.routing.conftest import wait_for
from tests.support import scratch_path

pytestmark = [pytest.mark.replicas, pytest.mark.slow]


def notes(url: str) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        return [r[0] for r in conn.execute("SELECT v FROM notes ORDER BY id").fetchall()]


def test_restore_to_a_time_after_a_failover_replays_both_timelines(
    one_replica: Settings, monkeypatch: pytest.MonkeyPatch, stop_after: list[tuple[Node, object]]
) -> None:
    settings = one_replica
    cluster = embedded_cluster(settings)
    old = db_url(cluster.url("primary"))
    execute(old, "CREATE TABLE notes (id int PRIMARY KEY, v text NOT NULL)")
    assert timeline(old) == 1
    record = backups_on_primary(settings).create()  # starts the WAL streamer too
    execute(old, "INSERT INTO notes VALUES (1, 'A')")
    replica = db_url(cluster.url("replica1"))
    wait_for(lambda: notes(replica) == ["A"], timeout=60, what="A replicated")

    for name, value in {
        "ADVISOROS_HOME": str(settings.home),
        "ADVISOROS_BACKUP_DIR": str(settings.backup_repository),
        "ADVISOROS_BACKUP_ENCRYPTION_KEY": settings.backup_encryption_key.get_secret_value(),  # type: ignore[union-attr]
        "ADVISOROS_EMBEDDED_REPLICAS": "1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ADVISOROS_DATABASE_URL", raising=False)
    result = CliRunner().invoke(app, ["failover", "--to", "replica1"])
    assert result.exit_code == 0, result.output
    assert "WAL archive now streams from" in result.output

    new = replica
    assert timeline(new) == 2, "the promoted replica writes on a new timeline"
    execute(new, "INSERT INTO notes VALUES (2, 'B')")
    noted = server_time(new)
    execute(new, "INSERT INTO notes VALUES (3, 'C')")
    archive = backups_on_primary(settings)
    archive.wait_archived(current_lsn(new), timeout=120)

    restored = archive.restore(
        scratch_path("advisoros-timeline-restore-") / "data",
        backup_id=record.id,
        target=Target(time=noted),
        keep_running=True,
    )
    stop_after.append((restored.node, cluster))
    assert notes(db_url(restored.url)) == ["A", "B"]
    # It replayed the new primary's timeline and then, promoted at the target, started its own.
    assert timeline(db_url(restored.url)) > timeline(new)
