"""`Backups`: the repository, key and source of one deployment, and every backup operation on it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advisoros_db.backup import create, handover, health, restore, retention, verify, wal
from advisoros_db.backup.crypt import BackupCipher
from advisoros_db.backup.repository import BackupRecord, Repository
from advisoros_db.backup.source import Source
from advisoros_db.cluster import binaries
from advisoros_db.settings import Settings
from advisoros_db.targets import Target


@dataclass(frozen=True)
class Backups:
    repo: Repository
    key: str
    source: Source
    window: dt.timedelta
    max_age_hours: float = 26.0
    synchronous: bool = False

    @property
    def cipher(self) -> BackupCipher:
        return BackupCipher.from_setting(self.key)

    @classmethod
    def from_settings(cls, settings: Settings, target: Target) -> Backups:
        """ConfigError (naming ADVISOROS_BACKUP_ENCRYPTION_KEY) when the key is missing or bad."""
        key = settings.backup_encryption_key
        key_text = key.get_secret_value() if key is not None else ""
        BackupCipher.from_setting(key_text)
        user = target.cluster.user if target.cluster is not None else binaries.current_user()
        return cls(
            repo=Repository(settings.backup_repository),
            key=key_text,
            source=Source(target.admin_url, user),
            window=dt.timedelta(days=settings.backup_recovery_window_days),
            max_age_hours=settings.backup_max_age_hours,
            synchronous=settings.backup_synchronous_wal,
        )

    def stream(self) -> wal.StreamerState:
        """Make sure WAL streams into the archive (starts the background streamer if needed)."""
        return wal.start_streamer(self.repo, self.source, self.key, synchronous=self.synchronous)

    def reserve_on_standby(self, standby_url: str) -> handover.Reservation:
        """Before a failover to that standby: hold its WAL from where the archive ends, so the
        streamer re-pointed at it after the promotion resumes there (no gap)."""
        return handover.reserve(self.repo, standby_url)

    def create(self, *, incremental: bool = False, max_rate: str | None = None) -> BackupRecord:
        self.stream()
        return create.create(
            self.repo, self.cipher, self.source, incremental=incremental, max_rate=max_rate
        )

    def list(self) -> list[BackupRecord]:
        return self.repo.records()

    def verify(self, backup_id: str) -> verify.Verification:
        return verify.verify(
            self.repo, self.cipher, self.source, backup_id, scratch=self.repo.root / "scratch"
        )

    def restore(
        self,
        folder: Path,
        *,
        backup_id: str | None = None,
        target: restore.Target | None = None,
        keep_running: bool = False,
    ) -> restore.Restored:
        return restore.restore(
            self.repo,
            self.cipher,
            self.source,
            folder,
            backup_id=backup_id,
            target=target,
            keep_running=keep_running,
        )

    def prune(self, *, dry_run: bool = False) -> retention.Plan:
        return retention.prune(self.repo, self.window, dry_run=dry_run)

    def wait_archived(self, lsn: str, timeout: float = 60) -> None:
        wal.wait_archived(self.source, lsn, timeout=timeout)

    def health(self) -> dict[str, Any]:
        return health.summary(self.repo, self.source, max_age_hours=self.max_age_hours)

    def stop_streaming(self) -> None:
        wal.stop_streamer(self.repo)
