"""Partition statistics (rows, size, bounds, last analyze) from get_partition_stats(), with the
open rollback window of each parent, if any."""

from __future__ import annotations

from typing import Any

from psycopg.rows import dict_row

from advisoros_db import pooler
from advisoros_db.partitioning.windows import RollbackWindow, open_windows


def stats(url: str, table_pattern: str = "%") -> list[dict[str, Any]]:
    """One dict per partition of every partitioned table whose name matches the LIKE pattern;
    `rollback_window_since` is when its parent's rollback window opened (None: none is open)."""
    with pooler.connect(url, autocommit=True, row_factory=dict_row) as conn:
        rows: list[dict[str, Any]] = conn.execute(
            "SELECT * FROM get_partition_stats(%s)", (table_pattern,)
        ).fetchall()
    since = {w.table: w.since.isoformat() for w in open_windows_at(url)}
    return [{**row, "rollback_window_since": since.get(row["parent_table"])} for row in rows]


def open_windows_at(url: str) -> list[RollbackWindow]:
    """`open_windows` on a connection of its own."""
    with pooler.connect(url, autocommit=True) as conn:
        return open_windows(conn)
