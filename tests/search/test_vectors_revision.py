"""Revision 0015_iso_search_vectors_pages on a populated database (tests/plans' data set): the
stored, weighted vectors rank a title above a body, `search_tenant_rows` refuses what it should,
and down and up again loses no row and gives the same answers (the dropped GIN indexes come back
on the way down, the vectors and their indexes on the way up)."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from advisoros_db import migrations
from advisoros_db.bench import sampling
from advisoros_db.migrations import tenant_text_search
from advisoros_db.schema import catalog, indexes
from advisoros_db.search import fulltext
from advisoros_db.search.connections import connect
from advisoros_db.tenancy.context import apply_tenant
from tests.support import PgDatabase

REVISION = "0015_iso_search_vectors_pages"
BEFORE = "0014_search_hnsw_graph"
WORD = "qzledgerzq"


def _sample(db: PgDatabase) -> sampling.Sample:
    with psycopg.connect(db.admin_url) as conn:
        return sampling.sample(conn)


def _plant(db: PgDatabase, org: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    """WORD in one task's description and, later in the id order, another task's title."""
    with psycopg.connect(db.admin_url) as conn:
        rows = conn.execute(
            "SELECT id FROM tasks WHERE organization_id = %s AND deleted_at IS NULL"
            " ORDER BY id LIMIT 2",
            (org,),
        ).fetchall()
        body, title = rows[0][0], rows[1][0]
        conn.execute(
            "UPDATE tasks SET description = 'reconcile the ' || %s || ' before filing'"
            " WHERE id = %s",
            (WORD, body),
        )
        conn.execute("UPDATE tasks SET title = %s || ' review' WHERE id = %s", (WORD, title))
        for table, column in (("clients", "business_name"), ("notes", "content")):
            conn.execute(
                f"UPDATE {table} SET {column} = {column} || ' ' || %s WHERE id = (SELECT id"  # type: ignore[arg-type]
                f" FROM {table} WHERE organization_id = %s AND deleted_at IS NULL ORDER BY id LIMIT 1)",
                (WORD, org),
            )
    return body, title


def _state(db: PgDatabase) -> dict[str, Any]:
    with psycopg.connect(db.admin_url) as conn:
        counts = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
            for t in ("clients", "tasks", "notes", "documents", "audit_logs", "invoices")
        }
        gin = conn.execute(
            "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE c.relname = ANY(%s) AND i.indisvalid",
            (sorted(indexes.REPLACED_BY_PAGES),),
        ).fetchone()
        vectors = conn.execute(
            "SELECT count(*) FROM pg_attribute WHERE attname = 'search_vector' AND NOT attisdropped"
            " AND attrelid = ANY('{clients,tasks,notes}'::regclass[])"
        ).fetchone()
        function = conn.execute(
            "SELECT to_regprocedure(%s) IS NOT NULL", (tenant_text_search.SEARCH_FUNCTION,)
        ).fetchone()
    assert gin and vectors and function
    return {"counts": counts, "gin": gin[0], "vectors": vectors[0], "function": function[0]}


def _answers(db: PgDatabase, org: uuid.UUID) -> list[Any]:
    with connect(db.app_url) as conn:
        hits = fulltext.search_text(conn, org, WORD, kinds=("tasks", "notes", "clients"), k=20)
        pages = []
        for name in ("tasks.tagged", "documents.metadata_match", "audit.new_value_investigation"):
            query = catalog.get(name)
            with conn.transaction():
                apply_tenant(conn, org)
                pages.append(conn.execute(query.sql, query.bind(_sample(db))).fetchall())
    return [[(h.kind, h.id) for h in hits], pages]


def test_a_title_outranks_a_body_and_only_the_tenant_is_searched(populated: PgDatabase) -> None:
    org = _sample(populated).organization_id
    body, title = _plant(populated, org)
    with connect(populated.app_url) as conn:
        hits = fulltext.search_text(conn, org, WORD, kinds=("tasks",), k=20)
        assert [h.id for h in hits] == [title, body]
        assert hits[0].score > hits[1].score and "<mark>" in hits[1].snippet
        other = uuid.uuid4()
        assert fulltext.search_text(conn, other, WORD, kinds=("tasks",)) == []


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("search_tenant_rows('tasks', 'a'::tsquery, 'a'::tsquery, 20)", "no tenant is set"),
        ("search_tenant_rows('users', 'a'::tsquery, 'a'::tsquery, 20)", "cannot search users"),
        ("search_tenant_rows('tasks', 'a'::tsquery, 'a'::tsquery, 0)", "max_rows must be"),
    ],
)
def test_the_search_function_refuses_clearly(
    populated: PgDatabase, call: str, message: str
) -> None:
    org = _sample(populated).organization_id
    with (
        psycopg.connect(populated.app_url) as conn,
        pytest.raises(psycopg.Error, match=message),
        conn.transaction(),
    ):
        if "no tenant" not in message:
            apply_tenant(conn, org)
        conn.execute(f"SELECT * FROM {call}")  # type: ignore[arg-type]


def test_down_and_up_on_a_populated_database(populated: PgDatabase) -> None:
    org = _sample(populated).organization_id
    _plant(populated, org)
    at_head = _state(populated)
    assert at_head["gin"] == 0 and at_head["vectors"] == 3 and at_head["function"]
    answers = _answers(populated, org)
    assert answers[0] and all(answers[1])

    migrations.downgrade(populated.admin_url, BEFORE)
    down = _state(populated)
    assert down["counts"] == at_head["counts"]
    assert (
        down["gin"] == len(indexes.REPLACED_BY_PAGES)
        and down["vectors"] == 0
        and not down["function"]
    )

    migrations.upgrade(populated.admin_url)
    assert _state(populated) == at_head
    assert _answers(populated, org) == answers


@pytest.mark.parametrize("kind", sorted(tenant_text_search.search_vectors.VECTORS))
def test_the_functions_own_query_runs_on_the_tenant_keyed_index(
    populated: PgDatabase, kind: str
) -> None:
    org = _sample(populated).organization_id
    _plant(populated, org)
    # auto_explain shows the plan the function's own query gets (as its owner, with this call's
    # values): the tenant-keyed GIN index.
    notices: list[str] = []
    with psycopg.connect(populated.admin_url) as conn:
        conn.add_notice_handler(lambda diag: notices.append(diag.message_primary or ""))
        conn.execute("LOAD 'auto_explain'")
        for setting, value in (
            ("auto_explain.log_min_duration", "0"),
            ("auto_explain.log_nested_statements", "on"),
            ("auto_explain.log_level", "notice"),
        ):
            conn.execute("SELECT set_config(%s, %s, false)", (setting, value))
        conn.execute("SELECT set_config('app.organization_id', %s, false)", (str(org),))
        rows = conn.execute(
            "SELECT * FROM search_tenant_rows(%s, websearch_to_tsquery('english', %s),"
            " websearch_to_tsquery('simple', %s), 20)",
            (kind, WORD, WORD),
        ).fetchall()
    assert rows
    inner = [n for n in notices if f"public.{kind}" in n]
    assert inner and f"idx_{kind}_tenant_fts" in inner[0], notices
