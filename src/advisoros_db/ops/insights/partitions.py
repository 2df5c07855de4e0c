"""Partition runway (periods ready ahead of today) and an open conversion rollback window."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg

from advisoros_db.partitioning import ddl, windows
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


def rollback_windows(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    """Each partitioned table with whether its conversion's rollback window is open, and since
    when (`partitioning.windows` decides; insights only reports)."""
    opened = {w.table: w for w in windows.open_windows(conn)}
    return [
        {
            "table": spec.table,
            "open": spec.table in opened,
            "kept_table": spec.old_name,
            "since": opened[spec.table].since.isoformat() if spec.table in opened else None,
        }
        for spec in SPECS.values()
    ]


def partitions(conn: psycopg.Connection[Any], today: dt.date) -> dict[str, Any]:
    return {
        "runway": [runway(conn, spec, today) for spec in SPECS.values()],
        "rollback_windows": rollback_windows(conn),
    }
