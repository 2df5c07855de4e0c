"""Backups, point-in-time recovery and the WAL archive, orchestrating PostgreSQL's own tools
(pg_basebackup, pg_receivewal, pg_combinebackup, pg_verifybackup, pg_amcheck); see docs/backup.md."""

from advisoros_db.extras import require

require("embedded")  # before its dependencies are imported: a missing extra names itself

from advisoros_db.backup.crypt import BackupCipher, BackupError  # noqa: E402
from advisoros_db.backup.repository import BackupRecord, Repository  # noqa: E402
from advisoros_db.backup.restore import Restored, Target, parse_time  # noqa: E402
from advisoros_db.backup.service import Backups  # noqa: E402
from advisoros_db.backup.source import Source  # noqa: E402

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
