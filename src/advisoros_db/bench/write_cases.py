"""Write cases, each rolled back so the data set stays intact: archival of one month by detaching
its partition versus DELETE of the same rows (maintenance, run as the owner), and the insert cost
the optimized indexes add (run as the application role, in a tenant transaction)."""

from __future__ import annotations

from typing import Any, LiteralString

import psycopg
from psycopg import sql

from advisoros_db.bench.cases import (
    Budget,
    CaseResult,
    CustomCase,
    Sides,
    scoped,
    session_facts,
    time_rolled_back,
)
from advisoros_db.datagen.introspect import describe
from advisoros_db.partitioning.archive import ARCHIVE_SCHEMA, detach, partitions_of
from advisoros_db.partitioning.layout import AUDIT_LOGS

# Columns the database fills in for the application role (audit/chain.py: the stamping trigger
# refuses a caller-chosen time or user and computes the chain), so its inserts leave them out.
SET_BY_DATABASE = {
    "audit_logs": frozenset({"created_at", "user_id", "chain_seq", "prev_hash", "row_hash"}),
}
OLDEST_MONTH_SQL: LiteralString = (
    "SELECT date_trunc('month', min(created_at)) + interval '1 month' FROM audit_logs"
)


def archive_month(sides: Sides, budget: Budget) -> CaseResult:
    result = CaseResult(
        "audit.archive_month",
        "archival",
        "Remove the oldest full month of audit logs: DETACH its partition (optimized) versus "
        "DELETE of the same rows (naive); each run rolled back. Maintenance: run as the owner.",
        role="owner",
    )
    conn = sides.owner_optimized
    parts = partitions_of(conn, AUDIT_LOGS)
    row = conn.execute(OLDEST_MONTH_SQL).fetchone()
    month = row[0] if row else None
    part = next((p for p in parts if p.lower == month), None)
    if part is None:
        result.skipped = (
            "audit_logs is not partitioned by month in this database (run the partitioning "
            "migrations), so there is no partition to detach"
        )
        return result
    count = conn.execute(
        "SELECT count(*) FROM audit_logs WHERE created_at >= %s AND created_at < %s",
        (part.lower, part.upper),
    ).fetchone()
    rows = int(count[0]) if count else 0

    def by_detach(c: psycopg.Connection[Any]) -> int:
        c.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(ARCHIVE_SCHEMA)))
        detach(c, AUDIT_LOGS, part)
        return rows

    def by_delete(c: psycopg.Connection[Any]) -> int:
        return c.execute(
            "DELETE FROM audit_logs WHERE created_at >= %s AND created_at < %s",
            (part.lower, part.upper),
        ).rowcount

    result.optimized = time_rolled_back(sides.owner_optimized, by_detach, budget.write_reps)
    result.naive = time_rolled_back(sides.owner_naive, by_delete, budget.write_reps)
    result.notes.update({"partition": part.name, "rows": rows})
    return result


def staged_insert(
    conn: psycopg.Connection[Any], table: str, cols: list[str], rows: int
) -> tuple[sql.Identifier, sql.Composed]:
    """Stage up to `rows` of `table` (as `conn` sees them) in a temporary table of the session;
    returns it and an INSERT of copies of those rows with new ids."""
    staged = sql.Identifier(f"bench_{table}_rows")
    conn.execute(sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(staged))
    conn.execute(
        sql.SQL("CREATE TEMP TABLE {} AS SELECT * FROM {} ORDER BY id LIMIT {}").format(
            staged, sql.Identifier(table), sql.Literal(rows)
        )
    )
    return staged, copies_insert(staged, table, cols)


def copies_insert(staged: sql.Identifier, table: str, cols: list[str]) -> sql.Composed:
    """INSERT into `table` a copy of every row of the temporary table `staged`, with new ids."""
    select = sql.SQL(", ").join(
        sql.SQL("uuidv7()") if c == "id" else sql.Identifier(c) for c in cols
    )
    return sql.SQL("INSERT INTO {} ({}) SELECT {} FROM pg_temp.{}").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, cols)), select, staged
    )


def insert_cost(table: str, rows: int) -> CustomCase:
    """INSERT `rows` copies of the sampled tenant's rows (new ids) into the optimized and the naive
    table, as the application role in that tenant's transaction."""

    def measure(sides: Sides, budget: Budget) -> CaseResult:
        result = CaseResult(
            f"{table}.insert_rows",
            "insert cost",
            f"Insert {rows:,} {table} rows of one firm into the optimized table (every index, "
            "partitions) and into the naive one (keys only), as the application role; rows/s "
            "on each side.",
        )
        info = describe(sides.owner_optimized, table)
        skip = SET_BY_DATABASE.get(table, frozenset())
        cols = [c.name for c in info.columns.values() if not c.generated and c.name not in skip]
        tenant = sides.organization_id
        for side, conn in (("optimized", sides.optimized), ("naive", sides.naive)):
            with scoped(conn, tenant):
                result.notes.setdefault("session", {})[side] = session_facts(conn)
                staged, statement = staged_insert(conn, table, cols, rows)

            def insert(c: psycopg.Connection[Any], statement: sql.Composed = statement) -> int:
                return c.execute(statement).rowcount

            try:
                timing = time_rolled_back(conn, insert, budget.write_reps, organization_id=tenant)
            finally:
                conn.execute(sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(staged))
            setattr(result, side, timing)
        result.notes["rows_per_insert"] = rows
        return result

    return CustomCase(f"{table}.insert_rows", "insert cost", f"insert {table}", measure)


def cases(scale: str) -> list[CustomCase]:
    rows = {"tiny": 200, "small": 2_000, "medium": 10_000}.get(scale, 20_000)
    return [
        CustomCase("audit.archive_month", "archival", "detach vs delete", archive_month),
        insert_cost("documents", rows),
        insert_cost("audit_logs", rows),
    ]
