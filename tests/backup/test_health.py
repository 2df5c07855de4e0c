"""Backup health in `status --json`, `/api/health` and `/metrics`: last good backup, WAL streaming,
newest restorable point; a stale backup is a warning."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from advisoros_db.backup import health as backup_health
from advisoros_db.cli.app import app as cli
from advisoros_db.http import create_app
from advisoros_db.routing import Router, nodes_from
from tests.backup.conftest import BackupEnv, current_lsn, db_url, execute
from tests.http.test_health_app import get
from tests.routing.conftest import FAST, wait_for

pytestmark = pytest.mark.slow


def test_status_api_health_and_metrics_report_the_backups(
    benv: BackupEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = benv.backups.create()
    execute(db_url(benv.admin_url), "CREATE TABLE IF NOT EXISTS health_rows (v int)")
    lsn = current_lsn(benv.admin_url)
    benv.backups.wait_archived(lsn)

    for name, value in benv.env().items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli, ["status", "--json"])
    assert result.exit_code == 0, result.output
    backup = json.loads(result.stdout)["backup"]
    assert backup["last_good_backup"] == record.id
    assert backup["wal_streaming"] is True
    assert backup["stale"] is False and backup["warnings"] == []
    assert backup["last_good_backup_age_seconds"] >= 0
    restorable = backup["newest_restorable_lsn"]
    hi, lo = (int(part, 16) for part in restorable.split("/"))
    want_hi, want_lo = (int(part, 16) for part in lsn.split("/"))
    assert (hi, lo) >= (want_hi, want_lo), "the newest restorable point covers the last write"

    with Router(nodes_from(benv.admin_url), FAST, monitor=False) as router:
        app = create_app(router, lambda: backup_health.report(benv.settings, benv.admin_url))
        body = get(app, "/api/health").json()
        assert body["backup"]["last_good_backup"] == record.id
        metrics = get(app, "/metrics").text
        assert "advisoros_backup_wal_streaming 1" in metrics
        assert "advisoros_backup_last_good_age_seconds " in metrics
        assert "advisoros_router_node_healthy" in metrics


def test_an_old_backup_or_a_stopped_stream_is_a_warning(benv: BackupEnv) -> None:
    benv.backups.create()
    strict = benv.settings.model_copy(update={"backup_max_age_hours": 1e-9})
    report = backup_health.report(strict, benv.admin_url)
    assert report is not None and report["stale"] is True
    assert any("old" in w for w in report["warnings"])
    benv.backups.stop_streaming()
    try:
        # The primary notices the closed connection on its own time: poll for it.
        def stopped() -> bool:
            report = backup_health.report(benv.settings, benv.admin_url)
            assert report is not None
            return report["wal_streaming"] is False and any(
                "not streaming" in w for w in report["warnings"]
            )

        wait_for(stopped, what="the report sees the stream stopped")
    finally:
        benv.backups.stream()
