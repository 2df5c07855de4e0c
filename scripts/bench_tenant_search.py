"""Latency of the tenant search queries as the application role, on tests/plans/dataset.sql.

`python scripts/bench_tenant_search.py ADMIN_URL APP_URL [--runs N]` creates a scratch database
beside ADMIN_URL's, migrates it to head, loads the plan-test data set, VACUUM (FREEZE, ANALYZE),
then times every tenant catalog query on a GIN or full-text index, every search page (and, for
each, the same page with the plain predicate its function rechecks: `<name>.plain_page`, what the
query cost before revision 0021 for one page) and `search_text` over each kind, inside a tenant
transaction of the busiest organization, as the application role. Prints JSON: per query the
median and p95 in ms over N runs (after one warm-up run) and the rows returned.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from advisoros_db import migrations
from advisoros_db.bench import sampling
from advisoros_db.bench.catalog_cases import plain_sql
from advisoros_db.schema import catalog
from advisoros_db.search import fulltext
from advisoros_db.tenancy.context import apply_tenant
from advisoros_db.urls import with_database

DATASET = Path(__file__).resolve().parents[1] / "tests" / "plans" / "dataset.sql"
SEARCHES = {"search_text." + kind: kind for kind in fulltext.KINDS}
TERMS = {
    "documents": "zephyr",
    "clients": "zephyr",
    "tasks": "payroll",
    "notes": "penalty",
    "advisors": "cryptocurrency",
}


def _figures(samples: list[float], rows: int) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered), 3), "p95_ms": round(p95, 3), "rows": rows}


def run(admin_url: str, app_url: str, runs: int) -> dict[str, Any]:
    name = f"bench_tsearch_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin, app = with_database(admin_url, name), with_database(app_url, name)
    try:
        migrations.upgrade(admin)
        with psycopg.connect(admin, autocommit=True) as conn:
            with conn.transaction():
                conn.execute(DATASET.read_text())
            conn.execute("VACUUM (FREEZE, ANALYZE)")
            sample = sampling.sample(conn)
        queries = [
            q
            for q in catalog.QUERIES
            if not q.system
            and (
                catalog.is_page(q)
                or catalog.is_search(q)
                or "@@" in q.sql
                or "@>" in q.sql
                or "&&" in q.sql
                or "ILIKE" in q.sql
            )
        ]
        statements: list[tuple[str, str, catalog.CatalogQuery]] = [
            (q.name, q.sql, q) for q in queries
        ]
        for q in queries:
            plain = plain_sql(q)
            if plain is not None:
                statements.append((q.name + ".plain_page", plain, q))
        results: dict[str, Any] = {}
        with psycopg.connect(app) as conn:
            for label, statement, query in statements:
                samples, rows = [], 0
                for i in range(runs + 1):
                    with conn.transaction():
                        apply_tenant(conn, sample.organization_id)
                        started = time.perf_counter()
                        rows = len(conn.execute(statement, query.bind(sample)).fetchall())
                        if i:
                            samples.append((time.perf_counter() - started) * 1000)
                results[label] = _figures(samples, rows)
            for label, kind in SEARCHES.items():
                samples = []
                for i in range(runs + 1):
                    started = time.perf_counter()
                    hits = fulltext.search_text(
                        conn, sample.organization_id, TERMS[kind], kinds=[kind]
                    )
                    if i:
                        samples.append((time.perf_counter() - started) * 1000)
                results[label] = _figures(samples, len(hits))
        return results
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("admin_url")
    parser.add_argument("app_url")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print(json.dumps(run(args.admin_url, args.app_url, args.runs), indent=2))


if __name__ == "__main__":
    main()
