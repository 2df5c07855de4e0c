"""Backup health for `status`, `/api/health` and `/metrics`: last good backup, WAL stream, newest
restorable point."""

from __future__ import annotations

from typing import Any

import psycopg

from advisoros_db.backup.repository import Repository, utc_now
from advisoros_db.backup.source import Source
from advisoros_db.backup.wal import newest_archived_lsn, stream_status, streamer_state
from advisoros_db.cluster import binaries
from advisoros_db.settings import Settings


def summary(repo: Repository, source: Source | None, *, max_age_hours: float) -> dict[str, Any]:
    """A JSON-ready report; `warnings` lists what needs an operator (stale or missing backups,
    WAL not streaming)."""
    records = repo.records() if repo.root.exists() else []
    good = [r for r in records if r.status == "done"]
    last = good[-1] if good else None
    finished = last.finished if last else None
    age = (utc_now() - finished).total_seconds() if finished else None
    stream: dict[str, Any] | None = None
    if source is not None:
        try:
            stream = stream_status(source)
        except psycopg.Error:
            stream = None
    streamer = streamer_state(repo)
    streaming = bool(stream and stream.get("state") == "streaming")
    newest = (stream or {}).get("flush_lsn") if streaming else newest_archived_lsn(repo)
    warnings = []
    if last is None:
        warnings.append("no good backup: run `advisoros-db backup create`")
    elif age is not None and age > max_age_hours * 3600:
        warnings.append(
            f"last good backup is {age / 3600:.1f} h old (more than {max_age_hours:g} h)"
        )
    if not streaming:
        warnings.append(
            "WAL is not streaming to the archive: point-in-time recovery stops at "
            "the newest archived segment"
        )
    failed = [r.id for r in records if r.status == "failed"]
    return {
        "repository": str(repo.root),
        "backups": len(good),
        "failed_backups": failed,
        "last_good_backup": last.id if last else None,
        "last_good_backup_finished_at": last.finished_at if last else None,
        "last_good_backup_age_seconds": age,
        "last_verified_at": max((r.verified_at for r in good if r.verified_at), default=None),
        "wal_streaming": streaming,
        "wal_stream": stream,
        "wal_streamer_pid": streamer.pid if streamer.running else None,
        "newest_restorable_lsn": newest if last else None,
        "stale": bool(warnings),
        "warnings": warnings,
    }


def report(settings: Settings, admin_url: str | None) -> dict[str, Any] | None:
    """The summary for a deployment, or None when it has no backup repository yet (no key
    needed: nothing is decrypted)."""
    repo = Repository(settings.backup_repository)
    if not repo.root.exists():
        return None
    source = Source(admin_url, binaries.current_user()) if admin_url else None
    return summary(repo, source, max_age_hours=settings.backup_max_age_hours)


def metrics_text(report: dict[str, Any]) -> bytes:
    """The summary as Prometheus text exposition lines."""
    age = report["last_good_backup_age_seconds"]
    lines = [
        "# HELP advisoros_backup_last_good_age_seconds Age of the last good base backup.",
        "# TYPE advisoros_backup_last_good_age_seconds gauge",
        f"advisoros_backup_last_good_age_seconds {'NaN' if age is None else f'{age:.3f}'}",
        "# HELP advisoros_backup_count Good base backups in the repository.",
        "# TYPE advisoros_backup_count gauge",
        f"advisoros_backup_count {report['backups']}",
        "# HELP advisoros_backup_wal_streaming 1 when WAL streams to the backup archive.",
        "# TYPE advisoros_backup_wal_streaming gauge",
        f"advisoros_backup_wal_streaming {int(report['wal_streaming'])}",
        "# HELP advisoros_backup_stale 1 when a backup warning is raised.",
        "# TYPE advisoros_backup_stale gauge",
        f"advisoros_backup_stale {int(report['stale'])}",
    ]
    return ("\n".join(lines) + "\n").encode()
