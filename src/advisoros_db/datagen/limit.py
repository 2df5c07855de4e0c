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


def export(
    conn: psycopg.Connection[Any], schema: str, table: str, columns: list[str], to: Path
) -> int:
    """Write the table's rows in binary COPY form, without header and trailer; bytes written."""
    query = sql.SQL("COPY (SELECT {} FROM {}) TO STDOUT (FORMAT BINARY)").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(schema, table)
    )
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


def chunks(path: Path, columns: list[str], rows: int) -> Iterator[Chunk]:
    """The file in pieces; the row count rides on the last one (for progress only)."""
    cols = tuple(columns)
    with path.open("rb") as f:
        data = f.read(READ_BYTES)
        while data:
            more = f.read(READ_BYTES)
            yield Chunk(cols, data, 0 if more else rows)
            data = more


Reload = Callable[[Callable[[str], Iterator[Chunk]]], list[LoadResult]]


def measure(
    conn: psycopg.Connection[Any],
    schema: str,
    columns: dict[str, list[str]],
    counts: dict[str, int],
    reload: Reload,
    *,
    workdir: Path | None = None,
) -> Limit:
    """Export every table in `columns`, empty them, and time `reload` of the exported files."""
    limit = Limit()
    with tempfile.TemporaryDirectory(prefix="advisoros-limit-", dir=workdir) as tmp:
        files = {name: Path(tmp) / f"{name}.copy" for name in columns}
        size = sum(export(conn, schema, n, cols, files[n]) for n, cols in columns.items())
        limit.megabytes = size / 1e6
        conn.execute(
            sql.SQL("TRUNCATE {} CASCADE").format(
                sql.SQL(", ").join(sql.Identifier(schema, n) for n in columns)
            )
        )
        start = time.perf_counter()
        limit.tables = reload(lambda name: chunks(files[name], columns[name], counts[name]))
        limit.seconds = time.perf_counter() - start
    return limit
