"""Backups, point-in-time recovery and the WAL archive, orchestrating PostgreSQL's own tools
(pg_basebackup, pg_receivewal, pg_combinebackup, pg_verifybackup, pg_amcheck); see docs/backup.md."""

from advisoros_db.backup.crypt import BackupCipher, BackupError
from advisoros_db.backup.repository import BackupRecord, Repository
from advisoros_db.backup.restore import Restored, Target, parse_time
from advisoros_db.backup.service import Backups
from advisoros_db.backup.source import Source

__all__ = [
    "BackupCipher",
    "BackupError",
    "BackupRecord",
    "Backups",
    "Repository",
    "Restored",
    "Source",
    "Target",
    "parse_time",
]
