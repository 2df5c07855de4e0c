"""Compare a plain table with its partitioned twin in one snapshot: per partition, row counts and an
order-independent checksum; on a mismatch, the id ranges that differ."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, LiteralString

import psycopg
from psycopg import sql

# Order-independent: a sum of per-row hashes of the row's text form (numeric: no overflow).
_CHECKSUM = sql.SQL("SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)::numeric), 0)")

_DIFF: LiteralString = """
WITH a AS (SELECT {pk} AS id, hashtextextended(t::text, 0) AS h FROM {left} t WHERE {cond}),
     b AS (SELECT {pk} AS id, hashtextextended(t::text, 0) AS h FROM {right} t WHERE {cond}),
     j AS (SELECT coalesce(a.id, b.id) AS id, a.h IS NOT DISTINCT FROM b.h AS same
           FROM a FULL JOIN b ON a.id = b.id),
     r AS (SELECT id, same, row_number() OVER (ORDER BY id)
                          - row_number() OVER (PARTITION BY same ORDER BY id) AS grp FROM j)
SELECT (array_agg(id ORDER BY id))[1]::text, (array_agg(id ORDER BY id DESC))[1]::text, count(*)
  FROM r WHERE NOT same GROUP BY grp ORDER BY 1 LIMIT 20
"""

_BOUNDS = re.compile(r"FOR VALUES FROM \((.*)\) TO \((.*)\)")


@dataclass(frozen=True)
class PartitionCheck:
    partition: str
    rows_source: int
    rows_target: int
    checksum_source: str
    checksum_target: str
    differing_ranges: list[tuple[str, str, int]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (self.rows_source, self.checksum_source) == (self.rows_target, self.checksum_target)


@dataclass(frozen=True)
class Verification:
    source: str
    target: str
    partitions: list[PartitionCheck]

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.partitions)

    @property
    def rows(self) -> int:
        return sum(p.rows_source for p in self.partitions)

    def summary(self) -> str:
        bad = [p for p in self.partitions if not p.ok]
        if not bad:
            return f"{self.source} and {self.target} agree: {self.rows} rows in {len(self.partitions)} partitions"
        lines = [f"{self.source} and {self.target} differ in {len(bad)} partitions:"]
        for p in bad:
            ranges = ", ".join(f"{lo}..{hi} ({n} rows)" for lo, hi, n in p.differing_ranges)
            lines.append(f"  {p.partition}: {p.rows_source} vs {p.rows_target} rows; ids {ranges}")
        return "\n".join(lines)


def _literal(text: str) -> sql.Composable:
    # A bound deparsed by pg_get_expr is a quoted literal ('2026-01-01 00:00:00+00') or a number.
    return sql.Literal(text[1:-1].replace("''", "'") if text.startswith("'") else int(text))


def partition_conditions(
    conn: psycopg.Connection[Any], parent: str, key: str
) -> list[tuple[str, sql.Composable]]:
    """(partition, WHERE condition on the key selecting its rows) for every partition of `parent`."""
    rows = conn.execute(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i"
        " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass ORDER BY 1",
        (parent,),
    ).fetchall()
    k = sql.Identifier(key)
    ranges: list[tuple[str, sql.Composable]] = []
    default: str | None = None
    for name, bound in rows:
        match = _BOUNDS.fullmatch(bound)
        if match is None:
            default = name
            continue
        ranges.append(
            (
                name,
                sql.SQL("({k} >= {lo} AND {k} < {hi})").format(
                    k=k, lo=_literal(match.group(1)), hi=_literal(match.group(2))
                ),
            )
        )
    out = list(ranges)
    if default is not None:
        inside = sql.SQL(" OR ").join(c for _, c in ranges) if ranges else sql.SQL("false")
        out.append((default, sql.SQL("({k} IS NULL OR NOT ({inside}))").format(k=k, inside=inside)))
    return out


def compare(
    conn: psycopg.Connection[Any], source: str, target: str, *, key: str, pk: str = "id"
) -> Verification:
    """Compare `source` (plain) with `target` (partitioned) partition by partition, in one
    REPEATABLE READ snapshot, so concurrent writers mirrored in the same transactions cannot skew it."""
    checks = []
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        for name, cond in partition_conditions(conn, target, key):
            a = conn.execute(
                sql.SQL("{q} FROM {s} t WHERE {c}").format(
                    q=_CHECKSUM, s=sql.Identifier(source), c=cond
                )
            ).fetchone()
            b = conn.execute(
                sql.SQL("{q} FROM {p} t").format(q=_CHECKSUM, p=sql.Identifier(name))
            ).fetchone()
            assert a is not None and b is not None
            check = PartitionCheck(name, a[0], b[0], str(a[1]), str(b[1]))
            if not check.ok:
                diff = conn.execute(
                    sql.SQL(_DIFF).format(
                        pk=sql.Identifier(pk),
                        left=sql.Identifier(source),
                        right=sql.Identifier(name),
                        cond=cond,
                    )
                ).fetchall()
                check = PartitionCheck(
                    name, a[0], b[0], str(a[1]), str(b[1]), [(r[0], r[1], r[2]) for r in diff]
                )
            checks.append(check)
    return Verification(source, target, checks)


def table_checksum(conn: psycopg.Connection[Any], table: sql.Composable) -> tuple[int, str]:
    """(rows, order-independent checksum) of a whole table."""
    row = conn.execute(sql.SQL("{q} FROM {t} t").format(q=_CHECKSUM, t=table)).fetchone()
    assert row is not None
    return int(row[0]), str(row[1])
