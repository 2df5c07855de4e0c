"""Retention by recovery window: keep what a restore to any point inside the window needs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from advisoros_db.backup.repository import BackupRecord, Repository, utc_now


@dataclass(frozen=True)
class Plan:
    keep: list[str]
    remove: list[str]
    wal_before: str | None
    """Archived WAL segments before this one are no longer needed (None: keep all)."""


def plan(records: list[BackupRecord], window: dt.timedelta, now: dt.datetime) -> Plan:
    """Which backups to keep: those ended inside the window, the newest one ended before it (a
    restore to the window's first moment starts there), and every backup their chains build on.
    Failed backups go. With no good backup before the window, nothing good is removed."""
    start = now - window
    done = [r for r in records if r.status == "done" and r.finished is not None]
    by_id = {r.id: r for r in done}
    inside = [r for r in done if r.finished is not None and r.finished >= start]
    before = [r for r in done if r.finished is not None and r.finished < start]
    anchors = inside + before[-1:]
    keep: set[str] = set()
    for record in anchors:
        current: BackupRecord | None = record
        while current is not None:
            keep.add(current.id)
            current = by_id.get(current.parent) if current.parent else None
    remove = [r.id for r in records if r.id not in keep and r.status != "running"]
    kept = [r for r in done if r.id in keep]
    wal_before = _segment(kept[0]) if kept else None
    return Plan(sorted(keep), remove, wal_before)


def _segment(record: BackupRecord) -> str | None:
    if record.start_lsn is None or record.timeline is None:
        return None
    high, low = record.start_lsn.split("/")
    position = (int(high, 16) << 32) + int(low, 16)
    segment = position // (16 * 1024 * 1024)
    return f"{record.timeline:08X}{segment >> 8:08X}{segment & 0xFF:08X}"


def prune(repo: Repository, window: dt.timedelta, *, dry_run: bool = False) -> Plan:
    """Apply the plan: delete the backups and the archived WAL no kept backup needs."""
    with repo.locked():
        result = plan(repo.records(), window, utc_now())
        if dry_run:
            return result
        for backup_id in result.remove:
            repo.remove(backup_id)
        if result.wal_before is not None:
            # Segment names sort by timeline first: compare log and segment numbers only, and
            # keep every timeline history file.
            cutoff = result.wal_before[8:]
            for name in repo.archived_wal():
                segment = name.removesuffix(".partial")
                if len(segment) == 24 and segment[8:] < cutoff:
                    (repo.wal / f"{name}.enc").unlink(missing_ok=True)
        return result
