"""The ingest limit: how fast this server takes the same rows when nothing has to generate them.

After a seed, every loaded table is read back with binary COPY into a file, the tables are emptied,
and the files are loaded again through the very pipeline the seed used (same connections, same
order, indexes and foreign keys set aside and rebuilt). What that costs is the server's share; the
seed's own time minus it is what generating the rows still adds.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from advisoros_db.datagen.binary import HEADER, TRAILER, Chunk
from advisoros_db.datagen.loader import LoadResult

READ_BYTES = 4 << 20


@dataclass
class Limit:
    """The same rows loaded from pre-built binary COPY files: per table and overall."""

    tables: list[LoadResult] = field(default_factory=list)
    seconds: float = 0.0
    megabytes: float = 0.0
    checkpoint_seconds: float | None = None  # the CHECKPOINT before the timed reload

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows_per_second),
            "megabytes": round(self.megabytes, 1),
            "checkpoint_seconds": rounded_seconds(self.checkpoint_seconds),
            "copy_seconds": round(sum(t.copy_seconds for t in self.tables), 3),
            "index_seconds": round(sum(t.index_seconds for t in self.tables), 3),
            "tables": [
                {
                    "table": t.table,
                    "rows": t.rows,
                    "copy_seconds": round(t.copy_seconds, 3),
                    "index_seconds": round(t.index_seconds, 3),
                }
                for t in self.tables
            ],
        }


def checkpoint(conn: psycopg.Connection[Any]) -> float | None:
    """Write out what earlier work left dirty, so the next timed phase does not pay for it.

    The loader and the limit are compared: run one after the other, the second paid for the
    first's checkpoints (about 10 GB of WAL at `large`) and looked slower than it is. Returns the
    seconds it took, or None when the role may not checkpoint (neither a superuser nor a member
    of pg_checkpoint); the phases are then timed as they come. `conn` is in autocommit mode.
    """
    start = time.perf_counter()
    try:
        conn.execute("CHECKPOINT")
    except psycopg.errors.InsufficientPrivilege:
        return None
    return time.perf_counter() - start


def rounded_seconds(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 3)


def export(
    conn: psycopg.Connection[Any],
    schema: str,
    table: str,
    columns: list[str],
    to: Path,
    *,
    besides: list[str] | None = None,
) -> int:
    """Write the table's rows in binary COPY form, without header and trailer; bytes written.

    Rows of the relations in `besides` (leaf partitions of `table` exported on their own) are
    left out.
    """
    cols = sql.SQL(", ").join(map(sql.Identifier, columns))
    rel = sql.Identifier(schema, table)
    if besides:
        others = [sql.Identifier(schema, b).as_string(conn) for b in besides]
        query = sql.SQL(
            "COPY (SELECT {} FROM {} WHERE tableoid <> ALL ({}::regclass[]))"
            " TO STDOUT (FORMAT BINARY)"
        ).format(cols, rel, sql.Literal(others))
    else:
        query = sql.SQL("COPY (SELECT {} FROM {}) TO STDOUT (FORMAT BINARY)").format(cols, rel)
    size = 0
    with to.open("wb") as out, conn.cursor().copy(query) as copy:
        skip = len(HEADER)
        for data in copy:
            part = bytes(data)
            if skip:
                cut = min(skip, len(part))
                part, skip = part[cut:], skip - cut
            out.write(part)
            size += len(part)
    with to.open("r+b") as f:  # the trailer is the file's last two bytes
        f.truncate(size - len(TRAILER))
    return size - len(TRAILER)


def chunks(path: Path, columns: list[str]) -> Iterator[Chunk]:
    """The file in pieces (rows are not counted: the load's own result counts them)."""
    cols = tuple(columns)
    with path.open("rb") as f:
        while data := f.read(READ_BYTES):
            yield Chunk(cols, data, 0)


Reload = Callable[[Callable[[str], Iterator[Chunk]]], list[LoadResult]]


def measure(
    conn: psycopg.Connection[Any],
    schema: str,
    columns: dict[str, list[str]],
    targets: dict[str, list[str]],
    reload: Reload,
    *,
    workdir: Path | None = None,
) -> Limit:
    """Export every table in `columns`, empty them, and time `reload` of the exported files.

    Each table is exported per relation its rows were loaded into (`targets`: its leaf
    partitions, or itself), one file each, so the reload sends them where the seed did;
    `reload`'s source gives the rows of one such relation by name.
    """
    limit = Limit()
    with tempfile.TemporaryDirectory(prefix="advisoros-limit-", dir=workdir) as tmp:
        files: dict[str, tuple[Path, list[str]]] = {}
        size = 0
        for name, cols in columns.items():
            for target in targets.get(name, [name]):
                files[target] = (Path(tmp) / f"{target}.copy", cols)
                leaves = [t for t in targets.get(name, []) if t != name]
                if target == name:
                    size += export(conn, schema, name, cols, files[target][0], besides=leaves)
                else:
                    size += export(conn, schema, target, cols, files[target][0])
        limit.megabytes = size / 1e6
        conn.execute(
            sql.SQL("TRUNCATE {} CASCADE").format(
                sql.SQL(", ").join(sql.Identifier(schema, n) for n in columns)
            )
        )
        limit.checkpoint_seconds = checkpoint(conn)
        start = time.perf_counter()
        limit.tables = reload(lambda target: chunks(*files[target]))
        limit.seconds = time.perf_counter() - start
    return limit


def checkpoints(load: float | None, limit: float | None) -> str:
    """How the two timed phases started: both from a fresh checkpoint, or as they came."""
    if load is None or limit is None:
        return (
            "No CHECKPOINT before one of the phases (the role needs superuser or pg_checkpoint, "
            "or the report predates them): the second phase may have paid for the first one's "
            "checkpoints"
        )
    return f"Each phase started after a CHECKPOINT (not timed: {load:.1f} s, {limit:.1f} s)"
