"""Partition runway (periods ready ahead of today) and an open conversion rollback window."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg

from advisoros_db.partitioning import ddl
from advisoros_db.partitioning.archive import partitions_of
from advisoros_db.partitioning.layout import SPECS, TableSpec, month_start


def runway(conn: psycopg.Connection[Any], spec: TableSpec, today: dt.date) -> dict[str, Any]:
    """How many partitions exist after the current period (months or tax years), and whether the
    current one exists. Rows past the runway land in the default partition, unpruned."""
    if not ddl.is_partitioned(conn, spec.table):
        return {"table": spec.table, "partitioned": False, "unit": _unit(spec)}
    parts = partitions_of(conn, spec)
    if spec.granularity == "month":
        start = month_start(today)
        ahead = sum(1 for p in parts if isinstance(p.lower, dt.datetime) and p.lower > start)
        covers = any(p.lower == start for p in parts)
    else:
        ahead = sum(1 for p in parts if isinstance(p.lower, int) and p.lower > today.year)
        covers = any(p.lower == today.year for p in parts)
    return {
        "table": spec.table,
        "partitioned": True,
        "unit": _unit(spec),
        "partitions": len(parts),
        "covers_current": covers,
        "ahead": ahead,
        "last": parts[-1].name if parts else None,
    }


def _unit(spec: TableSpec) -> str:
    return "months" if spec.granularity == "month" else "tax years"


def rollback_window(conn: psycopg.Connection[Any], spec: TableSpec) -> dict[str, Any]:
    """Open while the plain table a conversion swapped out is kept (`<table>_old`): writes are
    mirrored into it and `partitions finalize` has yet to end the window."""
    row = conn.execute(
        "SELECT to_regclass(format('public.%%I', %s::text)) IS NOT NULL", (spec.old_name,)
    ).fetchone()
    return {"table": spec.table, "open": bool(row and row[0]), "kept_table": spec.old_name}


def partitions(conn: psycopg.Connection[Any], today: dt.date) -> dict[str, Any]:
    return {
        "runway": [runway(conn, spec, today) for spec in SPECS.values()],
        "rollback_windows": [rollback_window(conn, spec) for spec in SPECS.values()],
    }
