"""`seed()`: fill every table of a migrated database with deterministic, tenant-consistent data."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any, LiteralString

import psycopg
from psycopg import sql
from rich.progress import Progress

from advisoros_db import pooler
from advisoros_db.datagen import deferred, partitions, references
from advisoros_db.datagen.assemble import Batch
from advisoros_db.datagen.binary import Chunk
from advisoros_db.datagen.buckets import buckets
from advisoros_db.datagen.generate import Plan, producer
from advisoros_db.datagen.introspect import TableInfo, dependency_order, describe, tables
from advisoros_db.datagen.limit import Limit, checkpoint, measure, rounded_seconds
from advisoros_db.datagen.loader import LoadResult, Part, load_table
from advisoros_db.datagen.records import ENTITY_TABLES
from advisoros_db.datagen.scales import get_scale
from advisoros_db.datagen.schedule import FollowUp, Load, Task, load_all
from advisoros_db.datagen.workers import Pool
from advisoros_db.errors import ConfigError
from advisoros_db.partitioning.layout import SPECS

SCHEMA = "public"
# Tables whose rows are derived by another pipeline rather than invented here.
DERIVED = {
    "document_embeddings": "embeddings come from the search pipeline over documents.extracted_text",
}
# Key registries of partitioned tables are filled by their trigger; foreign keys that point at a
# registry point, in effect, at the partitioned table.
REGISTRIES = {s.registry: s.table for s in SPECS.values() if s.key_registry}
DERIVED.update({r: f"maintained by the key-registry trigger on {t}" for r, t in REGISTRIES.items()})
# The plain table a partition conversion keeps for its rollback window is mirrored by trigger.
DERIVED.update(
    {s.old_name: f"kept and mirrored by the {s.table} conversion" for s in SPECS.values()}
)
# Models that read ids of tables they have no foreign key to load after everything else, and
# start only once those tables have (their rows are generated from theirs).
LAST = ("audit_logs",)
GENERATED_FROM = {"audit_logs": set(ENTITY_TABLES.values())}

RUNS_DDL: LiteralString = """
CREATE SCHEMA IF NOT EXISTS datagen;
CREATE TABLE IF NOT EXISTS datagen.runs (
    loaded_at timestamptz NOT NULL DEFAULT now(),
    scale text NOT NULL,
    seed bigint NOT NULL,
    organizations int NOT NULL,
    anchor timestamptz NOT NULL,
    row_counts jsonb NOT NULL
)
"""


@dataclass
class SeedReport:
    scale: str
    seed: int
    organizations: int
    anchor: datetime
    tables: list[LoadResult] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    limit: Limit | None = None  # the same rows loaded again from files (`measure_limit`)
    workers: int = 1
    checkpoint_seconds: float | None = None  # the CHECKPOINT before the timed load

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    @property
    def megabytes(self) -> float:
        return sum(t.bytes for t in self.tables) / 1e6

    def as_dict(self) -> dict[str, object]:
        return {
            "scale": self.scale,
            "seed": self.seed,
            "organizations": self.organizations,
            "anchor": self.anchor.isoformat(),
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows_per_second),
            "megabytes": round(self.megabytes, 1),
            "megabytes_per_second": round(self.megabytes / self.seconds, 1) if self.seconds else 0,
            "workers": self.workers,
            "checkpoint_seconds": rounded_seconds(self.checkpoint_seconds),
            "tables": [
                {
                    "table": t.table,
                    "rows": t.rows,
                    "seconds": round(t.seconds, 3),
                    "copy_seconds": round(t.copy_seconds, 3),
                    "index_seconds": round(t.index_seconds, 3),
                    "rows_per_second": round(t.rows_per_second),
                    "frozen_relations": len(t.frozen),
                }
                for t in self.tables
            ],
            "skipped": self.skipped,
            **self.limit_dict(),
        }

    def limit_dict(self) -> dict[str, object]:
        if self.limit is None:
            return {}
        rate = self.limit.rows_per_second
        return {
            "limit": self.limit.as_dict(),
            "percent_of_limit": round(100 * self.rows_per_second / rate, 1) if rate else None,
        }


def default_anchor() -> datetime:
    """Today at midnight UTC: data is relative to it, so one seed gives one data set per day."""
    now = datetime.now(UTC)
    return datetime(now.year, now.month, now.day, tzinfo=UTC)


def load_order(infos: dict[str, TableInfo]) -> list[str]:
    order = dependency_order(infos)
    first = ["organizations"] if "organizations" in order else []
    rest = [t for t in order if t not in first and t not in LAST]
    return first + rest + [t for t in LAST if t in order]


def _through_registries(info: TableInfo) -> TableInfo:
    info.foreign_keys = [
        replace(fk, parent=REGISTRIES.get(fk.parent, fk.parent)) for fk in info.foreign_keys
    ]
    return info


def _parents(infos: dict[str, TableInfo]) -> dict[str, set[str]]:
    """The tables each table has a foreign key to: they must be committed before it loads."""
    return {n: {fk.parent for fk in info.foreign_keys} for n, info in infos.items()}


def _prepare(conn: psycopg.Connection[Any], replace: bool, names: list[str]) -> None:
    if "organizations" not in names:
        raise ConfigError(
            "the database has no organizations table: migrate it first (`advisoros-db up` or "
            "`advisoros-db migrate`)"
        )
    has_rows = conn.execute("SELECT EXISTS (SELECT 1 FROM organizations)").fetchone()
    if has_rows and has_rows[0]:
        if not replace:
            raise ConfigError(
                "the database already holds organizations; pass --replace to truncate every table "
                "and seed again"
            )
        conn.execute(
            sql.SQL("TRUNCATE {} CASCADE").format(
                sql.SQL(", ").join(sql.Identifier(SCHEMA, n) for n in names)
            )
        )


def seed(
    url: str,
    scale: str = "tiny",
    *,
    organizations: int | None = None,
    seed: int = 42,
    anchor: datetime | None = None,
    replace: bool = False,
    keep_indexes: bool = False,
    progress: Progress | None = None,
    connections: int = 2,
    workers: int | None = None,
    measure_limit: bool = False,
) -> SeedReport:
    """Generate and COPY a data set into the database at `url` (the primary; replicas stream it).

    With `measure_limit`, the loaded rows are then read back, the tables emptied and the same rows
    loaded again from files (see `limit`): the report gains the server's ingest limit.
    `workers` generator processes make the rows (default: one per core); the rows are the same
    whatever their number.
    """
    chosen = get_scale(scale, organizations)
    when = anchor or default_anchor()
    report = SeedReport(chosen.name, seed, chosen.organizations, when)
    with pooler.connect(url, autocommit=True) as conn:
        report.checkpoint_seconds = checkpoint(conn)
        started = time.perf_counter()
        deferred.recover(conn)  # indexes an interrupted seed left to build
        names = tables(conn, SCHEMA)
        _prepare(conn, replace, names)
        if not keep_indexes:
            deferred.prepare(conn)
        infos = {n: _through_registries(describe(conn, n, SCHEMA)) for n in names}
        order = load_order(infos)
        for name in order:
            if name in DERIVED:
                report.skipped[name] = DERIVED[name]
        loaded = [n for n in order if n not in DERIVED]

        referenced = {p for ps in _parents(infos).values() for p in ps}
        referenced |= {p for ps in GENERATED_FROM.values() for p in ps}
        plan = Plan(seed, chosen, when, infos, frozenset(referenced))
        tasks = {
            n: progress.add_task(n, total=None, start=False) if progress is not None else None
            for n in loaded
        }
        overall = _Overall(progress)
        # Without trigger skipping, foreign keys are dropped and re-added, which locks the tables
        # they point at: one connection then, or two loads would wait on each other.
        skip_triggers = references.can_skip_triggers(conn)
        settings = maintenance_settings(connections if skip_triggers else 1)

        busy = _Busy()
        # The relations each table's rows went into (its leaf partitions, or itself), for the limit.
        routed: dict[str, list[str]] = {}

        def load_from(
            items: Callable[[str], Iterable[Batch | Chunk]], parts_of: PartsOf
        ) -> Load[LoadResult]:
            def load(worker: psycopg.Connection[Any], name: str) -> LoadResult:
                partitions.ensure(worker, infos[name], when)
                task = tasks[name]
                if progress is not None and task is not None:
                    progress.reset(task, total=None, start=True)
                parts = [
                    Part(target, overall.counted(items(key)))
                    for key, target in parts_of(worker, name)
                ]
                routed[name] = list(dict.fromkeys(p.target for p in parts))
                with busy:
                    result = load_table(
                        worker,
                        SCHEMA,
                        name,
                        parts=parts,
                        keep_indexes=keep_indexes,
                        progress=progress,
                        task=task,
                        skip_triggers=skip_triggers,
                        freeze=True,
                        settings=settings,
                        build_settings=busy.build_settings,
                        defer_indexes=not keep_indexes,
                    )
                if not result.deferred:
                    worker.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(SCHEMA, name)))
                if progress is not None and task is not None:
                    progress.update(
                        task,
                        total=result.rows,
                        completed=result.rows,
                        description=f"{name} ({result.rows_per_second:,.0f} rows/s)",
                    )
                return result

            return load

        def generated_parts(conn: psycopg.Connection[Any], name: str) -> list[tuple[str, str]]:
            chosen = buckets(name, when)
            if not chosen:
                return [(name, name)]
            leaves = partitions.targets(conn, infos[name], chosen)
            return [(b.request, t) for b, t in zip(chosen, leaves, strict=True)]

        def request(pool: Pool[Chunk]) -> Callable[[str], None]:
            def on_take(name: str) -> None:
                for key in [b.request for b in buckets(name, when)] or [name]:
                    pool.request(key)

            return on_take

        def run(
            items: Callable[[str], Iterable[Batch | Chunk]],
            parts_of: PartsOf,
            on_take: Callable[[str], None],
        ) -> list[LoadResult]:
            results = load_all(
                url,
                loaded,
                _parents(infos),
                load_from(items, parts_of),
                after=GENERATED_FROM,
                on_take=on_take,
                connections=connections if skip_triggers else 1,
                followups=partial(
                    _builds, busy, settings, {n for n, i in infos.items() if i.partitioned}
                ),
            )
            return [results[n] for n in loaded]

        report.workers = workers or default_workers()
        with Pool[Chunk](partial(producer, plan), report.workers) as pool:
            report.tables.extend(run(pool.items, generated_parts, request(pool)))
        for name in report.skipped:
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(SCHEMA, name)))
        report.seconds = time.perf_counter() - started
        if measure_limit:
            columns = {
                n: [c for c, col in infos[n].columns.items() if not col.generated] for n in loaded
            }
            report.limit = measure(
                conn,
                SCHEMA,
                columns,
                {n: list(routed[n]) for n in loaded},
                lambda src: run(src, lambda _, name: [(t, t) for t in routed[name]], _nothing),
            )
            for name in report.skipped:
                conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(SCHEMA, name)))
        _record(conn, report)
    return report


PartsOf = Callable[[psycopg.Connection[Any], str], list[tuple[str, str]]]


def _builds(
    busy: _Busy,
    settings: Mapping[str, str],
    partitioned: set[str],
    name: str,
    result: LoadResult,
) -> list[FollowUp]:
    """The deferred index builds a committed load leaves, as tasks for free connections; the
    last one to finish analyzes the table (expression indexes get their statistics)."""
    left = [len(result.deferred)]
    lock = threading.Lock()

    def task(index: str, definition: str) -> Task:
        def run(conn: psycopg.Connection[Any]) -> None:
            with busy:
                took = deferred.build(
                    conn,
                    SCHEMA,
                    name,
                    index,
                    definition,
                    settings=lambda: {**settings, **busy.build_settings()},
                )
            with lock:
                result.index_seconds += took
                result.seconds += took
                left[0] -= 1
                last = not left[0]
            if last:
                conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(SCHEMA, name)))

        return run

    # A partitioned table's builds one at a time (the server names their partition indexes as it
    # goes, and two at once would choose the same names); other tables' in parallel.
    group = name if name in partitioned else ""
    return [FollowUp(task(index, definition), group) for index, definition in result.deferred]


class _Busy:
    """How many loads are in flight: an index build that runs alone may use the idle cores."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.loads = 0

    def __enter__(self) -> None:
        with self.lock:
            self.loads += 1

    def __exit__(self, *_: object) -> None:
        with self.lock:
            self.loads -= 1

    def build_settings(self) -> dict[str, str]:
        """Parallel maintenance workers for the index builds about to start: the cores no other
        load is using right now (decided per table, when its rows are in)."""
        with self.lock:
            others = self.loads - 1
        return {"max_parallel_maintenance_workers": str(max(0, cores() - 1 - others))}


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def default_workers() -> int:
    """One generator process per core."""
    return cores()


def maintenance_settings(connections: int) -> dict[str, str]:
    """Index builds after the load, sized to this machine (where the embedded server runs).

    Each loading connection may use an eighth of the memory (at most 2 GB; at least the 64 MB
    PostgreSQL's own default) for one index sort, and the cores not already taken by the loading
    connections as parallel sort workers (each build then takes what is idle at its start, see
    `_Busy`). Set per transaction: the server's settings stay as they were.
    """
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    per_build = max(64 << 20, min(2 << 30, memory // 8 // max(1, connections)))
    workers = max(0, cores() // max(1, connections) - 1)
    return {
        "maintenance_work_mem": f"{per_build // (1 << 20)}MB",
        "max_parallel_maintenance_workers": str(workers),
    }


class _Overall:
    """The overall bar: rows and bytes of every table, advanced from both loading connections."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.task = progress.add_task("all tables", total=None) if progress is not None else None
        self.lock = threading.Lock()
        self.bytes = 0

    def counted(self, items: Iterable[Batch | Chunk]) -> Iterator[Batch | Chunk]:
        for item in items:
            if self.progress is not None and self.task is not None:
                rows = item.rows if isinstance(item, Chunk) else len(item.rows)
                with self.lock:
                    self.bytes += len(item.data) if isinstance(item, Chunk) else 0
                    self.progress.update(self.task, advance=rows, bytes=self.bytes)
            yield item


def _nothing(_: str) -> None:
    return None


def _record(conn: psycopg.Connection[Any], report: SeedReport) -> None:
    from psycopg.types.json import Jsonb

    conn.execute(RUNS_DDL)
    conn.execute(
        "INSERT INTO datagen.runs (scale, seed, organizations, anchor, row_counts)"
        " VALUES (%s, %s, %s, %s, %s)",
        (
            report.scale,
            report.seed,
            report.organizations,
            report.anchor,
            Jsonb({t.table: t.rows for t in report.tables}),
        ),
    )


def last_run(url: str) -> dict[str, object] | None:
    """The most recent seed recorded in the database, or None if it was never seeded."""
    with pooler.connect(url, autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass('datagen.runs') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return None
        row = conn.execute(
            "SELECT scale, seed, organizations, anchor, row_counts, loaded_at FROM datagen.runs"
            " ORDER BY loaded_at DESC LIMIT 1"
        ).fetchone()
    if row is None:
        return None
    keys = ("scale", "seed", "organizations", "anchor", "row_counts", "loaded_at")
    return dict(zip(keys, row, strict=True))
