"""Room on disk for taking, restoring and verifying a backup, checked before each step starts.

Where full-size copies sit at once (D: what pg_basebackup copies, about the databases' size; i: an
incremental's files; R: the files pg_combinebackup rebuilds; W: the WAL archive):

- create (`create.py`): pg_basebackup writes base.tar and pg_wal.tar into `staging/`, each is then
  encrypted into `base/<id>/`, and staging is deleted at the end: D plaintext beside D encrypted.
- restore (`restore.py`): the repository stays (D + i + W encrypted); each backup of the chain is
  decrypted straight into its extraction (no plaintext tar on disk): D + i; `pg_combinebackup
  --link` hard-links the files it takes whole and writes the R it rebuilds, then the unpacked
  backups are deleted (the copy is left with D - replaced + R); then the archive is decrypted
  into `wal_restore/`: W.
- verify (`verify.py`): each backup of the chain is unpacked, checked and deleted in turn (D at
  most), then a throwaway restore as above; its copy is deleted before it returns.

So a create needs 2D free and a restore or a verify D + i + R + W beside the repository.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from advisoros_db.backup.crypt import BackupCipher, BackupError
from advisoros_db.backup.repository import BackupRecord, Repository

GB = 1_000_000_000
# pg_wal.tar holds the WAL written while the backup runs (16.8 MB at `medium`, one segment on a
# quiet server); allowed for generously, as the WAL archive's growth meanwhile.
WAL_ALLOWANCE = GB
_INCREMENTAL = "INCREMENTAL."
# An incremental file with no block: magic, block count, truncation length (4 bytes each).
_HEADER_ONLY = 12


@dataclass(frozen=True)
class Need:
    """Bytes a step will write beside what is on disk now, and of what."""

    what: str
    parts: dict[str, int] = field(default_factory=dict)

    @property
    def bytes(self) -> int:
        return sum(self.parts.values())

    def describe(self) -> str:
        return ", ".join(f"{name} {size / GB:,.2f} GB" for name, size in self.parts.items())


def databases_bytes(url: str) -> int:
    """The size of every database of the server at `url` (what a base backup copies, bar a few
    MB of cluster-wide files)."""
    with psycopg.connect(url, connect_timeout=10) as conn:
        row = conn.execute("SELECT sum(pg_database_size(oid))::bigint FROM pg_database").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def create_need(database_bytes: int) -> Need:
    return Need(
        "a full backup",
        {
            "plaintext staging": database_bytes,
            "encrypted copy": database_bytes,
            "WAL allowance": WAL_ALLOWANCE,
        },
    )


def restore_need(repo: Repository, cipher: BackupCipher, record: BackupRecord) -> Need:
    """A restore (or verify) of `record`'s chain, from the sizes recorded and its manifests."""
    chain = repo.chain(record)
    unpacked = sum(
        item.files.get("base.tar", 0) + item.files.get("pg_wal.tar", 0) for item in chain
    )
    wal = sum(path.stat().st_size for path in repo.wal.glob("*.enc"))
    return Need(
        f"a restore of backup {record.id}",
        {
            "unpacked backups": unpacked,
            "files pg_combinebackup rebuilds": rebuilt_bytes(repo, cipher, chain),
            "decrypted WAL archive": wal,
        },
    )


def rebuilt_bytes(repo: Repository, cipher: BackupCipher, chain: list[BackupRecord]) -> int:
    """Bytes pg_combinebackup writes anew; the rest it links. An incremental backup holds every
    relation file as `INCREMENTAL.<name>`, most of them a bare header (no block changed): such a
    file is linked from the older backup. One with changed blocks (in the newest backup or one
    between) is rebuilt whole: at most its size in the older backup plus the blocks added. And
    it writes a new backup_manifest, about as large as the newest one."""
    if len(chain) < 2:
        return 0
    manifests = [_manifest_sizes(repo, cipher, item) for item in chain]
    total = chain[-1].files.get("backup_manifest", 0)
    for path in manifests[-1]:
        folder, _, name = path.rpartition("/")
        if not name.startswith(_INCREMENTAL):
            continue
        whole = f"{folder}/{name[len(_INCREMENTAL) :]}"
        added, older = 0, 0
        for manifest in reversed(manifests):
            if whole in manifest:
                older = manifest[whole]
                break
            added += max(0, manifest.get(path, 0) - _HEADER_ONLY)
        if added:
            total += older + added
    return total


def _manifest_sizes(repo: Repository, cipher: BackupCipher, record: BackupRecord) -> dict[str, int]:
    path = repo.folder(record.id) / "backup_manifest.enc"
    name = f"{record.id}/backup_manifest"
    if not path.exists():
        raise BackupError(f"{name}: missing ({path} does not exist)")
    with open(path, "rb") as raw:
        manifest = json.loads(b"".join(cipher.decrypt_chunks(raw, name=name)))
    return {str(f["Path"]): int(f["Size"]) for f in manifest.get("Files", [])}


def ensure_room(folder: Path, need: Need, *, reserve: int, free: int | None = None) -> None:
    """BackupError, before anything is written, when the file system under `folder` cannot hold
    `need` and still keep `reserve` bytes free. `free` defaults to its free bytes now."""
    if free is None:
        free = shutil.disk_usage(folder).free
    if free - need.bytes >= reserve:
        return
    raise BackupError(
        f"not enough disk for {need.what}: it writes about {need.bytes / GB:,.1f} GB under "
        f"{folder} ({need.describe()}), {reserve / GB:,.1f} GB are to stay free, and "
        f"{free / GB:,.1f} GB are free. Free some space, or give a folder on a larger disk."
    )
