"""WAL file names, and storing a file into the archive idempotently.

An archived name is a timeline history (`00000002.history`) or a segment
(`TTTTTTTTXXXXXXXXYYYYYYYY`: timeline, then the segment's position), maybe `.partial`. After a
failover the streamer re-reads WAL the archive already holds, so storing a name twice is normal:
the same content is a success; a different complete segment or history is a failure (two
servers wrote one timeline) and is never overwritten; of two partial copies of one segment the
one holding more WAL is kept when it extends the other (pg_receivewal pads a partial segment with
zeros, so one is a prefix of the other), and two that disagree are a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import BinaryIO

from advisoros_db.backup.crypt import CHUNK, BackupCipher, BackupError
from advisoros_db.backup.repository import Repository

SEGMENT_BYTES = 16 * 1024 * 1024
_SEGMENTS_PER_ID = 0x1_0000_0000 // SEGMENT_BYTES


@dataclass(frozen=True)
class Segment:
    timeline: int
    number: int
    partial: bool

    @property
    def start(self) -> int:
        return self.number * SEGMENT_BYTES

    @property
    def end(self) -> int:
        return (self.number + 1) * SEGMENT_BYTES


def parse(name: str) -> Segment | None:
    """The segment a file name stands for; None for a history file or anything else."""
    base = name.removesuffix(".partial")
    if len(base) != 24:
        return None
    try:
        timeline, high, low = (int(base[i : i + 8], 16) for i in (0, 8, 16))
    except ValueError:
        return None
    return Segment(timeline, high * _SEGMENTS_PER_ID + low, name.endswith(".partial"))


def lsn_text(position: int) -> str:
    return f"{position >> 32:X}/{position & 0xFFFFFFFF:X}"


def lsn_int(text: str) -> int:
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


class Stored(Enum):
    NEW = "new"
    SAME = "same"  # the archive already held this content
    EXTENDED = "extended"  # a partial segment replaced by one holding more WAL
    KEPT = "kept"  # the archive's partial already held everything this one has


def store(repo: Repository, cipher: BackupCipher, path: Path) -> Stored:
    """Encrypt `path` into `wal/` under its name (the caller deletes the plaintext after);
    BackupError when the archive holds different content under that name."""
    name = path.name
    target = repo.wal / f"{name}.enc"
    logical = f"wal/{name}"
    if not target.exists():
        cipher.encrypt_file(path, target, name=logical)
        return Stored.NEW
    with open(target, "rb") as archived, open(path, "rb") as new:
        first_difference, archived_end, new_end = _compare(
            cipher.decrypt_chunks(archived, name=logical), new
        )
    if first_difference is None:
        return Stored.SAME
    if name.endswith(".partial"):
        if archived_end <= first_difference:
            cipher.encrypt_file(path, target, name=logical)
            return Stored.EXTENDED
        if new_end <= first_difference:
            return Stored.KEPT
    raise BackupError(
        f"{logical}: the archive already holds a different {name} (they differ from byte "
        f"{first_difference}); it is kept, and the new copy is left in {path.parent}. Two "
        f"servers wrote the same timeline: find out which one is the primary before archiving on"
    )


def _compare(archived: Iterator[bytes], new_file: BinaryIO) -> tuple[int | None, int, int]:
    """(offset of the first differing byte or None, end of the non-zero data of each)."""
    offset = 0
    first: int | None = None
    ends = [0, 0]
    while True:
        old = next(archived, b"")
        new: bytes = new_file.read(max(len(old), CHUNK))
        if not old and not new:
            break
        for i, chunk in enumerate((old, new)):
            used = len(chunk.rstrip(b"\0"))
            if used:
                ends[i] = offset + used
        if first is None and old != new:
            size = min(len(old), len(new))
            first = offset + next((i for i in range(size) if old[i] != new[i]), size)
        offset += max(len(old), len(new))
    return first, ends[0], ends[1]
