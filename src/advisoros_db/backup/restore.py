"""Restoring: decrypt a backup (combining an incremental chain), replay archived WAL to a target."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from advisoros_db.backup.crypt import CHUNK, BackupCipher, BackupError
from advisoros_db.backup.repository import FILES, BackupRecord, Repository
from advisoros_db.backup.source import Source
from advisoros_db.backup.wal import stage
from advisoros_db.cluster import binaries, node, tuning
from advisoros_db.cluster.node import Node
from advisoros_db.errors import ClusterError

# A restored copy is for checking and extracting, not for the full load: keep its memory small.
_RESTORED_SHARED_BUFFERS = "'128MB'"
# Settings of the source that must not follow a copy (it would wait for, or stream from, them).
_DROPPED = ("synchronous_standby_names", "primary_conninfo", "primary_slot_name")


@dataclass(frozen=True)
class Target:
    """Where replay stops: a time, an LSN, the backup's end (`immediate`), or all WAL (latest)."""

    time: dt.datetime | None = None
    lsn: str | None = None
    immediate: bool = False

    def settings(self) -> dict[str, str]:
        if self.time is not None:
            return {"recovery_target_time": f"'{self.time.isoformat()}'"}
        if self.lsn is not None:
            return {"recovery_target_lsn": f"'{self.lsn}'"}
        if self.immediate:
            return {"recovery_target": "'immediate'"}
        return {}

    def describe(self) -> str:
        if self.time is not None:
            return f"time {self.time.isoformat()}"
        if self.lsn is not None:
            return f"LSN {self.lsn}"
        return "end of backup" if self.immediate else "newest archived WAL"


@dataclass(frozen=True)
class Restored:
    """A restored server: its folder (data/ and postgres.log), port and superuser URL."""

    backup_id: str
    node: Node
    url: str
    running: bool


def parse_time(text: str) -> dt.datetime:
    """ISO 8601; a time without a zone is UTC."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BackupError(
            f"--target-time {text!r} is not an ISO 8601 time like 2026-12-05T01:30:00+00:00"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def choose(repo: Repository, backup_id: str | None, target: Target) -> BackupRecord:
    """The given backup (checked against the target) or the newest one the target can start from."""
    done = repo.done()
    if backup_id is not None:
        record = repo.get(backup_id)
        if record.status != "done":
            raise BackupError(f"backup {backup_id} is {record.status}: {record.error or ''}")
        if not _precedes(record, target):
            raise BackupError(
                f"backup {backup_id} ended after the target {target.describe()}; choose an "
                f"earlier backup, or use --latest to let advisoros-db choose"
            )
        return record
    usable = [r for r in done if _precedes(r, target)]
    if not usable:
        oldest = min((r.finished_at or "" for r in done), default=None)
        raise BackupError(
            f"no backup ended before the target {target.describe()}"
            + (f"; the oldest backup ended at {oldest}" if oldest else "; there are no backups")
        )
    return usable[-1]


def _precedes(record: BackupRecord, target: Target) -> bool:
    if target.time is not None:
        finished = record.finished
        return finished is not None and finished <= target.time
    if target.lsn is not None and record.end_lsn is not None:
        return _lsn(record.end_lsn) <= _lsn(target.lsn)
    return True


def _lsn(text: str) -> int:
    try:
        high, low = text.split("/")
        return (int(high, 16) << 32) + int(low, 16)
    except ValueError:
        raise BackupError(f"{text!r} is not a WAL position like 0/3000148") from None


def unpack(repo: Repository, cipher: BackupCipher, record: BackupRecord, into: Path) -> Path:
    """Decrypt one backup into `into/<id>` as a plain data directory (with backup_manifest).
    The tars are decrypted straight into the extraction: no plaintext tar is ever on disk, so a
    restore needs room for the data directory alone, not for it and its tar."""
    data = into / record.id
    into.mkdir(parents=True, exist_ok=True)
    data.mkdir(mode=0o700)
    encrypted = {name: repo.folder(record.id) / f"{name}.enc" for name in FILES}
    for name, path in encrypted.items():
        expected = record.files.get(name)
        if not path.exists():
            raise BackupError(f"{record.id}/{name}: missing ({path} does not exist)")
        if expected is not None and path.stat().st_size != expected:
            raise BackupError(
                f"{record.id}/{name}: {path.stat().st_size} bytes, the record says "
                f"{expected}: the file was truncated or replaced"
            )
    manifest = "backup_manifest"
    cipher.decrypt_file(encrypted[manifest], data / manifest, name=f"{record.id}/{manifest}")
    _extract(cipher, encrypted["base.tar"], data, name=f"{record.id}/base.tar")
    _extract(cipher, encrypted["pg_wal.tar"], data / "pg_wal", name=f"{record.id}/pg_wal.tar")
    return data


def _extract(cipher: BackupCipher, encrypted: Path, into: Path, *, name: str) -> None:
    with open(encrypted, "rb") as raw, cipher.reader(raw, name=name) as plain:
        try:
            with tarfile.open(fileobj=plain, mode="r|") as tar:
                tar.extractall(into, filter="tar")
        except (tarfile.TarError, OSError) as exc:
            raise BackupError(f"cannot unpack {name}: {exc}") from exc
        # tar stops at its end-of-archive blocks: read on, so the last chunk is authenticated
        # too (a file cut at a chunk boundary fails here).
        while plain.read(CHUNK):
            pass


def materialize(
    repo: Repository, cipher: BackupCipher, record: BackupRecord, data_dir: Path, scratch: Path
) -> None:
    """`data_dir` becomes the backup's data directory; an incremental chain is combined."""
    chain = repo.chain(record)
    folders = [unpack(repo, cipher, item, scratch) for item in chain]
    if len(folders) == 1:
        shutil.move(folders[0], data_dir)
        return
    # --link: files taken whole from a backup are hard links, not copies, so combining needs room
    # only for the files it rebuilds; the unpacked backups are deleted right after.
    binaries.run(
        [binaries.binary("pg_combinebackup"), "--link", *map(str, folders), "-o", str(data_dir)],
        user=binaries.current_user(),
        timeout=24 * 3600,
    )
    # pg_combinebackup leaves pg_wal empty: the last backup's own WAL makes the result consistent.
    for segment in (folders[-1] / "pg_wal").iterdir():
        if segment.is_file():
            shutil.move(segment, data_dir / "pg_wal" / segment.name)
    for folder in folders:
        shutil.rmtree(folder)


def prepare(
    repo: Repository,
    cipher: BackupCipher,
    record: BackupRecord,
    target: Target,
    *,
    folder: Path,
    user: binaries.OsUser,
) -> Node:
    """Lay out `folder` (data/, wal_restore/, postgres.log) ready to start and replay to `target`."""
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty; restore into a new or empty folder")
    folder.mkdir(parents=True, exist_ok=True)
    restored = Node(f"restore-{record.id}", "replica", node.free_port(), folder)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".unpack-") as scratch:
        materialize(repo, cipher, record, restored.data_dir, Path(scratch))
    wal_dir = folder / "wal_restore"
    stage(repo, cipher, wal_dir)
    data = restored.data_dir
    for name in ("standby.signal", "postmaster.pid", "backup_manifest"):
        (data / name).unlink(missing_ok=True)
    (data / "recovery.signal").touch()
    auto = data / "postgresql.auto.conf"
    if auto.exists():
        kept = [line for line in auto.read_text().splitlines() if not line.startswith(_DROPPED)]
        auto.write_text("\n".join(kept) + "\n")
    settings = {
        **tuning.LAPTOP_SETTINGS,
        "shared_buffers": _RESTORED_SHARED_BUFFERS,
        "restore_command": f'\'cp "{wal_dir}/%f" "%p"\'',
        "recovery_target_timeline": "'latest'",
        "recovery_target_action": "'promote'",
        **target.settings(),
    }
    (data / "advisoros.conf").write_text(tuning.render(settings, restored.port))
    _give_tree(folder, user)
    if user.switches:
        binaries.make_traversable(folder)
    return restored


def _give_tree(folder: Path, user: binaries.OsUser) -> None:
    if not user.switches:
        return
    binaries.give_to(folder, user)
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            binaries.give_to(Path(root) / name, user)


def start_and_replay(restored: Node, user: binaries.OsUser, url: str, timeout: float = 600) -> None:
    """Start the restored server and wait until replay reached its target and it was promoted."""
    try:
        node.start(restored, user)
    except ClusterError as exc:
        raise BackupError(f"the restored server did not start: {exc}") from exc
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(url, connect_timeout=5) as conn:
                row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
            if row is not None and row[0] is False:
                break
        except psycopg.OperationalError:
            if node.postmaster_pid(restored) is None:
                raise BackupError(
                    f"the restored server stopped during replay; its log {restored.log_file}:\n"
                    f"{node.log_tail(restored)}"
                ) from None
        if time.monotonic() > deadline:
            raise BackupError(
                f"replay did not finish within {timeout:.0f} s; see {restored.log_file}"
            )
        time.sleep(0.1)
    shutil.rmtree(restored.directory / "wal_restore", ignore_errors=True)


def restore(
    repo: Repository,
    cipher: BackupCipher,
    source: Source,
    folder: Path,
    *,
    backup_id: str | None = None,
    target: Target | None = None,
    keep_running: bool = False,
) -> Restored:
    """Restore into `folder` and replay to `target`; the server is stopped unless `keep_running`."""
    target = target or Target()
    record = choose(repo, backup_id, target)
    user = source.server_user
    restored = prepare(repo, cipher, record, target, folder=folder.absolute(), user=user)
    url = source.url_at(restored.port)
    start_and_replay(restored, user, url)
    if not keep_running:
        node.stop(restored, user)
    return Restored(record.id, restored, url, keep_running)
