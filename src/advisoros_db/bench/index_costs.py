"""What each index of the optimized schema costs and earns: its size, the measured cases whose
plans use it with their speed-up, and the time it adds to inserts into its table.

The write cost of an index is measured by difference: copies of existing rows are inserted into
its table with every index in place, then again in a transaction that first drops that one index;
both are rolled back. Where copies would break a unique rule of the table (a slug, an e-mail, one
row per user), the same rows are deleted first in that transaction (triggers and foreign-key
actions off for the delete only) and inserted again as they were: the same rows, every rule
checked on the timed insert. Indexes that back a constraint (primary, unique, exclusion keys) cannot be
dropped without dropping the rule they enforce, so they get a size and uses but no write cost.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, LiteralString

import psycopg
from psycopg import sql

from advisoros_db.bench.cases import CaseResult
from advisoros_db.datagen import references
from advisoros_db.datagen.introspect import describe

# The storage the original performance report estimated for its indexes.
ESTIMATE = "500 MB to 2 GB"
ESTIMATE_BYTES = (500 * 1024**2, 2 * 1024**3)

# Rows copied per insert when measuring write costs, per scale (larger for larger tables).
ROWS = {"tiny": 200, "small": 1_000, "medium": 5_000}
DEFAULT_ROWS = 10_000

# Every index of a table of schema public, partition indexes counted in their parent's size.
INVENTORY_SQL: LiteralString = """
SELECT ic.relname::text, c.relname::text, am.amname::text, pg_get_indexdef(i.indexrelid),
       CASE WHEN ic.relkind = 'I'
            THEN (SELECT coalesce(sum(pg_relation_size(t.relid)), 0)
                    FROM pg_partition_tree(i.indexrelid) t)
            ELSE pg_relation_size(i.indexrelid) END::bigint,
       con.contype::text, i.indisunique, i.indpred IS NOT NULL,
       i.indexprs IS NOT NULL, (i.indkey::int2[])[0:i.indnkeyatts - 1]::int[]
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_class c ON c.oid = i.indrelid
  JOIN pg_am am ON am.oid = ic.relam
  -- The constraint the index enforces; a foreign key that references it names it too.
  LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                             AND con.contype IN ('p', 'u', 'x')
 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
   AND NOT ic.relispartition AND NOT c.relispartition
 ORDER BY c.relname, ic.relname
"""


@dataclass(frozen=True)
class IndexInfo:
    name: str
    table: str
    method: str
    definition: str
    bytes: int
    constraint: str | None
    unique: bool
    partial: bool
    expression: bool
    keys: tuple[int, ...]

    @property
    def droppable(self) -> bool:
        return self.constraint is None


def inventory(conn: psycopg.Connection[Any]) -> list[IndexInfo]:
    found = []
    for name, table, method, definition, size, contype, unique, partial, expr, keys in conn.execute(
        INVENTORY_SQL
    ).fetchall():
        found.append(
            IndexInfo(
                name, table, method, definition, size, contype, unique, partial, expr, tuple(keys)
            )
        )
    return found


def overlaps(indexes: Iterable[IndexInfo]) -> dict[str, str]:
    """Each B-tree whose key columns lead a wider (or identical) B-tree on the same table, with
    that wider index: a full index answers every lookup the narrow one does. A partial, unique
    or expression index is never the narrow one (its rule or its expression is its reason)."""
    found: dict[str, str] = {}
    btrees = [i for i in indexes if i.method == "btree" and not i.expression and not i.partial]
    for narrow in btrees:
        if narrow.unique or narrow.constraint is not None:
            continue
        for wide in btrees:
            if (
                wide.name != narrow.name
                and wide.table == narrow.table
                and len(wide.keys) >= len(narrow.keys)
                and wide.keys[: len(narrow.keys)] == narrow.keys
            ):
                found[narrow.name] = wide.name
                break
    return found


class NotMeasured(Exception):
    """Why a table's inserts cannot be measured by this role."""


@dataclass(frozen=True)
class Insert:
    """The timed insert, what its transaction runs before it, and how it was made."""

    statement: sql.Composed
    before: tuple[sql.SQL | sql.Composed, ...] = ()
    method: str = "copies"


def _fastest_insert_ms(
    conn: psycopg.Connection[Any], insert: Insert, reps: int, drop: str | None
) -> tuple[float, int]:
    """The fastest of `reps` rolled-back inserts (the least disturbed by other work on a shared
    machine), after dropping index `drop` inside the same transaction."""
    best, rows = float("inf"), 0
    for _ in range(reps):
        with conn.transaction(force_rollback=True):
            if drop is not None:
                conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier("public", drop)))
            for statement in insert.before:
                conn.execute(statement)
            start = time.perf_counter()
            rows = conn.execute(insert.statement).rowcount
            best = min(best, (time.perf_counter() - start) * 1000)
    return best, rows


def keep_rows(conn: psycopg.Connection[Any], table: str, rows: int) -> list[str]:
    """The first `rows` rows of the table into a temporary table; the columns an insert sets."""
    conn.execute("DROP TABLE IF EXISTS pg_temp.bench_index_rows")
    conn.execute(
        sql.SQL(
            "CREATE TEMP TABLE bench_index_rows AS SELECT * FROM {} ORDER BY id LIMIT {}"
        ).format(sql.Identifier("public", table), sql.Literal(rows))
    )
    return [c.name for c in describe(conn, table).columns.values() if not c.generated]


def _insert(table: str, cols: list[str], *, new_ids: bool) -> sql.Composed:
    select = sql.SQL(", ").join(
        sql.SQL("uuidv7()") if c == "id" and new_ids else sql.Identifier(c) for c in cols
    )
    return sql.SQL("INSERT INTO {} ({}) SELECT {} FROM pg_temp.bench_index_rows").format(
        sql.Identifier("public", table), sql.SQL(", ").join(map(sql.Identifier, cols)), select
    )


def copies(table: str, cols: list[str]) -> Insert:
    """The kept rows inserted again under new ids."""
    return Insert(_insert(table, cols, new_ids=True))


def reinsert(table: str, cols: list[str]) -> Insert:
    """The kept rows deleted, then inserted again as they were: for a table whose unique rules
    copies would break. The delete runs with triggers and foreign-key actions off (no cascade, no
    append-only guard; all rolled back); the timed insert runs with them on."""
    return Insert(
        _insert(table, cols, new_ids=False),
        before=(
            sql.SQL("SET LOCAL session_replication_role = replica"),
            sql.SQL("DELETE FROM {} WHERE id IN (SELECT id FROM pg_temp.bench_index_rows)").format(
                sql.Identifier("public", table)
            ),
            sql.SQL("SET LOCAL session_replication_role = origin"),
        ),
        method="reinsert",
    )


def _timed_with_all(
    conn: psycopg.Connection[Any], table: str, cols: list[str], reps: int
) -> tuple[Insert, float, int]:
    """The insert with every index in place: copies, or the reinsert where copies break a rule."""
    insert = copies(table, cols)
    try:
        all_ms, inserted = _fastest_insert_ms(conn, insert, reps, None)
    except psycopg.errors.UniqueViolation:
        if not references.can_skip_triggers(conn):
            raise NotMeasured(
                "copies break a unique rule, and re-inserting the same rows needs "
                "session_replication_role (superuser or GRANT SET), which this role lacks"
            ) from None
        insert = reinsert(table, cols)
        all_ms, inserted = _fastest_insert_ms(conn, insert, reps, None)
    return insert, all_ms, inserted


def _per_second(rows: int, ms: float) -> int:
    return round(rows / (ms / 1000)) if ms > 0 else 0


def write_costs(
    conn: psycopg.Connection[Any], indexes: list[IndexInfo], rows: int, reps: int
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Per table: insert rows/s with every index; per droppable index: rows/s without it and the
    milliseconds per 1,000 rows it adds. Run as the owner (it drops indexes, rolled back)."""
    by_table: dict[str, list[IndexInfo]] = defaultdict(list)
    for index in indexes:
        by_table[index.table].append(index)
    tables: dict[str, dict[str, Any]] = {}
    costs: dict[str, dict[str, Any]] = {}
    for table, members in sorted(by_table.items()):
        droppable = [i for i in members if i.droppable]
        if not droppable:
            continue
        try:
            insert, all_ms, inserted = _timed_with_all(
                conn, table, keep_rows(conn, table, rows), reps
            )
            if inserted == 0:
                tables[table] = {"error": "the table is empty: no rows to copy"}
                continue
            tables[table] = {"rows": inserted, "ms": round(all_ms, 2), "method": insert.method}
            tables[table]["rows_per_second"] = _per_second(inserted, all_ms)
            for index in droppable:
                without_ms, _ = _fastest_insert_ms(conn, insert, reps, index.name)
                costs[index.name] = {
                    "rows_per_second_without": _per_second(inserted, without_ms),
                    "adds_ms_per_1000_rows": round((all_ms - without_ms) / inserted * 1000, 3),
                }
        except NotMeasured as why:
            tables[table] = {"error": str(why)}
        except psycopg.Error as exc:
            tables[table] = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
        finally:
            conn.execute("DROP TABLE IF EXISTS pg_temp.bench_index_rows")
    return tables, costs


def uses(cases: Iterable[CaseResult]) -> dict[str, list[dict[str, Any]]]:
    """Index name -> the measured cases whose optimized plan (as the role that ran them) used it."""
    used: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for case in cases:
        if case.skipped or case.optimized is None:
            continue
        plan = case.notes.get("optimized_plan") or {}
        r50 = case.ratio_p50
        for name in plan.get("indexes", []):
            used[name].append(
                {
                    "case": case.name,
                    "ratio_p50": round(r50, 2) if r50 is not None else None,
                    "p95_ms": round(case.optimized.p95, 3),
                    "named": case.notes.get("expected_index") == name,
                }
            )
    return dict(used)


def table(
    indexes: list[IndexInfo],
    cases: list[CaseResult],
    tables: dict[str, dict[str, Any]],
    costs: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """The per-index section of bench.json."""
    used = uses(cases)
    named = {c.notes.get("expected_index") for c in cases if c.notes.get("expected_index")}
    overlapping = overlaps(indexes)
    rows = []
    for index in sorted(indexes, key=lambda i: (i.table, i.name)):
        insert = tables.get(index.table, {})
        rows.append(
            {
                "name": index.name,
                "table": index.table,
                "method": index.method,
                "constraint": {"p": "primary key", "u": "unique", "x": "exclusion"}.get(
                    index.constraint or "", index.constraint
                ),
                "unique": index.unique,
                "definition": index.definition,
                "bytes": index.bytes,
                "used_by": used.get(index.name, []),
                "named_by_catalog": index.name in named,
                "insert_rows_per_second_with": insert.get("rows_per_second"),
                **costs.get(index.name, {}),
                "overlaps": overlapping.get(index.name),
            }
        )
    total = sum(i.bytes for i in indexes)
    return {
        "estimate": ESTIMATE,
        "estimate_bytes": list(ESTIMATE_BYTES),
        "total_bytes": total,
        "constraint_bytes": sum(i.bytes for i in indexes if not i.droppable),
        "secondary_bytes": sum(i.bytes for i in indexes if i.droppable),
        "count": len(indexes),
        "inserts": tables,
        "indexes": rows,
    }
