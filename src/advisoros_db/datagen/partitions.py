"""The partitions a partitioned table needs for the generated data, created before COPY.

Without them the rows would land in the default partition, and pruning would have nothing to prune.
Tables the partitioning layout knows are prepared with its own lock-safe `ensure_partition`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, LiteralString

import psycopg
from psycopg import sql

from advisoros_db.datagen.buckets import Bucket
from advisoros_db.datagen.introspect import TableInfo
from advisoros_db.partitioning.layout import SPECS, add_months, month_start, partition_for
from advisoros_db.partitioning.maintain import ensure_partition

# Generated timestamps reach back 730 days; one month of slack on each side.
MONTHS_BACK = 25
MONTHS_AHEAD = 1
# Tax years the generator writes (NULL and others go to the default partition).
YEARS = range(2020, 2031)


def needed(table: str, anchor: datetime) -> list[Any]:
    """Partition key values, one per partition the generated rows of `table` fall into."""
    spec = SPECS[table]
    if spec.granularity == "month":
        first = month_start(anchor)
        return [add_months(first, m) for m in range(-MONTHS_BACK, MONTHS_AHEAD + 1)]
    return list(YEARS)


def ensure(conn: psycopg.Connection[Any], info: TableInfo, anchor: datetime) -> int:
    """Create the missing partitions of a partitioned table; how many were created now."""
    if not info.partitioned or info.name not in SPECS:
        return 0
    spec = SPECS[info.name]
    return sum(
        ensure_partition(conn, spec, partition_for(spec, value))
        for value in needed(info.name, anchor)
    )


LEAVES_SQL: LiteralString = """
SELECT c.relname, c.relkind = 'r', pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'
  FROM pg_inherits i
  JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = %(rel)s::regclass
"""


def targets(conn: psycopg.Connection[Any], info: TableInfo, chosen: list[Bucket]) -> list[str]:
    """The relation each bucket's rows are copied into: the leaf partition the layout names for
    its key (the default partition for an unknown key) where the table has it as a plain table,
    else the table itself (the server routes those rows). COPY into a leaf still checks each row
    against the leaf's bounds, so a wrong route fails the load instead of misplacing rows."""
    if not info.partitioned or info.name not in SPECS:
        return [info.name] * len(chosen)
    spec = SPECS[info.name]
    rel = sql.Identifier(info.schema, info.name).as_string(conn)
    rows = conn.execute(LEAVES_SQL, {"rel": rel}).fetchall()
    plain = {name for name, is_plain, _ in rows if is_plain}
    default = next((name for name, _, is_default in rows if is_default), None)
    out: list[str] = []
    for bucket in chosen:
        leaf = default if bucket.key is None else partition_for(spec, bucket.key).name
        out.append(leaf if leaf is not None and leaf in plain else info.name)
    return out
