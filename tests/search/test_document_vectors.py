"""Revision 0021_fts_document_vectors on a populated database (tests/plans' data set): the stored,
weighted document vector is kept by the database on every path a row can take (the application's
writes, a bulk load under the replica role, a partition created over default-partition rows), the
search functions read it on the tenant-keyed index, the catalog's per-column searches answer
exactly what their per-row queries did, and down and up again loses no row and gives the same
answers."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from advisoros_db import migrations
from advisoros_db.bench import sampling
from advisoros_db.migrations import document_vectors, tenant_search
from advisoros_db.schema import catalog, indexes
from advisoros_db.search import fulltext
from advisoros_db.search.connections import connect
from advisoros_db.tenancy.context import apply_tenant
from tests.plans.function_plans import inner_indexes
from tests.support import PgDatabase

REVISION = "0021_fts_document_vectors"
BEFORE = "0020_writes_audit_stamp"
WORD = "qzinvoicezq"
DROPPED = sorted(name for name, _ in document_vectors.DROPPED)

_STALE = (
    "SELECT count(*) FROM documents WHERE search_vector IS DISTINCT FROM"
    " advisoros_document_vector(file_name, description, extracted_text)"
)


def _org(db: PgDatabase) -> uuid.UUID:
    with psycopg.connect(db.admin_url) as conn:
        return sampling.sample(conn).organization_id


def _document(conn: psycopg.Connection[Any], org: uuid.UUID, **values: Any) -> uuid.UUID:
    """A new document of `org` like one it has, with `values` for some columns."""
    columns = ["file_name", "description", "extracted_text", "tax_year", *values.keys()]
    defaults = {"file_name": "upload.pdf", "description": None, "extracted_text": None}
    row = {**defaults, "tax_year": 2024, **values}
    names = ", ".join(dict.fromkeys(columns))
    casts = {"search_vector": "::tsvector", "tax_year": "::smallint"}
    placeholders = ", ".join(f"%({c})s{casts.get(c, '')}" for c in dict.fromkeys(columns))
    inserted = conn.execute(
        f"INSERT INTO documents (organization_id, client_id, uploaded_by, file_url, file_type,"  # type: ignore[arg-type]
        f" {names}) SELECT organization_id, client_id, uploaded_by, 's3://x', 'pdf', {placeholders}"
        " FROM documents WHERE organization_id = %(org)s ORDER BY id LIMIT 1 RETURNING id",
        {**row, "org": org},
    ).fetchone()
    assert inserted is not None
    return uuid.UUID(str(inserted[0]))


def test_the_upgrade_filled_every_row_and_writes_keep_it(populated: PgDatabase) -> None:
    org = _org(populated)
    with psycopg.connect(populated.admin_url) as conn:
        assert conn.execute(_STALE).fetchone() == (0,)
        assert conn.execute(
            "SELECT count(*) FROM documents WHERE search_vector IS NULL"
        ).fetchone() == (0,)
    with psycopg.connect(populated.app_url) as conn, conn.transaction(force_rollback=True):
        apply_tenant(conn, org)
        # Whatever the application writes into the column is replaced by the database's own.
        doc = _document(conn, org, file_name="W2_2024.pdf", search_vector="'forged':1")
        vector = "SELECT search_vector::text FROM documents WHERE id = %s"
        assert conn.execute(vector, (doc,)).fetchone() == ("'2024':2A 'pdf':3A 'w2':1A",)
        conn.execute("UPDATE documents SET description = 'Amended' WHERE id = %s", (doc,))
        after = conn.execute(vector, (doc,)).fetchone()
        assert after == ("'2024':2A 'amend':4B 'pdf':3A 'w2':1A",)
        conn.execute("UPDATE documents SET search_vector = 'forged' WHERE id = %s", (doc,))
        conn.execute("UPDATE documents SET status = 'approved' WHERE id = %s", (doc,))
        assert conn.execute(vector, (doc,)).fetchone() == after
        assert conn.execute(_STALE).fetchone() == (0,)


def test_a_bulk_load_under_the_replica_role_gets_its_vectors(populated: PgDatabase) -> None:
    org = _org(populated)
    with psycopg.connect(populated.admin_url) as conn, conn.transaction(force_rollback=True):
        # What the data generator's loader does to skip per-row triggers: this one fires ALWAYS.
        conn.execute("SET LOCAL session_replication_role = replica")
        doc = _document(conn, org, extracted_text="nonemployee compensation")
        row = conn.execute("SELECT search_vector::text FROM documents WHERE id = %s", (doc,))
        assert row.fetchone() == ("'compens':4C 'nonemploye':3C 'pdf':2A 'upload':1A",)
        enabled = conn.execute(
            "SELECT DISTINCT tgenabled FROM pg_trigger WHERE tgname = %s",
            (document_vectors.TRIGGER,),
        ).fetchall()
        assert enabled == [("A",)]  # on the parent and every partition's clone


def test_a_new_partition_keeps_the_rows_it_takes_from_the_default_and_the_trigger(
    populated: PgDatabase,
) -> None:
    org = _org(populated)
    with psycopg.connect(populated.admin_url) as conn, conn.transaction(force_rollback=True):
        early = _document(conn, org, tax_year=2047, description=f"{WORD} early")
        assert conn.execute(
            "SELECT tableoid::regclass::text FROM documents WHERE id = %s", (early,)
        ).fetchone() == ("documents_default",)
        # What `advisoros-db partitions create` runs: the default's rows of the range move over.
        made = conn.execute(
            "SELECT partition_create('documents'::regclass, 'documents_2047', '2047', '2048')"
        ).fetchone()
        assert made == (True,)
        late = _document(conn, org, tax_year=2047, description=f"{WORD} late")
        rows = conn.execute(
            "SELECT tableoid::regclass::text, count(*) FROM documents WHERE tax_year = 2047"
            " GROUP BY 1"
        ).fetchall()
        assert rows == [("documents_2047", 2)]
        assert conn.execute(_STALE).fetchone() == (0,)
        conn.execute("SELECT set_config('app.organization_id', %s, true)", (str(org),))
        found = conn.execute(
            "SELECT id FROM search_tenant_document_field('description', to_tsquery('english', %s), 10)",
            (WORD,),
        ).fetchall()
        assert {r[0] for r in found} == {early, late}


def test_file_name_outranks_description_outranks_text(populated: PgDatabase) -> None:
    org = _org(populated)
    with psycopg.connect(populated.app_url) as conn, conn.transaction(force_rollback=True):
        apply_tenant(conn, org)
        text = _document(conn, org, extracted_text=f"the {WORD} was paid")
        description = _document(conn, org, description=f"{WORD} for March")
        name = _document(conn, org, file_name=f"{WORD}_2024.pdf")
        rows = conn.execute(
            "SELECT id FROM search_tenant_documents(websearch_to_tsquery('english', %s),"
            " websearch_to_tsquery('simple', %s), 20)",
            (WORD, WORD),
        ).fetchall()
    assert [r[0] for r in rows] == [name, description, text]


def test_only_the_start_of_a_long_text_is_in_the_vector(populated: PgDatabase) -> None:
    org = _org(populated)
    limit = int(document_vectors.TEXT_CHARS)
    # Two megabytes of distinct words: more than a tsvector can hold, had the whole text counted.
    filler = " ".join(f"w{n:07d}" for n in range(2_000_000 // 9))
    text = f"{WORD} " + filler[: limit - 40] + " qztailzq " + filler[limit:]
    with psycopg.connect(populated.app_url) as conn, conn.transaction(force_rollback=True):
        apply_tenant(conn, org)
        doc = _document(conn, org, extracted_text=text)
        found = conn.execute(
            "SELECT search_vector @@ %s::tsquery, search_vector @@ 'w0200000'::tsquery"
            " FROM documents WHERE id = %s",
            (WORD, doc),
        ).fetchone()
        assert found == (True, False)


@pytest.mark.parametrize(
    ("field", "expression", "words"),
    [
        (
            "file_name",
            "to_tsvector('simple'::regconfig, file_name) @@ plainto_tsquery('simple', %(q)s)",
            ["zephyr", "tax return", "statement", "nothingzq"],
        ),
        (
            "description",
            "to_tsvector('english'::regconfig, description) @@ websearch_to_tsquery('english', %(q)s)",
            ["depreciation schedule", "upload", '"asset depreciation"', "client -upload", "zzq"],
        ),
    ],
)
def test_the_field_search_answers_what_the_per_row_query_did(
    populated: PgDatabase, field: str, expression: str, words: list[str]
) -> None:
    org = _org(populated)
    query = catalog.get(f"documents.{field}_search")
    for word in words:
        with psycopg.connect(populated.admin_url) as conn:
            expected = conn.execute(
                f"SELECT id, file_name FROM documents WHERE organization_id = %(org)s AND {expression}"  # type: ignore[arg-type]
                " ORDER BY id DESC LIMIT 1000",
                {"org": org, "q": word},
            ).fetchall()
        # The catalog's query is a keyset page of 50 (revision 0024): page down to 1,000 rows.
        got: list[Any] = []
        before = catalog.PAGE_START
        with psycopg.connect(populated.app_url) as conn, conn.transaction():
            apply_tenant(conn, org)
            while len(got) < 1000:
                page = conn.execute(query.sql, {"q": word, "before": before}).fetchall()
                got += page
                if len(page) < 50:
                    break
                before = page[-1][0]
        assert got == expected, word
        if word in ("zephyr", "depreciation schedule"):
            assert expected, f"{word!r} should match some of the firm's documents"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("search_tenant_document_field('file_name', 'a'::tsquery, 20)", "no tenant is set"),
        ("search_tenant_document_field('tags', 'a'::tsquery, 20)", "cannot search documents by"),
        ("search_tenant_document_field('file_name', 'a'::tsquery, 1001)", "max_rows must be"),
        ("search_tenant_documents('a'::tsquery, 'a'::tsquery, 0)", "max_rows must be"),
    ],
)
def test_the_search_functions_refuse_clearly(
    populated: PgDatabase, call: str, message: str
) -> None:
    org = _org(populated)
    with (
        psycopg.connect(populated.app_url) as conn,
        pytest.raises(psycopg.Error, match=message),
        conn.transaction(),
    ):
        if "no tenant" not in message:
            apply_tenant(conn, org)
        conn.execute(f"SELECT * FROM {call}")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "call",
    [
        "search_tenant_documents(websearch_to_tsquery('english', %(q)s),"
        " websearch_to_tsquery('simple', %(q)s), 20)",
        "search_tenant_document_field('file_name',"
        " plainto_tsquery('simple', split_part(%(q)s, ' ', 1)), 1000)",
        "search_tenant_document_field('description',"
        " websearch_to_tsquery('english', split_part(%(q)s, ' ', 2)), 1000)",
    ],
)
def test_the_functions_own_query_runs_on_the_tenant_keyed_index(
    populated: PgDatabase, call: str
) -> None:
    org = _org(populated)
    # auto_explain shows the plan the function's own query gets (as its owner, with this call's
    # values): the tenant-keyed GIN index, never the tenant's whole organization_id range. (The
    # data set's Zephyr letters are all deleted in this firm: receipts are live.)
    used, rows = inner_indexes(
        populated.admin_url, f"SELECT * FROM {call}", {"q": "receipt upload"}, org
    )
    assert rows
    assert used == {tenant_search.INDEX}, used


def _state(db: PgDatabase) -> dict[str, Any]:
    with psycopg.connect(db.admin_url) as conn:
        counts = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
            for t in ("documents", "documents_keys", "document_processing", "audit_logs")
        }
        dropped = conn.execute(
            "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE c.relname = ANY(%s) AND i.indisvalid",
            (DROPPED,),
        ).fetchone()
        column = conn.execute(
            "SELECT count(*) FROM pg_attribute WHERE attrelid = 'documents'::regclass"
            " AND attname = 'search_vector' AND NOT attisdropped"
        ).fetchone()
        index = conn.execute(
            "SELECT pg_get_indexdef(%s::regclass)", (tenant_search.INDEX,)
        ).fetchone()
        functions = conn.execute(
            "SELECT to_regprocedure(%s) IS NOT NULL, (SELECT prorows FROM pg_proc"
            " WHERE oid = to_regprocedure(%s))",
            (document_vectors.FIELD_FUNCTION, tenant_search.SEARCH_FUNCTION),
        ).fetchone()
    assert dropped and column and index and functions
    return {
        "counts": counts,
        "dropped": dropped[0],
        "column": column[0],
        "stored": "search_vector" in index[0],
        "functions": tuple(functions),
    }


def _answers(db: PgDatabase, org: uuid.UUID) -> list[Any]:
    with connect(db.app_url) as conn:
        hits = fulltext.search_text(conn, org, "receipt", k=20)
        ranked = [(h.id, h.title, h.snippet) for h in hits]
    pages = []
    with psycopg.connect(db.app_url) as conn:
        for name in ("documents.metadata_match", "documents.list"):
            query = catalog.get(name)
            with conn.transaction():
                apply_tenant(conn, org)
                pages.append(conn.execute(query.sql, query.bind(_sample(db))).fetchall())
    return [ranked, pages]


def _sample(db: PgDatabase) -> sampling.Sample:
    with psycopg.connect(db.admin_url) as conn:
        return sampling.sample(conn)


def test_down_and_up_on_a_populated_database(populated: PgDatabase) -> None:
    org = _org(populated)
    at_head = _state(populated)
    assert at_head["dropped"] == 0 and at_head["column"] == 1 and at_head["stored"]
    assert at_head["functions"] == (True, 20)
    answers = _answers(populated, org)
    assert answers[0] and all(answers[1])

    migrations.downgrade(populated.admin_url, BEFORE)
    down = _state(populated)
    assert down["counts"] == at_head["counts"]
    assert down["dropped"] == len(DROPPED) and down["column"] == 0 and not down["stored"]
    assert down["functions"] == (False, 1000)  # revision 0010's function again
    with connect(populated.app_url) as conn:  # and document search still answers
        assert fulltext.search_text(conn, org, "receipt", k=20)

    migrations.upgrade(populated.admin_url)
    assert _state(populated) == at_head
    assert _answers(populated, org) == answers
    assert migrations.drift(populated.admin_url) == []
    with psycopg.connect(populated.admin_url) as conn:
        assert conn.execute(_STALE).fetchone() == (0,)


def test_the_index_is_what_the_models_declare(populated: PgDatabase) -> None:
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateIndex

    from advisoros_db.schema import search_indexes

    ddl = str(
        CreateIndex(search_indexes.DOCUMENTS_TENANT_FTS).compile(dialect=postgresql.dialect())
    )
    with psycopg.connect(populated.admin_url) as conn:
        [[built]] = conn.execute("SELECT pg_get_indexdef(%s::regclass)", (tenant_search.INDEX,))
        conn.execute(ddl.replace(tenant_search.INDEX, "idx_scratch_copy"))  # type: ignore[arg-type]
        [[copy]] = conn.execute("SELECT pg_get_indexdef('idx_scratch_copy'::regclass)")
        conn.rollback()
    assert copy.replace("idx_scratch_copy", tenant_search.INDEX) == built
    assert set(indexes.REPLACED_BY_DOCUMENT_VECTOR) <= set(DROPPED)
