"""Binary COPY into one table, with its secondary indexes and foreign keys set aside while it loads.

Indexes are rebuilt in one sort each and foreign keys re-validated in one join each afterwards, which
is far cheaper than maintaining them row by row; re-adding a foreign key checks every loaded row, so
a tenant or reference mistake still fails the load.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, LiteralString

import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter
from rich.progress import Progress, TaskID

from advisoros_db.datagen import deferred, followers, references
from advisoros_db.datagen.assemble import Batch
from advisoros_db.datagen.binary import HEADER, Chunk
from advisoros_db.datagen.deferred import recursive
from advisoros_db.errors import translated

SECONDARY_INDEXES_SQL: LiteralString = """
SELECT i.relname, pg_get_indexdef(x.indexrelid), x.indisunique
  FROM pg_index x
  JOIN pg_class i ON i.oid = x.indexrelid
 WHERE x.indrelid = %(rel)s::regclass
   AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
 ORDER BY i.relname
"""

# Primary keys and unique constraints no foreign key leans on: rebuilt after the load like indexes.
KEYS_SQL: LiteralString = """
SELECT c.conname, pg_get_constraintdef(c.oid)
  FROM pg_constraint c
 WHERE c.conrelid = %(rel)s::regclass AND c.contype IN ('p', 'u')
   AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid)
 ORDER BY c.contype, c.conname
"""

FOREIGN_KEYS_SQL: LiteralString = """
SELECT conname, pg_get_constraintdef(oid)
  FROM pg_constraint
 WHERE conrelid = %(rel)s::regclass AND contype = 'f'
 ORDER BY conname
"""


@dataclass
class LoadResult:
    table: str
    rows: int
    seconds: float
    copy_seconds: float
    index_seconds: float
    bytes: int = 0  # binary COPY data sent (encoded chunks; 0 for rows dumped here)
    frozen: set[str] = field(default_factory=set)  # the relations loaded with COPY FREEZE
    # Indexes (name, definition) left to build after the load committed (`deferred`).
    deferred: list[tuple[str, str]] = field(default_factory=list)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Part:
    """Rows bound for one relation: the loaded table itself, or one of its leaf partitions."""

    target: str
    batches: Iterable[Batch | Chunk]


@dataclass(frozen=True)
class SetAside:
    """What was dropped from a table for the load, to be put back exactly as it was."""

    indexes: list[tuple[str, str]]
    foreign_keys: list[tuple[str, str]]
    keys: list[tuple[str, str]]
    unique_indexes: frozenset[str] = frozenset()

    def deferrable(self) -> list[tuple[str, str]]:
        """The indexes that may be built after the load commits (the non-unique ones)."""
        return [i for i in self.indexes if i[0] not in self.unique_indexes]

    def without(self, indexes: list[tuple[str, str]]) -> SetAside:
        kept = [i for i in self.indexes if i not in indexes]
        return SetAside(kept, self.foreign_keys, self.keys, self.unique_indexes)


def set_aside(
    conn: psycopg.Connection[Any],
    schema: str,
    table: str,
    *,
    keep_indexes: bool,
    keep_foreign_keys: bool = False,
) -> SetAside:
    rel = sql.Identifier(schema, table).as_string(conn)

    def listed(query: LiteralString) -> list[tuple[str, str]]:
        return [(r[0], r[1]) for r in conn.execute(query, {"rel": rel}).fetchall()]

    secondary = [] if keep_indexes else conn.execute(SECONDARY_INDEXES_SQL, {"rel": rel}).fetchall()
    indexes = [(r[0], r[1]) for r in secondary]
    unique = frozenset(r[0] for r in secondary if r[2])
    keys = [] if keep_indexes else listed(KEYS_SQL)
    fks = [] if keep_foreign_keys else listed(FOREIGN_KEYS_SQL)
    for name, _ in indexes:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(schema, name)))
    for name, _ in [*fks, *keys]:
        conn.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.Identifier(schema, table), sql.Identifier(name)
            )
        )
    return SetAside(indexes, fks, keys, unique)


def restore(
    conn: psycopg.Connection[Any],
    schema: str,
    table: str,
    aside: SetAside,
    *,
    before_each: Callable[[], None] = lambda: None,
) -> None:
    """Put back what `set_aside` dropped; `before_each` runs before each build (settings)."""
    # Definitions come from pg_get_indexdef/pg_get_constraintdef of this very server.
    for name, definition in aside.keys:
        before_each()
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(
                sql.Identifier(schema, table), sql.Identifier(name)
            )
            + sql.SQL(definition)
        )
    for _, definition in aside.indexes:
        before_each()
        conn.execute(sql.SQL(recursive(definition)))
    for name, definition in aside.foreign_keys:
        before_each()
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(
                sql.Identifier(schema, table), sql.Identifier(name)
            )
            + sql.SQL(definition)
        )


def copy_batches(
    conn: psycopg.Connection[Any],
    schema: str,
    table: str,
    batches: Iterable[Batch | Chunk],
    *,
    progress: Progress | None = None,
    task: TaskID | None = None,
    freeze: bool = False,
) -> tuple[int, int]:
    """Stream batches through one binary COPY; rows and bytes sent.

    A `Chunk` is rows already encoded (by a worker process, or read back from the server): its
    bytes go to the server as they are. A `Batch` is rows of Python values, dumped here.
    """
    rows = sent = 0
    it: Iterator[Batch | Chunk] = iter(batches)
    first = next(it, None)
    if first is None or not first.columns:
        return 0, 0
    stmt = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY{})").format(
        sql.Identifier(schema, table),
        sql.SQL(", ").join(map(sql.Identifier, first.columns)),
        sql.SQL(", FREEZE" if freeze else ""),
    )
    cursor = conn.cursor()
    # A writer thread sends while this one receives or builds rows, so the server's work overlaps.
    with translated(), cursor.copy(stmt, writer=QueuedLibpqWriter(cursor)) as copy:
        if isinstance(first, Chunk):
            copy.write(HEADER)  # psycopg adds the trailer once the header was written by us
        else:
            copy.set_types(first.types)
        batch: Batch | Chunk | None = first
        while batch is not None:
            if list(batch.columns) != list(first.columns) or type(batch) is not type(first):
                raise AssertionError(f"{table}: batches disagree on columns")
            if isinstance(batch, Chunk):
                copy.write(batch.data)
                n = batch.rows
                sent += len(batch.data)
            else:
                for row in batch.rows:
                    copy.write_row(row)
                n = len(batch.rows)
            rows += n
            if progress is not None and task is not None:
                progress.update(task, advance=n, bytes=sent)
            batch = next(it, None)
    # The server's own count ("COPY n"): chunks read back from files do not count their rows.
    return (cursor.rowcount if cursor.rowcount >= 0 else rows), sent


FREEZABLE_SQL: LiteralString = """
SELECT c.relkind = 'r'
       AND NOT EXISTS (SELECT 1 FROM pg_constraint f
                        WHERE f.confrelid = c.oid AND f.contype = 'f' AND f.conrelid <> c.oid)
  FROM pg_class c WHERE c.oid = %(rel)s::regclass
"""


def freezable(conn: psycopg.Connection[Any], schema: str, table: str) -> bool:
    """Whether `table` can be truncated here and loaded with COPY FREEZE, losing nothing.

    COPY FREEZE needs the table emptied or created in this transaction, and refuses partitioned
    tables; TRUNCATE refuses a table another table's foreign key points at.
    """
    rel = sql.Identifier(schema, table).as_string(conn)
    row = conn.execute(FREEZABLE_SQL, {"rel": rel}).fetchone()
    return bool(row and row[0]) and followers.is_empty(conn, schema, table)


def load_table(
    conn: psycopg.Connection[Any],
    schema: str,
    table: str,
    batches: Iterable[Batch | Chunk] = (),
    *,
    parts: Sequence[Part] | None = None,
    keep_indexes: bool = False,
    progress: Progress | None = None,
    task: TaskID | None = None,
    skip_triggers: bool = False,
    freeze: bool = False,
    settings: Mapping[str, str] | None = None,
    build_settings: Callable[[], Mapping[str, str]] | None = None,
    defer_indexes: bool = False,
) -> LoadResult:
    """COPY the batches into `table` in one transaction: all rows and constraints hold, or nothing.

    `parts` send rows straight to leaf partitions of a partitioned `table` (the caller routed them
    by the partition key; the server still checks each row against its leaf's bounds), one COPY
    per part in order; without them, `batches` go to `table` itself.

    Followers (see `followers`) of a table that starts empty are filled set-based after the COPY,
    with their own indexes set aside too; otherwise their row triggers run as usual. With
    `skip_triggers` (a superuser session) foreign keys stay in place and are checked by one query
    each after the COPY (see `references`), so no lock is taken on the tables they point at.

    With `freeze`, every target that may be (empty, not partitioned, no other table's foreign key
    points at it: a leaf partition can be, its parent never) is truncated in the same transaction
    and loaded with `COPY ... FREEZE`: its rows are written frozen and all-visible, so no vacuum
    pass rewrites them later. `settings` (such as maintenance_work_mem for the index builds) hold
    for this transaction only; `build_settings()`, asked before each index and key build, adds
    what is decided only then (parallel maintenance workers, by how busy the machine is).
    """
    chosen = list(parts) if parts is not None else [Part(table, batches)]
    targets = list(dict.fromkeys(p.target for p in chosen))
    start = time.perf_counter()
    with conn.transaction():
        for name, value in (settings or {}).items():
            conn.execute("SELECT set_config(%s, %s, true)", (name, value))
        frozen = {t for t in targets if freeze and freezable(conn, schema, t)}
        for target in targets:
            if target in frozen:
                conn.execute(sql.SQL("TRUNCATE ONLY {}").format(sql.Identifier(schema, target)))
        group = followers.followers(conn, schema, table)
        if group and not followers.is_empty(conn, schema, table):
            group = []  # rows already there: the triggers keep the followers in step
        checked = [table, *(f.table for f in group)] if skip_triggers else []
        kept = [(t, references.references(conn, schema, t)) for t in checked]
        aside = set_aside(
            conn, schema, table, keep_indexes=keep_indexes, keep_foreign_keys=skip_triggers
        )
        asides = [
            set_aside(
                conn, schema, f.table, keep_indexes=keep_indexes, keep_foreign_keys=skip_triggers
            )
            for f in group
        ]
        later = aside.deferrable() if defer_indexes else []
        if later:
            deferred.record(conn, schema, table, later)
            aside = aside.without(later)
        followers.pause(conn, schema, table, group)
        if skip_triggers:
            references.skip_triggers(conn)
        rows = sent = 0
        for part in chosen:
            r, b = copy_batches(
                conn,
                schema,
                part.target,
                part.batches,
                progress=progress,
                task=task,
                freeze=part.target in frozen,
            )
            rows, sent = rows + r, sent + b
        followers.catch_up(conn, schema, table, group)
        copied = time.perf_counter()

        def tune() -> None:
            for name, value in (build_settings() if build_settings else {}).items():
                conn.execute("SELECT set_config(%s, %s, true)", (name, value))

        with translated():
            for name, refs in kept:
                references.verify(conn, schema, name, refs)
            for f, f_aside in zip(group, asides, strict=True):
                restore(conn, schema, f.table, f_aside, before_each=tune)
            restore(conn, schema, table, aside, before_each=tune)
    end = time.perf_counter()
    return LoadResult(table, rows, end - start, copied - start, end - copied, sent, frozen, later)
