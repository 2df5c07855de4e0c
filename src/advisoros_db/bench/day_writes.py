"""One day of writes, at the rate the data set itself records: what an incremental backup taken a
day after a full one has to copy.

The generator spreads each table's history over the days before its anchor (two years for
documents and audit logs), denser towards the anchor (a growing business: the newest days hold
about twice the average). A table's daily rate is therefore taken from its newest
`RATE_WINDOW_DAYS` of history: the rows created in them, divided by that many days. For one day,
every table with at least that much history gets:

- that many new rows: copies of its newest rows with new ids and `created_at` (and `updated_at`)
  set to now, so they land where a day's new rows land (the newest pages, the current month's
  partition, the right end of time-ordered indexes);
- that many edits of existing rows (`updated_at` set to now), for tables that have it, spread
  uniformly over the table: each edit may touch another page, so for a block-level incremental
  this is the costly side of a real day, whose edits cluster on recent rows.

Tables with less history than that have no daily rate and get nothing; a table
whose copies break one of its unique keys (e-mail addresses, invoice numbers, one row per
document) is skipped. Both
are reported, with the rows a day would have brought them, so the figure says what it left out.
Nothing is deleted. All as the owner, one transaction per table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from advisoros_db.bench.write_cases import SET_BY_DATABASE
from advisoros_db.datagen.introspect import describe, tables

RATE_WINDOW_DAYS = 30


@dataclass
class DayWrites:
    inserted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    wal_bytes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "inserted": self.inserted,
            "updated": self.updated,
            "skipped": self.skipped,
            "rows_inserted": sum(self.inserted.values()),
            "rows_updated": sum(self.updated.values()),
            "wal_bytes": self.wal_bytes,
        }


def daily_rate(conn: psycopg.Connection[Any], table: str) -> tuple[int, float, int]:
    """(rows, days of history, rows a day over the newest RATE_WINDOW_DAYS) of `table`."""
    row = conn.execute(
        sql.SQL(
            "WITH span AS (SELECT min(created_at) AS oldest, max(created_at) AS newest FROM {t})"
            " SELECT (SELECT count(*) FROM {t}),"
            " coalesce(extract(epoch FROM newest - oldest) / 86400, 0)::float8,"
            " (SELECT count(*) FROM {t}, span WHERE created_at > newest - make_interval(days => {w}))"
            " FROM span"
        ).format(t=sql.Identifier(table), w=sql.Literal(RATE_WINDOW_DAYS))
    ).fetchone()
    assert row is not None
    return int(row[0]), float(row[1]), math.ceil(int(row[2]) / RATE_WINDOW_DAYS)


def write_one_day(url: str) -> DayWrites:
    """Apply one day of writes to the database at `url` (the owner's URL); see the module."""
    result = DayWrites()
    with psycopg.connect(url, autocommit=True) as conn:
        start = _lsn(conn)
        for table in tables(conn):
            info = describe(conn, table)
            if "created_at" not in info.columns:
                continue
            _, days, per_day = daily_rate(conn, table)
            if days < RATE_WINDOW_DAYS or per_day == 0:
                result.skipped[table] = f"{days:.0f} days of history: no daily rate"
                continue
            try:
                with conn.transaction():
                    # Edits first, so that they land on rows older than the day.
                    if "updated_at" in info.columns:
                        result.updated[table] = _update(conn, table, per_day)
                    result.inserted[table] = _insert(conn, info.columns, table, per_day)
            except psycopg.Error as exc:
                # Rolled back whole: a unique key the copies break (e-mails, invoice numbers).
                result.inserted.pop(table, None)
                result.updated.pop(table, None)
                result.skipped[table] = (
                    f"{per_day} rows a day not written: {exc.diag.constraint_name or exc.sqlstate}"
                )
        result.wal_bytes = _lsn(conn) - start
    return result


def _lsn(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()
    assert row is not None
    return int(row[0])


def _insert(conn: psycopg.Connection[Any], columns: dict[str, Any], table: str, n: int) -> int:
    skip = SET_BY_DATABASE.get(table, frozenset()) - {"created_at"}
    if "id" in columns and columns["id"].has_default:
        skip |= {"id"}  # the column's own default makes the new id
    names = [c for c, col in columns.items() if not col.generated and c not in skip]
    values: list[sql.Composable] = []
    for name in names:
        if name == "id":
            values.append(sql.SQL("uuidv7()"))
        elif name in ("created_at", "updated_at"):
            values.append(sql.SQL("now()"))
        else:
            values.append(sql.Identifier(name))
    statement = sql.SQL(
        "INSERT INTO {t} ({cols}) SELECT {vals} FROM"
        " (SELECT * FROM {t} ORDER BY created_at DESC LIMIT {n}) newest"
    ).format(
        t=sql.Identifier(table),
        cols=sql.SQL(", ").join(map(sql.Identifier, names)),
        vals=sql.SQL(", ").join(values),
        n=sql.Literal(n),
    )
    return conn.execute(statement).rowcount


def _update(conn: psycopg.Connection[Any], table: str, n: int) -> int:
    # Exactly n rows drawn from the whole table (a full scan; cheap beside a backup).
    statement = sql.SQL(
        "UPDATE {t} SET updated_at = now() WHERE id IN"
        " (SELECT id FROM {t} ORDER BY random() LIMIT {n})"
    ).format(t=sql.Identifier(table), n=sql.Literal(n))
    return conn.execute(statement).rowcount
