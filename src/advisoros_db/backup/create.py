"""Taking a base backup: pg_basebackup (full, or --incremental on the last one), then encrypted."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import psycopg

from advisoros_db.backup.crypt import BackupCipher, BackupError
from advisoros_db.backup.repository import FILES, BackupRecord, Repository, utc_now
from advisoros_db.backup.source import Source
from advisoros_db.cluster import binaries
from advisoros_db.errors import ClusterError

_SUMMARIZE_HINT = (
    "incremental backups need summarize_wal = on on the server (the embedded cluster sets it); "
    "run ALTER SYSTEM SET summarize_wal = on; SELECT pg_reload_conf(); then take a full backup"
)


def create(
    repo: Repository,
    cipher: BackupCipher,
    source: Source,
    *,
    incremental: bool = False,
    max_rate: str | None = None,
) -> BackupRecord:
    """Take one backup; on any failure the record says `failed` and why, and nothing half-written
    counts as a backup. A process killed midway leaves a `running` record with a dead pid, which
    reads as failed, and a staging folder the next backup deletes."""
    with repo.locked():
        repo.clear_abandoned_staging()
        parent = _parent(repo, source) if incremental else None
        record = BackupRecord(
            id=repo.new_id(),
            kind="incremental" if incremental else "full",
            parent=parent.id if parent else None,
            status="running",
            started_at=utc_now().isoformat(),
            pid=os.getpid(),
            source=source.address,
        )
        repo.save(record)
        staging = repo.staging / record.id
        try:
            staging.mkdir(mode=0o700)
            _base_backup(
                repo=repo,
                cipher=cipher,
                source=source,
                record=record,
                staging=staging,
                parent=parent,
                max_rate=max_rate,
            )
            _seal(repo, cipher, record, staging)
            record.finished_at = _server_now(source)
            record.status = "done"
        except (BackupError, ClusterError, psycopg.Error, OSError) as exc:
            record.status = "failed"
            record.error = str(exc)
            raise BackupError(f"backup {record.id} failed: {exc}") from exc
        finally:
            record.pid = None
            repo.save(record)
            shutil.rmtree(staging, ignore_errors=True)
        return record


def _parent(repo: Repository, source: Source) -> BackupRecord:
    done = [r for r in repo.done() if r.source == source.address]
    if not done:
        raise BackupError(
            f"no backup of {source.address} to build an incremental on; "
            f"run `advisoros-db backup create` first"
        )
    with psycopg.connect(source.url, connect_timeout=10) as conn:
        row = conn.execute("SHOW summarize_wal").fetchone()
    if row is None or row[0] != "on":
        raise BackupError(_SUMMARIZE_HINT)
    return done[-1]


def _base_backup(
    *,
    repo: Repository,
    cipher: BackupCipher,
    source: Source,
    record: BackupRecord,
    staging: Path,
    parent: BackupRecord | None,
    max_rate: str | None,
) -> None:
    conn_args, env = source.client_args()
    args = [
        binaries.binary("pg_basebackup"),
        *conn_args,
        "-D",
        str(staging),
        "--format=tar",
        "--wal-method=stream",
        "--checkpoint=fast",
        "--no-password",
        f"--label=advisoros-db {record.id}",
    ]
    if parent is not None:
        manifest = repo.staging / f"{record.id}.parent_manifest"
        cipher.decrypt_file(
            repo.folder(parent.id) / "backup_manifest.enc",
            manifest,
            name=f"{parent.id}/backup_manifest",
        )
        args.append(f"--incremental={manifest}")
    if max_rate:
        args.append(f"--max-rate={max_rate}")
    try:
        done = binaries.run(
            args,
            user=binaries.current_user(),
            env=env,
            timeout=24 * 3600,
            check=False,
            die_with_parent=True,
        )
    finally:
        if parent is not None:
            (repo.staging / f"{record.id}.parent_manifest").unlink(missing_ok=True)
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip()
        if "WAL summar" in message:
            message += f" ({_SUMMARIZE_HINT})"
        raise BackupError(f"pg_basebackup failed (exit {done.returncode}): {message}")


def _seal(repo: Repository, cipher: BackupCipher, record: BackupRecord, staging: Path) -> None:
    """Encrypt pg_basebackup's files into the backup's folder, and note its WAL range."""
    folder = repo.folder(record.id)
    staged = {name: staging / name for name in FILES}
    for name, path in staged.items():
        if not path.exists():
            raise BackupError(f"pg_basebackup left no {name} in {staging}")
    manifest = json.loads(staged["backup_manifest"].read_bytes())
    ranges = manifest["WAL-Ranges"]
    record.timeline = int(ranges[-1]["Timeline"])
    record.start_lsn = str(ranges[0]["Start-LSN"])
    record.end_lsn = str(ranges[-1]["End-LSN"])
    for name, path in staged.items():
        record.files[name] = cipher.encrypt_file(
            path, folder / f"{name}.enc", name=f"{record.id}/{name}"
        )
    record.size_bytes = sum(record.files.values())


def _server_now(source: Source) -> str:
    """The server's clock after the backup: restore targets are in server time."""
    with psycopg.connect(source.url, connect_timeout=10) as conn:
        row = conn.execute("SELECT clock_timestamp()").fetchone()
    if row is None:
        raise BackupError("the server did not report its time")
    stamp = row[0]
    return str(stamp.isoformat())
