"""Query-plan guards: the per-model HNSW index and the document full-text index are used, also under
generic prepared plans (psycopg prepares after `prepare_threshold` runs; PostgreSQL may then switch
to a generic plan, where a parameter can never match a partial index's WHERE)."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import numpy as np
import psycopg
import pytest
from psycopg import sql

from advisoros_db.bench import search_cases
from advisoros_db.migrations import document_vectors, tenant_search
from advisoros_db.search import fulltext, indexes, semantic, vector_sql
from advisoros_db.search.connections import Connection, connect, tenant_transaction
from advisoros_db.search.embedders import DEFAULT_MODEL, E5_SMALL
from advisoros_db.tenancy import owner_maintenance
from tests.support import PgDatabase

HNSW = indexes.index_name(DEFAULT_MODEL)


@pytest.fixture(scope="module")
def corpus(server: Any, search_template: str) -> Any:
    from tests.support import create_database, database_on, drop_database

    name = "plans_" + search_template[-8:]
    create_database(server, name, template=search_template)
    db = database_on(server, name)
    tenants = search_cases.load_corpus(db.admin_url, 4_000)
    yield db, tenants[-1]  # the 30 % tenant: 1,200 chunks, 240 documents
    drop_database(server, name)


def _plan(conn: Connection, query: sql.Composable, params: dict[str, Any]) -> str:
    """The plan as JSON text, with each partition's index also named by its partitioned parent
    (documents is partitioned by tax year, so plans name per-partition indexes)."""
    rows = conn.execute(sql.SQL("EXPLAIN (FORMAT JSON) {}").format(query), params).fetchone()
    assert rows is not None
    text = json.dumps(rows[0])
    return text + " roots: " + " ".join(_index_roots(conn, text))


def _index_roots(conn: Connection, plan_text: str) -> list[str]:
    names = sorted(set(re.findall(r'"Index Name": "([^"]+)"', plan_text)))
    names += sorted(set(re.findall(r"Index Scan (?:Backward )?(?:using|on) (\S+)", plan_text)))
    roots = []
    for name in names:
        row = conn.execute(
            "SELECT pg_partition_root(to_regclass(%s))::regclass::text", (name,)
        ).fetchone()
        roots.append(row[0] if row and row[0] else name)
    return roots


def _probe(tenant: search_cases.Tenant) -> np.ndarray[Any, Any]:
    return tenant.vectors[0]


def _prepared_search(conn: Connection, org: str) -> tuple[int, int, str]:
    """(custom plans, generic plans, current plan as JSON) of psycopg's prepared nearest-chunks
    statement, explained with the session's current plan_cache_mode."""
    row = conn.execute(
        "SELECT name, custom_plans, generic_plans, parameter_types::text[]"
        " FROM pg_prepared_statements"
        " WHERE statement LIKE 'WITH nearest AS MATERIALIZED (%%'"
    ).fetchone()
    assert row is not None, "psycopg did not prepare the search statement"
    name, custom_plans, generic_plans, types = row
    # Placeholders are numbered by first appearance: q, org (unless a literal), exclude, limit.
    vector = sql.Literal("[" + ",".join("0.05" for _ in range(384)) + "]")
    values = [vector, sql.Literal(org), sql.NULL, sql.Literal(10)]
    if len(types) == 3:
        del values[1]
    args = sql.SQL(", ").join(
        sql.SQL("{}::{}").format(value, sql.SQL(kind))  # type: ignore[arg-type]
        for value, kind in zip(values, types, strict=True)
    )
    # Planning needs a tenant (revision 0009 refuses a tenant table without one).
    conn.execute("SELECT set_config('app.organization_id', %s, true)", (org,))
    plan = conn.execute(
        sql.SQL("EXPLAIN (FORMAT JSON) EXECUTE {}({})").format(sql.Identifier(name), args)
    ).fetchone()
    assert plan is not None
    return int(custom_plans), int(generic_plans), json.dumps(plan[0])


def test_production_settings_keep_the_partial_index_under_prepared_statements(
    corpus: Any,
) -> None:
    db, tenant = corpus
    # prepare_threshold=0: every statement is prepared server-side at once; and a server (or a
    # pooler) that forces generic plans, the worst case for partial indexes.
    # Session-wide settings on this private connection: a tenant transaction refuses to nest in
    # an open one, so SET LOCAL in an outer transaction is not available.
    with connect(db.app_url, prepare_threshold=0) as conn:
        conn.execute("SET plan_cache_mode = force_generic_plan")
        conn.commit()
        for _ in range(6):
            result = semantic.search_vector(conn, tenant.org, _probe(tenant), 10, exact_threshold=0)
            assert result.path == "index" and len(result.hits) == 10
        # Explained the way search_vector runs its walk (custom plans, sorts disabled), inside
        # the tenant (the application role reads no tenant table outside one).
        with tenant_transaction(conn, tenant.org):
            conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
            conn.execute("SET LOCAL enable_sort = off")
            custom, generic, plan = _prepared_search(conn, str(tenant.org))
        assert custom >= 6 and generic == 0  # every run was planned with its values
        assert HNSW in plan
        # The control: the generic plan of the very same statement sorts the tenant's rows.
        with tenant_transaction(conn, tenant.org):
            _, _, generic_plan = _prepared_search(conn, str(tenant.org))
        assert HNSW not in generic_plan


def test_a_parameterised_model_would_lose_the_index(corpus: Any) -> None:
    """Why the model is a literal: in a generic plan a parameter cannot prove the partial index's
    WHERE, even with everything else equal (LIMIT spelled out so only the model differs)."""
    db, tenant = corpus
    with connect(db.app_url) as conn, tenant_transaction(conn, tenant.org) as org:
        conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        conn.execute("SET LOCAL enable_sort = off")  # as while the search's walk is planned
        text = (
            vector_sql.nearest_chunks(E5_SMALL, exact=False, org_literal=None)
            .as_string(conn)
            .replace("%(org)s", "$1")
            .replace("%(q)s", "$2")
            .replace("%(limit)s", "10")
            .replace("%(exclude)s", "NULL")
        )
        conn.execute("PREPARE literal_model(uuid, vector) AS " + text)  # type: ignore[arg-type]
        conn.execute(
            "PREPARE parameter_model(uuid, vector, text) AS "  # type: ignore[arg-type]
            + text.replace("model = 'multilingual-e5-small'", "model = $3")
        )
        args = sql.SQL("{}::uuid, {}::vector").format(
            sql.Literal(org), sql.Literal("[" + ",".join("0.05" for _ in range(384)) + "]")
        )
        good = conn.execute(
            sql.SQL("EXPLAIN (FORMAT JSON) EXECUTE literal_model({})").format(args)
        ).fetchone()
        bad = conn.execute(
            sql.SQL("EXPLAIN (FORMAT JSON) EXECUTE parameter_model({}, {})").format(
                args, sql.Literal(DEFAULT_MODEL)
            )
        ).fetchone()
    assert good is not None and HNSW in json.dumps(good[0])
    assert bad is not None and HNSW not in json.dumps(bad[0])


def test_exact_path_never_touches_the_index(corpus: Any) -> None:
    db, tenant = corpus
    with connect(db.app_url) as conn, tenant_transaction(conn, tenant.org) as org:
        plan = _plan(
            conn,
            vector_sql.nearest_chunks(E5_SMALL, exact=True, org_literal=None),
            {"q": _probe(tenant), "org": org, "limit": 10, "exclude": None},
        )
    assert HNSW not in plan


@pytest.fixture(scope="module")
def large_tenant(corpus: Any) -> Any:
    db, tenant = corpus
    with connect(db.admin_url) as conn:
        # 20,000 more documents of the labelled kinds: the GIN index pays off at this size (a
        # small tenant is rightly read through its organization_id index).
        conn.execute(
            "INSERT INTO documents (organization_id, client_id, uploaded_by, file_name, file_url,"
            " file_type, category, extracted_text)"
            " SELECT d.organization_id, d.client_id, d.uploaded_by, n || ' ' || d.file_name,"
            " d.file_url, d.file_type, d.category, d.extracted_text || ' ' || n"
            " FROM (SELECT * FROM documents WHERE organization_id = %s ORDER BY file_name LIMIT 40) d,"
            " generate_series(1, 500) n",
            (tenant.org,),
        )
        conn.execute("ANALYZE documents")
        conn.commit()
    return db, tenant


def _match_plan(url: str, org: uuid.UUID, query: sql.Composable, *, owner: bool = False) -> str:
    with connect(url) as conn:
        if owner:
            owner_maintenance(conn)
        with tenant_transaction(conn, org) as tenant:
            return _plan(conn, query, {"q": "mortgage interest", "org": tenant, "k": 10})


# The tenant-keyed lookup the search function makes, written as a plain query.
MATCH_KEYS = sql.SQL(
    "SELECT d.id FROM documents d WHERE d.organization_id = %(org)s AND d.deleted_at IS NULL"
    " AND {} @@ advisoros_tenant_tsquery(%(org)s, websearch_to_tsquery('english'::regconfig,"
    " %(q)s), websearch_to_tsquery('simple'::regconfig, %(q)s))"
    " LIMIT %(k)s"
).format(sql.SQL(document_vectors.D_KEYS.replace("public.", "")))


def test_row_level_security_hides_the_gin_index_from_the_app_role(large_tenant: Any) -> None:
    """The reason for search_tenant_documents: same query, same data, two roles."""
    db, tenant = large_tenant
    assert tenant_search.INDEX in _match_plan(db.admin_url, tenant.org, MATCH_KEYS, owner=True)
    assert tenant_search.INDEX not in _match_plan(db.app_url, tenant.org, MATCH_KEYS)


def test_document_search_runs_on_the_tenant_keyed_index_and_stays_in_the_tenant(
    large_tenant: Any,
) -> None:
    db, tenant = large_tenant
    with connect(db.app_url) as conn:
        hits = fulltext.search_text(conn, tenant.org, "mortgage interest", k=5)
        assert len(hits) == 5 and all("<mark>" in h.snippet for h in hits)
        with tenant_transaction(conn, uuid.uuid4()):  # another organization: none of its rows
            row = conn.execute(
                "SELECT count(*) FROM search_tenant_documents('mortgage'::tsquery,"
                " 'mortgage'::tsquery, 1000)"
            ).fetchone()
            assert row == (0,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="no tenant is set"):
            conn.execute(
                "SELECT count(*) FROM search_tenant_documents('mortgage'::tsquery,"
                " 'mortgage'::tsquery, 1000)"
            )
        conn.rollback()
    # auto_explain shows the plan the function's own query gets (as its owner, and with this
    # call's values): the tenant-keyed GIN index, not the tenant's organization_id index.
    notices: list[str] = []
    with connect(db.admin_url) as conn:
        conn.add_notice_handler(lambda diag: notices.append(diag.message_primary or ""))
        conn.execute("LOAD 'auto_explain'")
        for setting, value in (
            ("auto_explain.log_min_duration", "0"),
            ("auto_explain.log_nested_statements", "on"),
            ("auto_explain.log_level", "notice"),
        ):
            conn.execute("SELECT set_config(%s, %s, false)", (setting, value))
        conn.commit()
        with tenant_transaction(owner_maintenance(conn), tenant.org):
            conn.execute(
                "SELECT * FROM search_tenant_documents(websearch_to_tsquery('english',"
                " 'mortgage interest'), websearch_to_tsquery('simple', 'mortgage interest'), 10)"
            ).fetchall()
    inner = [n for n in notices if "public.documents" in n]
    assert inner, notices
    with connect(db.admin_url) as conn:
        assert tenant_search.INDEX in _index_roots(conn, inner[0]), notices


def test_promoted_tenant_gets_and_uses_its_own_index(corpus: Any) -> None:
    db, tenant = corpus
    name = indexes.ensure_index(db.admin_url, DEFAULT_MODEL, tenant.org)
    assert indexes.ensure_index(db.admin_url, DEFAULT_MODEL, tenant.org) == name  # idempotent
    try:
        with connect(db.app_url, prepare_threshold=0) as conn:
            conn.execute("SET plan_cache_mode = force_generic_plan")
            conn.execute("SET enable_seqscan = off")
            conn.commit()
            result = semantic.search_vector(conn, tenant.org, _probe(tenant), 10, exact_threshold=0)
            with tenant_transaction(conn, tenant.org):
                conn.execute("SET LOCAL enable_sort = off")  # as while the walk is planned
                custom, _, plan = _prepared_search(conn, str(tenant.org))
        assert len(result.hits) == 10
        assert custom >= 1 and name in plan
    finally:
        indexes.drop_index(db.admin_url, DEFAULT_MODEL, tenant.org)


def test_migration_and_library_agree(db: PgDatabase) -> None:
    import importlib

    revision = importlib.import_module("advisoros_db.migrations.versions.0006_vector_indexes")
    assert revision.HNSW_INDEX == HNSW
    # The frozen copies of revision 0006's document index agree (0021 drops it, its downgrade
    # builds it again from document_vectors.DROPPED), and 0010's vector is the same expression.
    dropped = dict(document_vectors.DROPPED)
    assert dropped[revision.FTS_INDEX] == revision.FTS_DEFINITION
    english = revision.FTS_DEFINITION.removeprefix("USING gin (").removesuffix(")")
    assert (
        english.replace("file_name", "d.file_name").replace("extracted_text", "d.extracted_text")
        == tenant_search.ENGLISH
    )
    expected = indexes.create_index_sql(DEFAULT_MODEL, concurrently=False)
    with connect(db.admin_url) as conn:
        built = conn.execute("SELECT pg_get_indexdef(to_regclass(%s))", (HNSW,)).fetchone()
        assert built is not None
        conn.execute(expected.as_string(conn).replace(HNSW, "idx_probe_copy"))
        copy = conn.execute("SELECT pg_get_indexdef('idx_probe_copy'::regclass)").fetchone()
        conn.rollback()
    assert copy is not None and copy[0].replace("idx_probe_copy", HNSW) == built[0]
