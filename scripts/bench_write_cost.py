"""Where the time of a document and an audit-log insert goes (issue 16.7), side by side with the
naive baseline the benchmark uses (keys only, no partitions).

Starts its own embedded primary in a temporary home, migrates a scratch database to head, seeds
it (`tiny` or `small`), builds the naive copy, and runs the benchmark's own insert cases
(`bench/write_cases.insert_cost`: one INSERT ... SELECT of N copies of existing rows, rolled back)
`rounds` times. Then, server-side from EXPLAIN ANALYZE of the same statement on the optimized side
(rolled back), each trigger's share of the statement's execution time: the documents_keys registry
(`partition_register`) in both of its designs (row-level, revision 0011; statement-level, 0017),
the audit hash chain (`audit_chain_stamp`) in both of its (three statements per row, revision
0012; one update found by ctid, 0019; the owner check once per caller, 0020), and the
foreign-key checks. Then, item by item, what each trigger, foreign key, key, index, row-level
security, GIN's pending list and partitioning add to the same statement on both sides
(`bench/write_breakdown.py`: each taken away in a rolled-back transaction, as the application
role), and the indexes each side has. Everything runs at REVISION (default head), so the same
script measures before and after a revision.

    .venv/bin/python scripts/bench_write_cost.py [SCALE] [ROWS] [ROUNDS] [REVISION]

Prints JSON. Run as the owner (a superuser), as the benchmark's write cases are.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from advisoros_db import datagen, migrations
from advisoros_db.audit import chain
from advisoros_db.bench import naive, write_breakdown, write_cases
from advisoros_db.bench.cases import Budget, Sides
from advisoros_db.cluster import Cluster
from advisoros_db.datagen.introspect import describe
from advisoros_db.partitioning import DOCUMENTS, keys
from advisoros_db.tenancy import APP_ROLE
from advisoros_db.urls import with_database


def _statement(conn: psycopg.Connection[Any], table: str, rows: int) -> tuple[sql.Composed, Any]:
    """The write case's INSERT ... SELECT over a staged copy of `rows` existing rows."""
    info = describe(conn, table)
    cols = [c.name for c in info.columns.values() if not c.generated]
    staged = sql.Identifier(write_cases.STAGING, f"shares_{table}_rows")
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier("datagen")))
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(staged))
    conn.execute(
        sql.SQL("CREATE UNLOGGED TABLE {} AS SELECT * FROM {} LIMIT {}").format(
            staged, sql.Identifier("public", table), sql.Literal(rows)
        )
    )
    select = sql.SQL(", ").join(
        sql.SQL("uuidv7()") if c == "id" else sql.Identifier(c) for c in cols
    )
    return (
        sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, cols)), select, staged
        ),
        staged,
    )


def _shares(conn: psycopg.Connection[Any], statement: sql.Composed) -> dict[str, float]:
    """Per trigger (foreign-key checks summed as `foreign_keys`): % of execution time."""
    with conn.transaction(force_rollback=True):
        plan = conn.execute(sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) ") + statement).fetchone()
    assert plan is not None
    top = plan[0][0]
    total = top["Execution Time"]
    out: dict[str, float] = {"execution_ms": total}
    for t in top.get("Triggers", []):
        name = "foreign_keys" if t["Trigger Name"].startswith("RI_") else t["Trigger Name"]
        out[name] = out.get(name, 0.0) + t["Time"]
    return {k: (v if k == "execution_ms" else 100 * v / total) for k, v in out.items()}


def _stamp_source(conn: psycopg.Connection[Any]) -> str:
    """CREATE OR REPLACE text of the installed stamping function."""
    row = conn.execute(
        "SELECT pg_get_functiondef(%s::regprocedure)", (f"{chain.FUNCTION}()",)
    ).fetchone()
    assert row is not None
    return str(row[0])


def _indexes(conn: psycopg.Connection[Any], schema: str, table: str) -> list[str]:
    """Every index of a side's table, as its definition (a partitioned index once)."""
    return [
        str(r[0])
        for r in conn.execute(
            "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " WHERE i.indrelid = %s::regclass ORDER BY 1",
            (sql.Identifier(schema, table).as_string(conn),),
        )
    ]


def _median(samples: list[dict[str, float]]) -> dict[str, float]:
    names = {k for s in samples for k in s}
    return {k: round(statistics.median(s.get(k, 0.0) for s in samples), 1) for k in sorted(names)}


def main() -> None:
    scale = sys.argv[1] if len(sys.argv) > 1 else "tiny"
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    revision = sys.argv[4] if len(sys.argv) > 4 else "head"
    scratch = Path(tempfile.mkdtemp(prefix="advisoros-writes-"))
    scratch.chmod(0o755)  # world-traversable: as root, the server runs as an unprivileged user
    cluster = Cluster(scratch / "home", app_role=APP_ROLE)
    info = cluster.up(0)
    try:
        name = f"bench_writes_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(with_database(info.primary_url, "postgres"), autocommit=True) as c:
            c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        url = with_database(info.primary_url, name)
        migrations.upgrade(url, revision)
        datagen.seed(url, scale, seed=42, replace=True)
        result: dict[str, Any] = {
            "scale": scale,
            "rows_per_insert": rows,
            "rounds": rounds,
            "cpus": os.cpu_count(),
            "revision": migrations.current(url),
            "load_average_start": os.getloadavg(),
        }
        with (
            psycopg.connect(url, autocommit=True) as optimized,
            psycopg.connect(
                url, autocommit=True, options=f"-c search_path={naive.NAIVE},public"
            ) as baseline,
        ):
            naive.ensure(optimized, f"write cost {name}")
            optimized.execute("VACUUM ANALYZE")
            sides, budget = Sides(optimized, baseline), Budget(write_reps=1)
            for table in ("documents", "audit_logs"):
                case = write_cases.insert_cost(table, rows)
                opt, nai = [], []
                for _ in range(rounds):
                    r = case.run(sides, budget)
                    assert r.optimized is not None and r.naive is not None
                    opt.append(r.optimized.p50)
                    nai.append(r.naive.p50)
                o, n = statistics.median(opt), statistics.median(nai)
                result[f"{table}.insert_rows"] = {
                    "optimized_ms": round(o, 1),
                    "naive_ms": round(n, 1),
                    "optimized_over_naive": round(o / n, 2),
                }
            statement, staged = _statement(optimized, "documents", rows)
            per_statement = keys.per_statement(optimized, DOCUMENTS)
            for design in (False, True):
                keys.set_design(optimized, DOCUMENTS, design)
                label = "statement_level" if design else "row_level"
                result[f"documents_trigger_share_percent_{label}"] = _median(
                    [_shares(optimized, statement) for _ in range(rounds)]
                )
            keys.set_design(optimized, DOCUMENTS, per_statement)  # the revision's own again
            optimized.execute(sql.SQL("DROP TABLE {}").format(staged))
            statement, staged = _statement(optimized, "audit_logs", rows)
            installed = _stamp_source(optimized)
            designs = {
                "per_row_link_0012": chain.STAMP_0012,
                "one_update_0019": chain.STAMP_0019,
                "owner_check_once_0020": chain.STAMP_0020,
            }
            for label, design in designs.items():
                optimized.execute(sql.SQL(chain.stamp_sql(**design)))
                result[f"audit_logs_trigger_share_percent_{label}"] = _median(
                    [_shares(optimized, statement) for _ in range(rounds)]
                )
            optimized.execute(sql.SQL(installed))  # the revision's own function again
            optimized.execute(sql.SQL("DROP TABLE {}").format(staged))
            result["indexes"] = {
                side: {t: _indexes(optimized, schema, t) for t in ("documents", "audit_logs")}
                for side, schema in (("optimized", "public"), ("naive", naive.NAIVE))
            }
            result["breakdown"] = {
                side: {
                    t: write_breakdown.measure(conn, t, rows, rounds, schema=schema).as_dict()
                    for t in ("documents", "audit_logs")
                }
                for side, conn, schema in (
                    ("optimized", optimized, "public"),
                    ("naive", baseline, naive.NAIVE),
                )
            }
        result["load_average_end"] = os.getloadavg()
        print(json.dumps(result, indent=2))
    finally:
        cluster.destroy()


if __name__ == "__main__":
    main()
