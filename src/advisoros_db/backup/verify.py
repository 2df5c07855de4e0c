"""Verifying a backup: pg_verifybackup on each backup of its chain, then a throwaway restore that
must start and pass pg_amcheck."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from advisoros_db.backup.crypt import BackupCipher, BackupError
from advisoros_db.backup.repository import Repository, utc_now
from advisoros_db.backup.restore import Target, prepare, start_and_replay, unpack
from advisoros_db.backup.source import Source
from advisoros_db.cluster import binaries, node


@dataclass
class Verification:
    backup_id: str
    checked: list[str] = field(default_factory=list)
    amcheck: str = ""


def verify(
    repo: Repository, cipher: BackupCipher, source: Source, backup_id: str, *, scratch: Path
) -> Verification:
    """BackupError naming the file or check that failed; on success the record notes the time."""
    record = repo.get(backup_id)
    if record.status != "done":
        raise BackupError(f"backup {backup_id} is {record.status}: {record.error or ''}")
    result = Verification(backup_id)
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch, prefix="verify-") as work:
        for item in repo.chain(record):
            data = unpack(repo, cipher, item, Path(work))
            done = binaries.run(
                [binaries.binary("pg_verifybackup"), str(data)],
                user=binaries.current_user(),
                check=False,
                timeout=24 * 3600,
            )
            if done.returncode != 0:
                raise BackupError(
                    f"pg_verifybackup rejects backup {item.id}: {(done.stderr or done.stdout).strip()}"
                )
            result.checked.append(item.id)
            shutil.rmtree(data)
        user = source.server_user
        restored = prepare(
            repo, cipher, record, Target(immediate=True), folder=Path(work) / "copy", user=user
        )
        try:
            start_and_replay(restored, user, source.url_at(restored.port))
            result.amcheck = _amcheck(source, restored.port)
        finally:
            node.kill(restored)
    record.verified_at = utc_now().isoformat()
    with repo.locked():
        repo.save(record)
    return result


def _amcheck(source: Source, port: int) -> str:
    _, env = source.client_args()
    # pg_amcheck's -d is a database pattern, not a connection string: name the copy by parts.
    args = [
        binaries.binary("pg_amcheck"),
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-U",
        source.user,
        "--all",
        "--install-missing",
        "--heapallindexed",
        "--no-password",
    ]
    # --heapallindexed reads every table and index: hours on a large database on a busy machine.
    done = binaries.run(args, user=binaries.current_user(), env=env, check=False, timeout=24 * 3600)
    if done.returncode != 0:
        raise BackupError(
            f"pg_amcheck found problems in the restored copy: {(done.stdout + done.stderr).strip()}"
        )
    return "pg_amcheck: no corruption found in any database"
