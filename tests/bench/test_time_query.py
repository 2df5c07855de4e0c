"""`time_query` executes as it is told: prepared after psycopg's threshold, or never."""

from __future__ import annotations

import psycopg

from advisoros_db.bench.cases import Budget, time_query
from advisoros_db.bench.catalog_cases import cases
from advisoros_db.schema import catalog
from tests.support import PgDatabase

QUERY = "SELECT count(*) FROM organizations WHERE name <> %(name)s"
BUDGET = Budget(warmup=2, min_reps=8, max_reps=8, seconds=0.0)


def _prepared(conn: psycopg.Connection[object]) -> int:
    row = conn.execute(
        "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%organizations%'"
    ).fetchone()
    return int(row[0]) if row else -1


def test_default_prepares_like_an_application_connection(db: PgDatabase) -> None:
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        timing = time_query(conn, QUERY, {"name": "x"}, BUDGET)
        assert len(timing.samples_ms) == 8
        assert _prepared(conn) == 1


def test_unprepared_never_reaches_the_plan_cache(db: PgDatabase) -> None:
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        timing = time_query(conn, QUERY, {"name": "x"}, BUDGET, prepare=False)
        assert len(timing.samples_ms) == 8
        assert _prepared(conn) == 0


def test_catalog_cases_run_custom_plan_queries_unprepared() -> None:
    sample = catalog.Sample(*([None] * 8))  # type: ignore[arg-type]
    marked = {q.name for q in catalog.QUERIES if q.custom_plan}
    for case in cases(sample):
        assert case.prepare is (False if case.name in marked else None), case.name
