"""Partition statistics (rows, size, bounds, last analyze) from get_partition_stats()."""

from __future__ import annotations

from typing import Any

from psycopg.rows import dict_row

from advisoros_db import pooler


def stats(url: str, table_pattern: str = "%") -> list[dict[str, Any]]:
    """One dict per partition of every partitioned table whose name matches the LIKE pattern."""
    with pooler.connect(url, autocommit=True, row_factory=dict_row) as conn:
        rows: list[dict[str, Any]] = conn.execute(
            "SELECT * FROM get_partition_stats(%s)", (table_pattern,)
        ).fetchall()
    return rows
