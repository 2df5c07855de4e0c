"""How `time_query` and `time_rolled_back` execute: prepared or not as told, collector off."""

from __future__ import annotations

import gc

import psycopg
from psycopg.adapt import Dumper

from advisoros_db.bench.cases import Budget, QueryCase, time_query, time_rolled_back
from advisoros_db.bench.catalog_cases import cases
from advisoros_db.bench.sampling import Sample
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
    sample = Sample(*([None] * 8))  # type: ignore[arg-type]
    marked = {q.name for q in catalog.QUERIES if q.custom_plan}
    # The text cases (bench.text_cases) time the application's own search path, not a query.
    queries = [case for case in cases(sample) if isinstance(case, QueryCase)]
    assert marked <= {case.name for case in queries}
    for case in queries:
        assert case.prepare is (False if case.name in marked else None), case.name


class _Probe:
    """A parameter whose adaptation, run inside every timed execution, records the collector."""


def test_the_garbage_collector_is_off_while_timing(db: PgDatabase) -> None:
    states: list[bool] = []

    class ProbeDumper(Dumper):
        oid = psycopg.adapters.types["int4"].oid

        def dump(self, obj: object) -> bytes:
            states.append(gc.isenabled())
            return b"1"

    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        conn.adapters.register_dumper(_Probe, ProbeDumper)
        time_query(conn, "SELECT %(x)s::int", {"x": _Probe()}, BUDGET)
        assert gc.isenabled()  # and back on afterwards

        def write(c: psycopg.Connection[object]) -> int:
            states.append(gc.isenabled())
            return 0

        time_rolled_back(conn, write, 2)
    assert len(states) == 10 + 2 and not any(states)
