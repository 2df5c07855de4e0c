"""`seed()`: fill every table of a migrated database with deterministic, tenant-consistent data."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, LiteralString

import psycopg
from psycopg import sql
from rich.progress import Progress

from advisoros_db import pooler
from advisoros_db.datagen import partitions, references
from advisoros_db.datagen.assemble import Batch, assemble
from advisoros_db.datagen.context import Context, org_weights
from advisoros_db.datagen.introspect import TableInfo, dependency_order, describe, tables
from advisoros_db.datagen.loader import LoadResult, load_table
from advisoros_db.datagen.pools import Pools
from advisoros_db.datagen.prefetch import Prefetcher
from advisoros_db.datagen.records import ENTITY_TABLES
from advisoros_db.datagen.scales import get_scale
from advisoros_db.datagen.schedule import load_all
from advisoros_db.datagen.tables import MODELS
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
# Every firm has at least one of these, so every child table has parents in every firm.
AT_LEAST_ONE = frozenset({"users", "clients", "engagements", "advisor_profiles", "documents"})

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

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "scale": self.scale,
            "seed": self.seed,
            "organizations": self.organizations,
            "anchor": self.anchor.isoformat(),
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows_per_second),
            "tables": [
                {
                    "table": t.table,
                    "rows": t.rows,
                    "seconds": round(t.seconds, 3),
                    "copy_seconds": round(t.copy_seconds, 3),
                    "index_seconds": round(t.index_seconds, 3),
                    "rows_per_second": round(t.rows_per_second),
                }
                for t in self.tables
            ],
            "skipped": self.skipped,
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


def _batches(ctx: Context, info: TableInfo, counts: list[int]) -> Iterator[Batch]:
    model = MODELS.get(info.name, (None, None))[0]
    if info.name == "organizations":
        assert model is not None
        cols = model(ctx, 0, ctx.scale.organizations)
        yield assemble(ctx, info, cols, 0, len(cols["id"]))
        return
    for org, wanted in enumerate(counts):
        if model is not None:
            cols = model(ctx, org, wanted)
            n = len(next(iter(cols.values()))) if cols else 0
        else:
            cols = {"organization_id": [ctx.org_ids[org]] * wanted}
            n = wanted if _has_required_parents(ctx, info, org) else 0
        if n:
            batch = assemble(ctx, info, cols, org, n)
            if "id" in batch.columns:
                at = batch.columns.index("id")
                ctx.remember(info.name, org, [row[at] for row in batch.rows])
            yield batch


def _through_registries(info: TableInfo) -> TableInfo:
    info.foreign_keys = [
        replace(fk, parent=REGISTRIES.get(fk.parent, fk.parent)) for fk in info.foreign_keys
    ]
    return info


def _parents(infos: dict[str, TableInfo]) -> dict[str, set[str]]:
    """The tables each table has a foreign key to: they must be committed before it loads."""
    return {n: {fk.parent for fk in info.foreign_keys} for n, info in infos.items()}


def _has_required_parents(ctx: Context, info: TableInfo, org: int) -> bool:
    """Whether every NOT NULL foreign key of a table has a parent row in this organization."""
    for fk in info.foreign_keys:
        if fk.parent in ("organizations", info.name):
            continue
        required = all(info.columns[c].not_null for c in fk.columns)
        if required and not ctx.parents(fk.parent, org):
            return False
    return True


def _counts(ctx: Context, table: str) -> list[int]:
    entry = MODELS.get(table)
    total = entry[1](ctx) if entry else ctx.scale.other
    return ctx.split(table, total, minimum=1 if table in AT_LEAST_ONE else 0)


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
) -> SeedReport:
    """Generate and COPY a data set into the database at `url` (the primary; replicas stream it)."""
    chosen = get_scale(scale, organizations)
    when = anchor or default_anchor()
    report = SeedReport(chosen.name, seed, chosen.organizations, when)
    started = time.perf_counter()
    with pooler.connect(url, autocommit=True) as conn:
        names = tables(conn, SCHEMA)
        _prepare(conn, replace, names)
        infos = {n: _through_registries(describe(conn, n, SCHEMA)) for n in names}
        ctx = Context(seed, chosen, when, Pools.build(seed))
        ctx.org_weights = org_weights(chosen.organizations, ctx.rng("organizations:size"))
        order = load_order(infos)
        for name in order:
            if name in DERIVED:
                report.skipped[name] = DERIVED[name]
        loaded = [n for n in order if n not in DERIVED]

        def produce(name: str) -> Iterator[Batch]:
            counts = [chosen.organizations] if name == "organizations" else _counts(ctx, name)
            return _batches(ctx, infos[name], counts)

        tasks = {
            n: progress.add_task(n, total=None) if progress is not None else None for n in loaded
        }

        def load(worker: psycopg.Connection[Any], name: str) -> LoadResult:
            partitions.ensure(worker, infos[name], ctx.anchor)
            task = tasks[name]
            result = load_table(
                worker,
                SCHEMA,
                name,
                prefetcher.items(name),
                keep_indexes=keep_indexes,
                progress=progress,
                task=task,
                skip_triggers=skip_triggers,
            )
            worker.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(SCHEMA, name)))
            if progress is not None and task is not None:
                progress.update(
                    task,
                    total=result.rows,
                    completed=result.rows,
                    description=f"{name} ({result.rows_per_second:,.0f} rows/s)",
                )
            return result

        # Without trigger skipping, foreign keys are dropped and re-added, which locks the tables
        # they point at: one connection then, or two loads would wait on each other.
        skip_triggers = references.can_skip_triggers(conn)
        workers = connections if skip_triggers else 1
        with Prefetcher(produce) as prefetcher:
            results = load_all(
                url,
                loaded,
                _parents(infos),
                load,
                after=GENERATED_FROM,
                on_take=prefetcher.request,
                connections=workers,
            )
        report.tables.extend(results[n] for n in loaded)
        for name in report.skipped:
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(SCHEMA, name)))
        report.seconds = time.perf_counter() - started
        _record(conn, report)
    return report


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
