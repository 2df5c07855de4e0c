"""Where the time of a document and an audit-log insert goes (issue 16.7), side by side with the
naive baseline the benchmark uses (keys only, no partitions).

Starts its own embedded primary in a temporary home, migrates a scratch database to REVISION
(default head), seeds it (`tiny` or `small`), builds the naive copy, and measures, always as the
application role inside the tenant transaction of the firm the benchmark samples, each insert
rolled back:

1. the benchmark's own insert cases (`bench/write_cases.insert_cost`: one INSERT ... SELECT of
   ROWS copies of the firm's rows), ROUNDS times, optimized and naive; `audit_logs.insert_rows`
   once per design of the audit chain's stamping function (revision 0012: three statements per
   row; 0019: one update found by ctid; 0020: the owner check once per caller and partition),
   in the same database, the designs taking turns each round;
2. server-side, from EXPLAIN ANALYZE of the same statement, each trigger's share of its execution
   time (foreign-key checks summed), for both designs of the documents_keys registry (row-level,
   0011; statement-level, 0017) and the three of the chain;
3. item by item (`bench/write_breakdown.py`), what each trigger, foreign key, key, index,
   row-level security, GIN's pending list and partitioning add, on both sides; and the indexes
   each side has.

The database's own designs are put back after each comparison.

    .venv/bin/python scripts/bench_write_cost.py [SCALE] [ROWS] [ROUNDS] [REVISION] > run.json
    .venv/bin/python scripts/bench_write_cost.py --markdown run.json
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from advisoros_db import datagen, migrations
from advisoros_db.audit import chain
from advisoros_db.bench import naive, sampling, write_breakdown, write_cases
from advisoros_db.bench.cases import Budget, Sides
from advisoros_db.cluster import Cluster
from advisoros_db.partitioning import DOCUMENTS, keys
from advisoros_db.tenancy import APP_ROLE, tenant_transaction
from advisoros_db.urls import with_database

TABLES = ("documents", "audit_logs")
ONE_ROW_INSERTS = 200
DESIGNS = {
    "per_row_link_0012": chain.STAMP_0012,
    "one_update_0019": chain.STAMP_0019,
    "owner_check_once_0020": chain.STAMP_0020,
}


def _shares(conn: psycopg.Connection[Any], staged: write_breakdown.Staged) -> dict[str, float]:
    """Per trigger (foreign-key checks summed as `foreign_keys`): % of execution time."""
    with conn.transaction(force_rollback=True):
        write_breakdown.as_tenant(conn, staged.organization_id)
        top = write_breakdown.execution_plan(conn, staged.statement)
    total = top["Execution Time"]
    out: dict[str, float] = {"execution_ms": total}
    for t in top.get("Triggers", []):
        name = "foreign_keys" if t["Trigger Name"].startswith("RI_") else t["Trigger Name"]
        out[name] = out.get(name, 0.0) + t["Time"]
    return {k: (v if k == "execution_ms" else 100 * v / total) for k, v in out.items()}


def _median(samples: list[dict[str, float]]) -> dict[str, float]:
    names = {k for s in samples for k in s}
    return {k: round(statistics.median(s.get(k, 0.0) for s in samples), 1) for k in sorted(names)}


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


def _insert_case(sides: Sides, table: str, rows: int) -> tuple[float, float]:
    """One run of the benchmark's insert case: optimized and naive ms."""
    r = write_cases.insert_cost(table, rows).run(sides, Budget(write_reps=1))
    assert r.optimized is not None and r.naive is not None
    return r.optimized.p50, r.naive.p50


def _one_row_us(
    app: psycopg.Connection[Any], org: str, table: str, cols: list[str], rows: int
) -> float:
    """Median client-side µs of one-row inserts of copies of the sampled firm's rows (each its own
    statement, prepared after five as an application's are), in one tenant transaction, rolled
    back. `app`: the application role, autocommit, its search_path picking the side."""
    samples = []
    with tenant_transaction(app, org):
        staged, statement = write_cases.staged_insert(app, table, cols, min(rows, ONE_ROW_INSERTS))
        row = app.execute(sql.SQL("SELECT count(*) FROM pg_temp.{}").format(staged)).fetchone()
    copies = int(row[0]) if row else 0
    one = statement + sql.SQL(" OFFSET %s LIMIT 1")
    try:
        with tenant_transaction(app, org), app.transaction(force_rollback=True):
            for k in range(ONE_ROW_INSERTS):
                start = time.perf_counter()
                app.execute(one, (k % copies,))
                samples.append((time.perf_counter() - start) * 1e6)
    finally:
        app.execute(sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(staged))
    return statistics.median(samples)


def _summary(pairs: list[tuple[float, float]]) -> dict[str, float]:
    o = statistics.median(p[0] for p in pairs)
    n = statistics.median(p[1] for p in pairs)
    return {
        "optimized_ms": round(o, 1),
        "naive_ms": round(n, 1),
        "optimized_over_naive": round(o / n, 2),
    }


def measure(url: str, app_url: str, rows: int, rounds: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    naive_path = f"-c search_path={naive.NAIVE},public"
    with (
        psycopg.connect(url, autocommit=True) as owner,
        psycopg.connect(url, autocommit=True, options=naive_path) as owner_naive,
        psycopg.connect(app_url, autocommit=True) as app,
        psycopg.connect(app_url, autocommit=True, options=naive_path) as app_naive,
    ):
        naive.ensure(owner, f"write cost {uuid.uuid4()}")
        owner.execute("VACUUM ANALYZE")
        sides = Sides(app, app_naive, sampling.sample(owner).organization_id, owner, owner_naive)
        result["organization_id"] = str(sides.organization_id)
        result["documents.insert_rows"] = _summary(
            [_insert_case(sides, "documents", rows) for _ in range(rounds)]
        )
        installed = _stamp_source(owner)
        runs: dict[str, list[tuple[float, float]]] = {label: [] for label in DESIGNS}
        for _ in range(rounds):
            for label, design in DESIGNS.items():
                owner.execute(sql.SQL(chain.stamp_sql(**design)))
                runs[label].append(_insert_case(sides, "audit_logs", rows))
        owner.execute(sql.SQL(installed))  # the revision's own function again
        for label, pairs in runs.items():
            result[f"audit_logs.insert_rows_{label}"] = _summary(pairs)
        result["audit_logs.insert_rows"] = result[f"audit_logs.insert_rows_{_design(installed)}"]

        staged = write_breakdown.stage(owner, "documents", rows)
        per_statement = keys.per_statement(owner, DOCUMENTS)
        for level in (False, True):
            keys.set_design(owner, DOCUMENTS, level)
            label = "statement_level" if level else "row_level"
            result[f"documents_trigger_share_percent_{label}"] = _median(
                [_shares(owner, staged) for _ in range(rounds)]
            )
        keys.set_design(owner, DOCUMENTS, per_statement)  # the database's own again
        owner.execute(sql.SQL("DROP TABLE pg_temp.{}").format(staged.table))
        staged = write_breakdown.stage(owner, "audit_logs", rows)
        samples: dict[str, list[dict[str, float]]] = {label: [] for label in DESIGNS}
        turns = random.Random(0)
        for _ in range(rounds):
            # The designs take turns in a new order each round: the machine's load drifts.
            for label in turns.sample(list(DESIGNS), len(DESIGNS)):
                owner.execute(sql.SQL(chain.stamp_sql(**DESIGNS[label])))
                samples[label].append(_shares(owner, staged))
        for label, taken in samples.items():
            result[f"audit_logs_trigger_share_percent_{label}"] = _median(taken)
        owner.execute(sql.SQL(installed))
        owner.execute(sql.SQL("DROP TABLE pg_temp.{}").format(staged.table))

        # One row per statement, as an application writes one audit entry or one upload.
        org = str(sides.organization_id)
        for table in TABLES:
            cols = write_breakdown.insert_columns(owner, table)
            o, n = (_one_row_us(conn, org, table, cols, rows) for conn in (app, app_naive))
            result[f"{table}.insert_one_row_us"] = {
                "optimized_us": round(o, 1),
                "naive_us": round(n, 1),
                "optimized_over_naive": round(o / n, 2),
                "statements": ONE_ROW_INSERTS,
            }

        result["indexes"] = {
            side: {t: _indexes(owner, schema, t) for t in TABLES}
            for side, schema in (("optimized", "public"), ("naive", naive.NAIVE))
        }
        result["breakdown"] = {
            side: {
                t: write_breakdown.measure(conn, t, rows, rounds, schema=schema).as_dict()
                for t in TABLES
            }
            for side, conn, schema in (
                ("optimized", owner, "public"),
                ("naive", owner_naive, naive.NAIVE),
            )
        }
    return result


def _design(source: str) -> str:
    """Which of DESIGNS a stamping function's source is."""
    if "audit_chain.restricted" in source:
        return "owner_check_once_0020"
    return "per_row_link_0012" if "audit_chain_link(" in source else "one_update_0019"


def markdown(result: dict[str, Any]) -> str:
    """The figures of a saved run as markdown tables (docs quote these, never typed by hand)."""
    out = [
        f"Revision `{result['revision']}`, scale `{result['scale']}`, "
        f"{result['rows_per_insert']:,} rows per insert, {result['rounds']} rounds, "
        f"load average {result['load_average_start']} at the start, "
        f"{result['load_average_end']} at the end.",
        "",
        "| case | optimized ms | naive ms | optimized ÷ naive |",
        "|---|---|---|---|",
    ]
    for key, case in result.items():
        if key.startswith(("documents.insert_rows", "audit_logs.insert_rows")):
            out.append(
                f"| `{key}` | {case['optimized_ms']:,} | {case['naive_ms']:,} | "
                f"{case['optimized_over_naive']}x |"
            )
    out += [
        "",
        "| one-row inserts | optimized µs | naive µs | optimized ÷ naive |",
        "|---|---|---|---|",
    ]
    for table in TABLES:
        one = result[f"{table}.insert_one_row_us"]
        out.append(
            f"| `{table}`, {one['statements']} statements | {one['optimized_us']:,} | "
            f"{one['naive_us']:,} | {one['optimized_over_naive']}x |"
        )
    shares = [k for k in result if "_trigger_share_percent_" in k]
    out += ["", "| statement, design | % of execution time per trigger |", "|---|---|"]
    out += [
        f"| {k} | "
        + ", ".join(f"{name} {v}" for name, v in result[k].items() if name != "execution_ms")
        + f" (execution {result[k]['execution_ms']} ms) |"
        for k in shares
    ]
    for side, tables in result["breakdown"].items():
        for b in tables.values():
            out += [
                "",
                f"`{b['table']}` ({side}): {b['rows']:,} rows, execution {b['execution_ms']:,} ms "
                f"({b['per_row_us']} µs per row), median of {b['rounds']} rounds",
                "",
                "| without | kind | ms | adds ms | adds % |",
                "|---|---|---|---|---|",
            ]
            out += [
                f"| {i['without']} | {i['kind']} | {i['execution_ms']:,} | {i['adds_ms']:,} | "
                f"{i['adds_percent']} |"
                for i in b["items"]
            ]
            if b["expression_ms"]:
                out += ["", "| index expression computed alone over the rows | ms |", "|---|---|"]
                out += [f"| `{k}` | {v:,} |" for k, v in b["expression_ms"].items()]
    return "\n".join(out)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--markdown":
        print(markdown(json.loads(Path(sys.argv[2]).read_text())))
        return
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
        result.update(measure(url, with_database(info.app_url, name), rows, rounds))
        result["load_average_end"] = os.getloadavg()
        print(json.dumps(result, indent=2))
    finally:
        cluster.destroy()


if __name__ == "__main__":
    main()
