"""Monthly range partitions a time-partitioned table needs for the generated span, made before COPY.

Without them the rows would land in the default partition, and pruning would have nothing to prune.
A month some existing partition already covers is left as it is.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, LiteralString

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql

from advisoros_db.datagen.context import Context
from advisoros_db.datagen.introspect import TableInfo

# Generated timestamps reach back 730 days; a month of slack on each side.
MONTHS_BACK = 26
MONTHS_AHEAD = 2

RANGE_KEY_SQL: LiteralString = """
SELECT a.attname, t.typname
  FROM pg_partitioned_table p
  JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
  JOIN pg_type t ON t.oid = a.atttypid
 WHERE p.partrelid = %(rel)s::regclass AND p.partstrat = 'r' AND p.partnatts = 1
"""


def month_starts(anchor: datetime, back: int, ahead: int) -> list[datetime]:
    base = anchor.year * 12 + anchor.month - 1
    return [
        datetime(m // 12, m % 12 + 1, 1, tzinfo=UTC) for m in range(base - back, base + ahead + 1)
    ]


def ensure_monthly(conn: psycopg.Connection[Any], info: TableInfo, anchor: datetime) -> int:
    """Create the missing monthly partitions around `anchor`; return how many were created."""
    row = conn.execute(RANGE_KEY_SQL, {"rel": f'"{info.schema}"."{info.name}"'}).fetchone()
    if row is None or row[1] not in ("timestamptz", "timestamp", "date"):
        return 0
    created = 0
    months = month_starts(anchor, MONTHS_BACK, MONTHS_AHEAD)
    for lo, hi in itertools.pairwise(months):
        name = f"{info.name}_{lo:%Y_%m}"
        stmt = sql.SQL("CREATE TABLE {} PARTITION OF {} FOR VALUES FROM ({}) TO ({})").format(
            sql.Identifier(info.schema, name),
            sql.Identifier(info.schema, info.name),
            sql.Literal(lo),
            sql.Literal(hi),
        )
        try:
            with conn.transaction():
                conn.execute(stmt)
            created += 1
        except (pg_errors.InvalidObjectDefinition, pg_errors.DuplicateTable):
            continue  # an existing partition (maybe of another width) already holds this month
    return created


@contextmanager
def prepared(conn: psycopg.Connection[Any], info: TableInfo, ctx: Context) -> Iterator[None]:
    if info.partitioned:
        ensure_monthly(conn, info, ctx.anchor)
    yield
