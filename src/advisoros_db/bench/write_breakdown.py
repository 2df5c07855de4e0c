"""What one insert statement into a table pays for, item by item (issue 16.7).

The statement is the benchmark's insert case (`write_cases.staged_insert`: copies of one firm's
rows with new ids), run as the application role inside that firm's tenant transaction. Each
variant first takes one thing away inside the same transaction, as the owner (disable a trigger,
drop a foreign key, an index or a key, disable row-level security, ...), and is rolled back, so
the database is never changed. What a thing costs is the statement's server-side execution time
(EXPLAIN ANALYZE, triggers and foreign-key checks included) with everything, minus that time
without it; medians over rounds, the variants in a new random order each round, the table
vacuumed between rounds (rolled-back inserts leave dead index entries and GIN pending-list
entries behind, which would otherwise make every later round slower).

Two variants compare shapes rather than remove one item: `no triggers, foreign keys or RLS`
(every index and key kept) and `plain table, same indexes and keys` (an unpartitioned copy made
with LIKE ... INCLUDING ALL, which has none of the three either): their difference is what
partitioning (routing each row, one set of indexes per partition) costs.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass, field
from typing import Any, LiteralString

import psycopg
from psycopg import sql

from advisoros_db.bench.write_cases import SET_BY_DATABASE, copies_insert, staged_insert
from advisoros_db.datagen.introspect import describe
from advisoros_db.tenancy import APP_ROLE
from advisoros_db.tenancy.context import APPLY_SQL

ALL = "everything (as the application runs it)"
BARE = "no triggers, foreign keys or RLS"
PLAIN = "plain table, same indexes and keys"
PLAIN_TABLE = "bench_breakdown_plain"

# User triggers on the table that fire on INSERT (tgtype bit 2), not partition clones.
_TRIGGERS_SQL: LiteralString = """
SELECT tgname::text FROM pg_trigger
 WHERE tgrelid = %(rel)s::regclass AND NOT tgisinternal AND tgtype & 4 <> 0 ORDER BY 1
"""
# conname, contype, whether a foreign key references the key (then it cannot be dropped alone).
_CONSTRAINTS_SQL: LiteralString = """
SELECT c.conname::text, c.contype::text,
       EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid
                  AND f.confrelid = c.conrelid)
  FROM pg_constraint c
 WHERE c.conrelid = %(rel)s::regclass AND c.contype IN ('p', 'u', 'f') AND c.conparentid = 0
 ORDER BY c.contype, c.conname
"""
# Indexes that back no constraint; method; the expression of an expression index's first column.
_INDEXES_SQL: LiteralString = """
SELECT ic.relname::text, am.amname::text,
       CASE WHEN i.indexprs IS NOT NULL THEN pg_get_indexdef(i.indexrelid, 1, true) END
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_am am ON am.oid = ic.relam
 WHERE i.indrelid = %(rel)s::regclass
   AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid
                      AND c.conrelid = i.indrelid)
 ORDER BY 1
"""
# Every partition's copy of a GIN index of the table (a partitioned index has no storage options).
_GIN_LEAVES_SQL: LiteralString = """
SELECT t.relid::regclass::text
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_am am ON am.oid = ic.relam AND am.amname = 'gin'
  CROSS JOIN LATERAL pg_partition_tree(i.indexrelid) t
 WHERE i.indrelid = %(rel)s::regclass AND t.isleaf
"""


@dataclass(frozen=True)
class Variant:
    """One thing taken away (`kind`: trigger, foreign key, key, index, ...), by `ddl` run as the
    owner inside the measured transaction; `into` names the table the insert targets instead."""

    name: str
    kind: str
    ddl: tuple[sql.Composed, ...] = ()
    into: str | None = None


@dataclass
class Breakdown:
    table: str
    rows: int
    rounds: int
    organization_id: str
    samples: dict[str, list[float]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    # Server-side time to compute each expression index's expression over the staged rows alone.
    expressions_ms: dict[str, float] = field(default_factory=dict)

    def median(self, name: str) -> float:
        return statistics.median(self.samples[name])

    def as_dict(self) -> dict[str, Any]:
        whole = self.median(ALL)
        items: list[dict[str, Any]] = []
        for name, samples in self.samples.items():
            if name == ALL:
                continue
            ms = statistics.median(samples)
            items.append(
                {
                    "without": name,
                    "kind": self.kinds[name],
                    "execution_ms": round(ms, 1),
                    # What the item adds: everything minus everything but it.
                    "adds_ms": round(whole - ms, 1),
                    "adds_percent": round(100 * (whole - ms) / whole, 1) if whole else None,
                }
            )
        items.sort(key=lambda i: -float(i["adds_ms"]))
        return {
            "table": self.table,
            "rows": self.rows,
            "rounds": self.rounds,
            "organization_id": self.organization_id,
            "execution_ms": round(whole, 1),
            "per_row_us": round(1000 * whole / self.rows, 1) if self.rows else None,
            "items": items,
            "expression_ms": {k: round(v, 1) for k, v in self.expressions_ms.items()},
        }


def variants(conn: psycopg.Connection[Any], table: str, schema: str = "public") -> list[Variant]:
    """Everything the table's inserts can do without, one at a time, plus the two shape variants."""
    rel = sql.Identifier(schema, table)
    args = {"rel": _regclass(schema, table)}
    found: list[Variant] = [Variant(ALL, "all")]
    disable_all: list[sql.Composed] = []
    for (name,) in conn.execute(_TRIGGERS_SQL, args).fetchall():
        ddl = sql.SQL("ALTER TABLE {} DISABLE TRIGGER {}").format(rel, sql.Identifier(name))
        found.append(Variant(f"trigger {name}", "trigger", (ddl,)))
        disable_all.append(ddl)
    for name, contype, referenced in conn.execute(_CONSTRAINTS_SQL, args).fetchall():
        ddl = sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(rel, sql.Identifier(name))
        if contype == "f":
            found.append(Variant(f"foreign key {name}", "foreign key", (ddl,)))
            disable_all.append(ddl)
        elif not referenced:
            found.append(Variant(f"key {name}", "key", (ddl,)))
    gin: list[str] = []
    for name, method, _ in conn.execute(_INDEXES_SQL, args).fetchall():
        ddl = sql.SQL("DROP INDEX {}").format(sql.Identifier(schema, name))
        found.append(Variant(f"index {name}", f"index ({method})", (ddl,)))
        if method == "gin":
            gin.append(name)
    rls = sql.SQL("ALTER TABLE {} DISABLE ROW LEVEL SECURITY").format(rel)
    found.append(Variant("row-level security", "row-level security", (rls,)))
    if gin:
        leaves = [r[0] for r in conn.execute(_GIN_LEAVES_SQL, args).fetchall()]
        found.append(
            Variant(
                "GIN fastupdate (pending list) on every GIN index",
                "GIN setting",
                tuple(
                    # regclass text of this server: quoted where it needs to be.
                    sql.SQL("ALTER INDEX {} SET (fastupdate = off)").format(sql.SQL(leaf))
                    for leaf in leaves
                ),
            )
        )
    found.append(Variant(BARE, "shape", (*disable_all, rls)))
    plain = sql.Identifier(schema, PLAIN_TABLE)
    found.append(
        Variant(
            PLAIN,
            "shape",
            (
                sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(plain, rel),
                sql.SQL("GRANT SELECT, INSERT ON {} TO {}").format(plain, sql.Identifier(APP_ROLE)),
            ),
            into=PLAIN_TABLE,
        )
    )
    return found


def _regclass(schema: str, table: str) -> str:
    """`schema.table` as regclass input text, each name quoted."""
    return ".".join('"' + name.replace('"', '""') + '"' for name in (schema, table))


def busiest_organization(conn: psycopg.Connection[Any], table: str, schema: str = "public") -> str:
    row = conn.execute(
        sql.SQL(
            "SELECT organization_id::text FROM {} GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
        ).format(sql.Identifier(schema, table))
    ).fetchone()
    if row is None:
        raise ValueError(f"{table} has no rows to copy: seed the database first")
    return str(row[0])


def execution_plan(conn: psycopg.Connection[Any], statement: sql.Composed) -> dict[str, Any]:
    """The top of EXPLAIN (ANALYZE, FORMAT JSON) of `statement`: Execution Time, Triggers, ..."""
    plan = conn.execute(sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) ") + statement).fetchone()
    assert plan is not None
    top: dict[str, Any] = plan[0][0]
    return top


def _execution_ms(conn: psycopg.Connection[Any], statement: sql.Composed) -> float:
    return float(execution_plan(conn, statement)["Execution Time"])


def as_tenant(conn: psycopg.Connection[Any], organization_id: str) -> None:
    """The rest of the owner's current transaction as the application role inside one firm."""
    conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(APP_ROLE)))
    conn.execute(APPLY_SQL, (organization_id,))


@dataclass(frozen=True)
class Staged:
    """Up to `rows` of one firm's rows in a temporary table of the session, and the benchmark's
    insert of copies of them (`statement`; `into(other)` targets another table)."""

    organization_id: str
    table: sql.Identifier
    cols: list[str]
    statement: sql.Composed
    rows: int

    def into(self, other: str) -> sql.Composed:
        return copies_insert(self.table, other, self.cols)


def insert_columns(conn: psycopg.Connection[Any], table: str, schema: str = "public") -> list[str]:
    """The columns the application's inserts name (generated ones and those the database sets
    for it left out)."""
    skip = SET_BY_DATABASE.get(table, frozenset())
    return [
        c.name
        for c in describe(conn, table, schema).columns.values()
        if not c.generated and c.name not in skip
    ]


def stage(conn: psycopg.Connection[Any], table: str, rows: int, schema: str = "public") -> Staged:
    """Stage copies of the busiest firm's rows of `table`, as the application role (only the
    firm's rows; the role can read the copy). `conn`: the owner, autocommit, whose search_path
    finds `table` in `schema` first. Drop `Staged.table` when done."""
    org = busiest_organization(conn, table, schema)
    cols = insert_columns(conn, table, schema)
    with conn.transaction():
        as_tenant(conn, org)
        staged, statement = staged_insert(conn, table, cols, rows)
        count = conn.execute(sql.SQL("SELECT count(*) FROM pg_temp.{}").format(staged)).fetchone()
    return Staged(org, staged, cols, statement, int(count[0]) if count else 0)


def measure(
    conn: psycopg.Connection[Any],
    table: str,
    rows: int,
    rounds: int,
    *,
    schema: str = "public",
    seed: int = 0,
) -> Breakdown:
    """Measure every variant of inserting `rows` copies of the busiest firm's `table` rows.
    `conn`: the owner (a superuser), autocommit, whose search_path finds `table` in `schema`
    first; nothing it changes survives."""
    found = variants(conn, table, schema)
    staged = stage(conn, table, rows, schema)
    result = Breakdown(f"{schema}.{table}", staged.rows, rounds, staged.organization_id)
    try:
        for name, _, expression in conn.execute(
            _INDEXES_SQL, {"rel": _regclass(schema, table)}
        ).fetchall():
            if expression is None:
                continue
            # pg_get_indexdef output of this server, over the staged copy's same columns.
            query = sql.SQL("SELECT count({}) FROM pg_temp.{}").format(
                sql.SQL(expression), staged.table
            )
            result.expressions_ms[name] = statistics.median(
                _execution_ms(conn, query) for _ in range(rounds)
            )
        order = random.Random(seed)
        for _ in range(rounds):
            order.shuffle(found)
            for variant in found:
                with conn.transaction(force_rollback=True):
                    for ddl in variant.ddl:
                        conn.execute(ddl)
                    as_tenant(conn, staged.organization_id)
                    statement = staged.into(variant.into) if variant.into else staged.statement
                    ms = _execution_ms(conn, statement)
                result.samples.setdefault(variant.name, []).append(ms)
                result.kinds[variant.name] = variant.kind
            conn.execute(sql.SQL("VACUUM {}").format(sql.Identifier(schema, table)))
    finally:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(staged.table))
    return result
