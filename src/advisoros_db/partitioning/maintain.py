"""Maintenance: keep a runway of future partitions, analyze parents, warn about a busy default; one
maintainer at a time (advisory lock)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from advisoros_db import advisory, pooler
from advisoros_db.partitioning import ddl
from advisoros_db.partitioning.layout import SPECS, Partition, TableSpec, runway
from advisoros_db.partitioning.locks import DEFAULT_POLICY, LockPolicy, in_short_transaction
from advisoros_db.partitioning.windows import open_windows

# The advisory lock's name (hashed to its key; keys are database-wide).
MAINTENANCE_LOCK = "advisoros_db.partitions.maintain"


@dataclass
class TableReport:
    table: str
    created: list[str] = field(default_factory=list)
    runway: list[str] = field(default_factory=list)
    default_rows: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass
class MaintenanceReport:
    ran: bool
    tables: list[TableReport] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"ran": self.ran, "tables": [t.__dict__ for t in self.tables]}


def _bounds(part: Partition) -> tuple[str, str]:
    def text(b: dt.datetime | int) -> str:
        return b.isoformat() if isinstance(b, dt.datetime) else str(b)

    return text(part.lower), text(part.upper)


def ensure_partition(
    conn: psycopg.Connection[Any],
    spec: TableSpec,
    part: Partition,
    *,
    policy: LockPolicy = DEFAULT_POLICY,
) -> bool:
    """Create one partition lock-safely (see partition_create); True if it was created now."""
    lower, upper = _bounds(part)

    def step(c: psycopg.Connection[Any]) -> bool:
        row = c.execute(
            "SELECT partition_create(%s::regclass, %s, %s, %s)",
            (spec.table, part.name, lower, upper),
        ).fetchone()
        return bool(row and row[0])

    return in_short_transaction(conn, step, policy=policy, what=f"create {part.name}")


def maintain_table(
    conn: psycopg.Connection[Any],
    spec: TableSpec,
    today: dt.date,
    *,
    policy: LockPolicy = DEFAULT_POLICY,
) -> TableReport:
    report = TableReport(spec.table)
    if not ddl.is_partitioned(conn, spec.table):
        report.warnings.append(
            f"{spec.table} is not partitioned yet: run `advisoros-db partitions convert {spec.table}`"
        )
        return report
    report.warnings.extend(w.warning() for w in open_windows(conn) if w.table == spec.table)
    for part in runway(spec, today):
        if ensure_partition(conn, spec, part, policy=policy):
            report.created.append(part.name)
        report.runway.append(part.name)
    # Autovacuum analyzes partitions, never the partitioned parent: the planner's parent
    # statistics come only from an explicit ANALYZE.
    conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(spec.table)))
    if ddl.exists(conn, spec.default_partition):
        row = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(spec.default_partition))
        ).fetchone()
        report.default_rows = int(row[0]) if row else 0
        if report.default_rows and spec.granularity == "month":
            report.warnings.append(
                f"{spec.default_partition} holds {report.default_rows} rows: create the months they "
                "belong to (their rows move there) so queries on those months prune"
            )
        elif report.default_rows:
            report.warnings.append(
                f"{spec.default_partition} holds {report.default_rows} rows (NULL or out-of-range "
                f"{spec.key}); they stay queryable there"
            )
    return report


def maintain(
    url: str,
    *,
    today: dt.date | None = None,
    tables: list[str] | None = None,
    policy: LockPolicy = DEFAULT_POLICY,
) -> MaintenanceReport:
    """Run one maintenance pass; returns ran=False without touching anything when another
    maintainer holds the lock (so a scheduler that overlaps itself never piles up)."""
    today = today or dt.datetime.now(dt.UTC).date()
    with advisory.holding(url, MAINTENANCE_LOCK) as got:
        if not got:
            return MaintenanceReport(ran=False)
        report = MaintenanceReport(ran=True)
        with pooler.connect(url, autocommit=True) as conn:
            for name in tables or list(SPECS):
                report.tables.append(maintain_table(conn, SPECS[name], today, policy=policy))
        return report
