"""Point-in-time recovery across a failover: a backup taken on the old primary's timeline, WAL
archived from both timelines, restored to a moment after the switch (an own cluster with one
replica: a failover cannot be undone)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from typer.testing import CliRunner

from advisoros_db.backup import Backups, Target
from advisoros_db.cli.app import app
from advisoros_db.cluster import Cluster
from advisoros_db.cluster.node import Node
from advisoros_db.settings import Settings
from advisoros_db.targets import Target as Servers
from advisoros_db.targets import embedded_cluster
from tests.backup.conftest import current_lsn, db_url, execute, new_key, server_time
from tests.routing.conftest import wait_for
from tests.support import EXTERNAL_URL, scratch_path

pytestmark = [pytest.mark.replicas, pytest.mark.slow]


@pytest.fixture
def settings() -> Iterator[Settings]:
    if EXTERNAL_URL:
        pytest.skip("failover runs on an own embedded cluster")
    scratch = scratch_path("advisoros-timeline-")
    settings = Settings(
        home=scratch / "home",
        backup_dir=scratch / "repo",
        backup_encryption_key=new_key(),
        embedded_replicas=1,
    )
    cluster = embedded_cluster(settings)
    try:
        cluster.up(1)
        yield settings
    finally:
        backups_on_primary(settings).stop_streaming()
        cluster.destroy()


def backups_on_primary(settings: Settings) -> Backups:
    """The deployment's backups, sourced from whichever node is the primary now."""
    cluster: Cluster = embedded_cluster(settings)
    info = cluster.info()
    servers = Servers(admin_url=info.primary_url, app_url=info.app_url, cluster=cluster)
    return Backups.from_settings(settings, servers)


def timeline(url: str) -> int:
    """The timeline a primary writes on (from its current WAL file's name)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT pg_walfile_name(pg_current_wal_lsn())").fetchone()
    assert row is not None
    return int(row[0][:8], 16)


def notes(url: str) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        return [r[0] for r in conn.execute("SELECT v FROM notes ORDER BY id").fetchall()]


def test_restore_to_a_time_after_a_failover_replays_both_timelines(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, stop_after: list[tuple[Node, object]]
) -> None:
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
