"""The backup repository on disk: one folder per base backup with its record, and the WAL archive.

<repo>/base/<id>/backup.json      the record (no client data: LSNs, times, sizes, state)
<repo>/base/<id>/*.enc            base.tar, pg_wal.tar and backup_manifest, encrypted
<repo>/staging/<id>/              pg_basebackup's output while a backup runs (then removed)
<repo>/wal/*.enc                  WAL segments and timeline histories, encrypted
<repo>/wal/incoming/              pg_receivewal's folder: only the segment being written
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import psutil

from advisoros_db.backup.crypt import BackupError

Kind = Literal["full", "incremental"]
Status = Literal["running", "done", "failed"]
FILES = ("base.tar", "pg_wal.tar", "backup_manifest")


@dataclass
class BackupRecord:
    """What is known of one base backup."""

    id: str
    kind: Kind
    parent: str | None
    status: Status
    started_at: str
    pid: int | None = None
    finished_at: str | None = None
    start_lsn: str | None = None
    end_lsn: str | None = None
    timeline: int | None = None
    size_bytes: int = 0
    files: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    verified_at: str | None = None
    source: str | None = None

    @property
    def finished(self) -> dt.datetime | None:
        return dt.datetime.fromisoformat(self.finished_at) if self.finished_at else None

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Repository:
    """Reads and writes the repository; every change of a record is an atomic file replace."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()

    @property
    def base(self) -> Path:
        return self.root / "base"

    @property
    def staging(self) -> Path:
        return self.root / "staging"

    @property
    def wal(self) -> Path:
        return self.root / "wal"

    @property
    def incoming(self) -> Path:
        return self.wal / "incoming"

    def prepare(self) -> None:
        for folder in (self.root, self.base, self.staging, self.wal, self.incoming):
            if folder.is_dir():
                continue  # keep its mode: a verify's copy may be traversing it right now
            try:
                folder.mkdir(mode=0o700, parents=True)
            except OSError as exc:
                raise BackupError(
                    f"cannot create the backup repository folder {folder}: {exc.strerror}; "
                    f"set ADVISOROS_BACKUP_DIR to a writable folder"
                ) from exc

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One backup-changing command at a time (create, prune, restore's choice of backups)."""
        self.prepare()
        with open(self.root / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- records ----------------------------------------------------------------------------

    def folder(self, backup_id: str) -> Path:
        return self.base / backup_id

    def save(self, record: BackupRecord) -> None:
        folder = self.folder(record.id)
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / "backup.json.tmp"
        partial.write_text(json.dumps(record.to_json(), indent=2))
        partial.replace(folder / "backup.json")

    def records(self) -> list[BackupRecord]:
        """Every backup, oldest first; a `running` one whose process is gone reads as failed."""
        if not self.base.exists():
            return []
        found = []
        for path in sorted(self.base.glob("*/backup.json")):
            try:
                record = BackupRecord(**json.loads(path.read_text()))
            except (ValueError, TypeError) as exc:
                raise BackupError(
                    f"{path} is damaged ({exc}); move that backup folder away"
                ) from exc
            if record.status == "running" and not _alive(record.pid):
                record.status = "failed"
                record.error = "interrupted: the process taking it stopped before it finished"
            found.append(record)
        return found

    def get(self, backup_id: str) -> BackupRecord:
        for record in self.records():
            if record.id == backup_id:
                return record
        known = ", ".join(r.id for r in self.records()) or "none"
        raise BackupError(f"no backup {backup_id!r} in {self.root} (backups: {known})")

    def done(self) -> list[BackupRecord]:
        return [r for r in self.records() if r.status == "done"]

    def chain(self, record: BackupRecord) -> list[BackupRecord]:
        """The full backup and every incremental up to `record`, oldest first."""
        chain = [record]
        while chain[0].parent is not None:
            parent = self.get(chain[0].parent)
            if parent.status != "done":
                raise BackupError(
                    f"backup {record.id} depends on {parent.id}, which is {parent.status}"
                )
            chain.insert(0, parent)
        return chain

    def new_id(self) -> str:
        stamp = utc_now().strftime("%Y%m%dT%H%M%SZ")
        candidate, n = stamp, 1
        while self.folder(candidate).exists():
            n += 1
            candidate = f"{stamp}-{n}"
        return candidate

    def remove(self, backup_id: str) -> None:
        shutil.rmtree(self.folder(backup_id), ignore_errors=True)
        shutil.rmtree(self.staging / backup_id, ignore_errors=True)

    def clear_abandoned_staging(self) -> list[str]:
        """Delete staging folders no running backup owns (plaintext left by a killed backup),
        after stopping any copy still writing into them (pg_basebackup's WAL-streaming child
        outlives a killed parent)."""
        running = {r.id for r in self.records() if r.status == "running"}
        removed = []
        if self.staging.exists():
            for folder in self.staging.iterdir():
                if folder.name.split(".")[0] not in running:
                    kill_processes_using(folder)
                    if folder.is_dir():
                        shutil.rmtree(folder, ignore_errors=True)
                    else:
                        folder.unlink(missing_ok=True)
                    removed.append(folder.name)
        return removed

    # -- WAL archive ------------------------------------------------------------------------

    def archived_wal(self) -> list[str]:
        """Names of the archived WAL files (segments and .history), sorted."""
        if not self.wal.exists():
            return []
        return sorted(p.name[: -len(".enc")] for p in self.wal.glob("*.enc"))


def kill_processes_using(folder: Path) -> None:
    """SIGKILL every process whose command line names `folder` (or a path in it)."""
    mark = str(folder)
    victims = []
    for proc in psutil.process_iter(["cmdline"]):
        if any(mark in part for part in proc.info["cmdline"] or ()):
            with contextlib.suppress(psutil.Error):
                proc.kill()
                victims.append(proc)
    psutil.wait_procs(victims, timeout=10)


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    if pid == os.getpid():
        return True
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
