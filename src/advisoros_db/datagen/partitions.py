"""The partitions a partitioned table needs for the generated data, created before COPY.

Without them the rows would land in the default partition, and pruning would have nothing to prune.
Tables the partitioning layout knows are prepared with its own lock-safe `ensure_partition`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

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
