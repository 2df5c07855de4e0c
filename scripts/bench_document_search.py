"""Document full-text search before and after revision 0020 (stored vector), on the same data.

Starts its own embedded primary in a temporary home, migrates a scratch database to
0019_write_cost_audit_chain, seeds it (`small` by default), and in the busiest firm, as the
application role inside a tenant transaction, times:

- ranked search, top 20 with snippets: before, the statement `search_text` ran at 0019 (revision
  0010's function, which computes each candidate's vector from its text); after, today's
  `search_text` statement (the stored vector);
- the catalog's `documents.file_name_search` and `documents.description_search`: before, their
  per-row SQL; after, through `search_tenant_document_field`;
- a document insert: one INSERT ... SELECT of ROWS copies of existing documents, rolled back
  (the write cases' way), and after the upgrade each trigger's share of it (EXPLAIN ANALYZE);
- the upgrade itself (the rewrite that fills the column), and the indexes' and column's sizes.

    .venv/bin/python scripts/bench_document_search.py [SCALE] [RUNS] [ROWS]

Prints JSON, with the load average before and after each half (the machine is shared).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, LiteralString

import psycopg
from psycopg import sql

from advisoros_db import datagen, migrations
from advisoros_db.cluster import Cluster
from advisoros_db.datagen.introspect import describe
from advisoros_db.schema import catalog
from advisoros_db.search import fulltext
from advisoros_db.tenancy import APP_ROLE
from advisoros_db.tenancy.context import apply_tenant
from advisoros_db.urls import with_database

BEFORE = "0020_writes_audit_stamp"
# search_text's documents statement at 0019 (main before revision 0020), character for character.
RANKED_0019: LiteralString = (
    "SELECT d.id, d.file_name, m.score,"
    " ts_headline('english'::regconfig, COALESCE(d.extracted_text, d.file_name),"
    " websearch_to_tsquery('english'::regconfig, %(q)s)"
    " || websearch_to_tsquery('simple'::regconfig, %(q)s), %(options)s)"
    " FROM search_tenant_documents(websearch_to_tsquery('english'::regconfig, %(q)s),"
    " websearch_to_tsquery('simple'::regconfig, %(q)s), %(k)s) m"
    " JOIN documents d ON d.organization_id = %(org)s AND d.id = m.id"
    " ORDER BY m.score DESC, m.id"
)
CATALOG_0019: dict[str, LiteralString] = {
    "documents.file_name_search": (
        "SELECT id, file_name FROM documents WHERE organization_id = %(org)s"
        " AND to_tsvector('simple'::regconfig, file_name)"
        " @@ plainto_tsquery('simple'::regconfig, %(q)s)"
    ),
    "documents.description_search": (
        "SELECT id, file_name FROM documents WHERE organization_id = %(org)s"
        " AND to_tsvector('english'::regconfig, description)"
        " @@ websearch_to_tsquery('english'::regconfig, %(q)s)"
    ),
}
WORDS = ("tax", "return", "nonemployee compensation", "zzqqnothing")
FIELD_WORDS = {"documents.file_name_search": "w2", "documents.description_search": "return"}
SIZES: LiteralString = """
SELECT c.relname, pg_total_relation_size(c.oid)
  + coalesce((SELECT sum(pg_relation_size(i.inhrelid)) FROM pg_inherits i
              WHERE i.inhparent = c.oid), 0)
FROM pg_class c WHERE c.relname = ANY(%s) ORDER BY 1
"""
INDEXES = [
    "idx_documents_tenant_fts",
    "idx_documents_search_fts",
    "idx_documents_filename_fts",
    "idx_documents_description_fts",
]


def _figures(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered), 2), "p95_ms": round(p95, 2)}


def _time(
    app: str, org: uuid.UUID, query: str, params: dict[str, Any], runs: int
) -> dict[str, Any]:
    samples: list[float] = []
    rows = 0
    with psycopg.connect(app) as conn:
        for i in range(runs + 2):  # two warm-up runs
            with conn.transaction():
                apply_tenant(conn, org)
                started = time.perf_counter()
                rows = len(conn.execute(query, params).fetchall())  # type: ignore[call-overload]
                if i >= 2:
                    samples.append((time.perf_counter() - started) * 1000)
    return {**_figures(samples), "rows": rows}


def _insert_ms(url: str, rows: int, rounds: int) -> tuple[float, dict[str, float]]:
    """Median ms of one INSERT ... SELECT of `rows` documents (rolled back), and each trigger's
    median share of it in percent."""
    with psycopg.connect(url, autocommit=True) as conn:
        cols = [c.name for c in describe(conn, "documents").columns.values() if not c.generated]
        conn.execute("DROP TABLE IF EXISTS bench_staged_documents")
        conn.execute(
            sql.SQL(
                "CREATE UNLOGGED TABLE bench_staged_documents AS SELECT * FROM documents LIMIT {}"
            ).format(sql.Literal(rows))
        )
        statement = sql.SQL(
            "INSERT INTO documents ({}) SELECT {} FROM bench_staged_documents"
        ).format(
            sql.SQL(", ").join(map(sql.Identifier, cols)),
            sql.SQL(", ").join(
                sql.SQL("uuidv7()") if c == "id" else sql.Identifier(c) for c in cols
            ),
        )
        times: list[float] = []
        shares: dict[str, list[float]] = {}
        for _ in range(rounds):
            with conn.transaction(force_rollback=True):
                started = time.perf_counter()
                conn.execute(statement)
                times.append((time.perf_counter() - started) * 1000)
            with conn.transaction(force_rollback=True):
                plan = conn.execute(sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) ") + statement)
                top = plan.fetchone()[0][0]  # type: ignore[index]
                for t in top.get("Triggers", []):
                    name = (
                        "foreign_keys" if t["Trigger Name"].startswith("RI_") else t["Trigger Name"]
                    )
                    shares.setdefault(name, []).append(100 * t["Time"] / top["Execution Time"])
        conn.execute("DROP TABLE bench_staged_documents")
    return round(statistics.median(times), 1), {
        k: round(statistics.median(v), 1) for k, v in sorted(shares.items())
    }


def _sizes(url: str) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        sizes = {r[0]: int(r[1]) for r in conn.execute(SIZES, (INDEXES,)).fetchall()}
        column = conn.execute(
            "SELECT count(*) FROM pg_attribute WHERE attrelid = 'documents'::regclass"
            " AND attname = 'search_vector' AND NOT attisdropped"
        ).fetchone()
        stored = None
        if column and column[0]:
            total = conn.execute("SELECT sum(pg_column_size(search_vector)) FROM documents")
            stored = int(total.fetchone()[0] or 0)  # type: ignore[index]
    return {"index_bytes": sizes, "search_vector_bytes": stored}


def _half(
    url: str, app: str, org: uuid.UUID, runs: int, rows: int, *, after: bool
) -> dict[str, Any]:
    out: dict[str, Any] = {"load_average_start": os.getloadavg()}
    ranked = fulltext.statement("documents", "websearch")
    for word in WORDS:
        params = {"q": word, "k": 20, "org": str(org), "options": fulltext.HEADLINE}
        with psycopg.connect(app) as conn:
            query = ranked.as_string(conn) if after else RANKED_0019
        out[f"ranked '{word}'"] = _time(app, org, query, params, runs)
    for name, before_sql in CATALOG_0019.items():
        params = {"q": FIELD_WORDS[name], "org": str(org), "organization_id": str(org)}
        query = catalog.get(name).sql if after else before_sql
        out[name] = _time(app, org, query, params, runs)
    out["insert_ms"], out["insert_trigger_share_percent"] = _insert_ms(url, rows, 5)
    out.update(_sizes(url))
    out["load_average_end"] = os.getloadavg()
    return out


def main() -> None:
    scale = sys.argv[1] if len(sys.argv) > 1 else "small"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    rows = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    scratch = Path(tempfile.mkdtemp(prefix="advisoros-docsearch-"))
    scratch.chmod(0o755)  # world-traversable: as root, the server runs as an unprivileged user
    cluster = Cluster(scratch / "home", app_role=APP_ROLE)
    info = cluster.up(0)
    try:
        name = f"bench_docsearch_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(with_database(info.primary_url, "postgres"), autocommit=True) as c:
            c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        url, app = with_database(info.primary_url, name), with_database(info.app_url, name)
        migrations.upgrade(url, BEFORE)
        datagen.seed(url, scale, seed=42, replace=True)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE)")
            top = conn.execute(
                "SELECT organization_id, count(*) FROM documents GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
            ).fetchone()
        assert top is not None
        org = top[0]
        result: dict[str, Any] = {
            "scale": scale,
            "runs": runs,
            "insert_rows": rows,
            "cpus": os.cpu_count(),
            "tenant_documents": top[1],
            "before_0019": _half(url, app, org, runs, rows, after=False),
        }
        started = time.perf_counter()
        migrations.upgrade(url)
        result["upgrade_0020_seconds"] = round(time.perf_counter() - started, 1)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE)")
        result["after_0020"] = _half(url, app, org, runs, rows, after=True)
        print(json.dumps(result, indent=2, default=str))
    finally:
        cluster.destroy()


if __name__ == "__main__":
    main()
