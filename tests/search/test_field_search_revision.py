"""Revision 0022_fts_rows_field_search on a populated database (tests/plans' data set): down and up
again loses no row, brings revision 0003's ten indexes back on the way down and the tenant-keyed
ones and the search functions on the way up, and the catalog's search pages answer exactly what
the old plain predicates answer, before and after, rows written in between included."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from advisoros_db import migrations
from advisoros_db.bench import sampling
from advisoros_db.bench.catalog_cases import plain_sql
from advisoros_db.migrations import tenant_field_search
from advisoros_db.schema import catalog, indexes
from advisoros_db.tenancy.context import apply_tenant
from tests.support import PgDatabase

BEFORE = "0021_fts_document_vectors"
SEARCHES = [q for q in catalog.QUERIES if catalog.is_search(q)]
TABLES = ("clients", "tasks", "notes", "advisor_profiles", "engagements", "document_comments")
NEW_INDEXES = sorted(name for name, _table, _keys in tenant_field_search.index_sql())


def _valid(conn: psycopg.Connection[Any], names: list[str]) -> int:
    row = conn.execute(
        "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        " WHERE c.relname = ANY(%s) AND i.indisvalid",
        (names,),
    ).fetchone()
    assert row is not None
    return int(row[0])


def _state(db: PgDatabase) -> dict[str, Any]:
    with psycopg.connect(db.admin_url) as conn:
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone() for t in TABLES}
        functions = [
            conn.execute("SELECT to_regprocedure(%s) IS NOT NULL", (f,)).fetchone()
            for f in (
                tenant_field_search.TEXT_FUNCTION,
                tenant_field_search.CONTAINS_FUNCTION,
                *tenant_field_search.HELPERS,
            )
        ]
        return {
            "counts": counts,
            "old": _valid(conn, sorted(indexes.REPLACED_BY_TENANT_SEARCH)),
            "new": _valid(conn, NEW_INDEXES),
            "functions": functions,
        }


def _plain(db: PgDatabase, org: uuid.UUID, sample: sampling.Sample) -> dict[str, list[Any]]:
    """Every match of each search's old plain predicate, as the application role."""
    answers = {}
    with psycopg.connect(db.app_url) as conn, conn.transaction():
        apply_tenant(conn, org)
        for query in SEARCHES:
            plain = plain_sql(query)
            assert plain is not None
            unpaged = plain.replace(catalog.PAGE_TAIL, " ORDER BY id DESC")
            answers[query.name] = conn.execute(unpaged, query.bind(sample)).fetchall()
    return answers


def _pages(db: PgDatabase, org: uuid.UUID, sample: sampling.Sample) -> dict[str, list[Any]]:
    with psycopg.connect(db.app_url) as conn, conn.transaction():
        apply_tenant(conn, org)
        return {q.name: conn.execute(q.sql, q.bind(sample)).fetchall() for q in SEARCHES}


def test_down_and_up_on_a_populated_database(populated: PgDatabase) -> None:
    with psycopg.connect(populated.admin_url) as conn:
        sample = sampling.sample(conn)
    org = sample.organization_id
    at_head = _state(populated)
    assert at_head["old"] == 0 and at_head["new"] == len(NEW_INDEXES)
    assert all(f == (True,) for f in at_head["functions"])
    plain, pages = _plain(populated, org, sample), _pages(populated, org, sample)
    assert pages == {name: rows[:50] for name, rows in plain.items()}
    assert any(plain.values()), "no search matches anything: the test proves nothing"

    migrations.downgrade(populated.admin_url, BEFORE)
    down = _state(populated)
    assert down["counts"] == at_head["counts"]
    assert down["old"] == len(indexes.REPLACED_BY_TENANT_SEARCH) and down["new"] == 0
    assert all(f == (False,) for f in down["functions"])
    assert _plain(populated, org, sample) == plain
    # Written while the revision is down: the indexes built on the way up must hold them too.
    with psycopg.connect(populated.admin_url) as conn:
        conn.execute(
            "UPDATE tasks SET title = 'Reconcile payroll for the qzlatezq audit'"
            " WHERE id = (SELECT id FROM tasks WHERE organization_id = %s ORDER BY id DESC LIMIT 1)",
            (org,),
        )
        conn.execute(
            "UPDATE clients SET business_name = 'Zephyr Qzlatezq Foods'"
            " WHERE id = (SELECT id FROM clients WHERE organization_id = %s ORDER BY id DESC LIMIT 1)",
            (org,),
        )
    after_writes = _plain(populated, org, sample)

    migrations.upgrade(populated.admin_url)
    assert _state(populated) == at_head
    assert migrations.drift(populated.admin_url) == []
    assert _pages(populated, org, sample) == {n: rows[:50] for n, rows in after_writes.items()}
    with psycopg.connect(populated.app_url) as conn, conn.transaction():
        apply_tenant(conn, org)
        found = conn.execute(
            "SELECT count(*) FROM search_tenant_text('tasks.title',"
            " websearch_to_tsquery('english', 'qzlatezq'), NULL, 50)"
        ).fetchone()
        named = conn.execute(
            "SELECT count(*) FROM search_tenant_contains('clients.business_name', '%qzlate%',"
            " NULL, 50)"
        ).fetchone()
    assert found == (1,) and named == (1,)
