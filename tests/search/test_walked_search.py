"""Revision 0023_search_s4_walked_pages on a populated database (tests/plans' data set): every page
of `search_tenant_text` is the page the plain predicate gives, computed independently as the owner
(same ids, same order) for dense and sparse words, negations, phrases, prefixes and weighted
queries, across keyset pages; a dense word is answered by the walk of the tenant's newest rows
without the tenant-keyed index and a sparse one by the index; a row whose stored vector lost a
body lexeme (a title reaching position 16,383) is still found; the ranked document search returns
the ids and scores an independent per-row computation gives; and down and up again restores
revision 0022's and 0021's function bodies exactly and answers the same."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from psycopg import sql

from advisoros_db import migrations
from advisoros_db.migrations import document_vectors, tenant_field_search, walked_search
from advisoros_db.migrations.tenant_field_search import TextField
from advisoros_db.tenancy.context import apply_tenant
from tests.plans.function_plans import inner_indexes
from tests.support import PgDatabase

REVISION = "0023_search_s4_walked_pages"
BEFORE = "0022_fts_rows_field_search"
STORED = [f for f in tenant_field_search.TEXT_FIELDS if walked_search.stored_weight(f)]
_SCANS = "SELECT pg_stat_get_xact_numscans(%s::regclass)"


def _plain(conn: psycopg.Connection[Any], field: TextField, org: uuid.UUID, q: str) -> list[Any]:
    """Every match of the column's plain predicate in the tenant, newest first, as the owner."""
    query = sql.SQL(
        "SELECT id FROM {} WHERE organization_id = %s"
        " AND to_tsvector({}::regconfig, {}) @@ %s::tsquery ORDER BY id DESC"
    ).format(
        sql.Identifier(field.index.table), sql.Literal(field.config), sql.Identifier(field.column)
    )
    return [r[0] for r in conn.execute(query, (org, q))]


def _pages(
    conn: psycopg.Connection[Any], field: TextField, q: str, pages: int = 4
) -> tuple[list[Any], int]:
    """Up to `pages` pages of 50 as the application role, each below the last id of the one
    before, and how often the field's tenant-keyed index was scanned meanwhile."""
    call = "SELECT search_tenant_text(%s, %s::tsquery, %s, 50)"
    index = field.index.name
    ids: list[Any] = []
    before = None
    start = conn.execute(_SCANS, (index,)).fetchone()
    for _ in range(pages):
        page = [r[0] for r in conn.execute(call, (field.name, q, before))]
        ids += page
        if len(page) < 50:
            break
        before = page[-1]
    end = conn.execute(_SCANS, (index,)).fetchone()
    assert start is not None and end is not None
    return ids, end[0] - start[0]


def _words(conn: psycopg.Connection[Any], field: TextField, org: uuid.UUID) -> dict[str, str]:
    """The tenant's densest and sparsest lexemes of the column, and two adjacent words of it."""
    source = sql.Literal(
        sql.SQL("SELECT to_tsvector({}::regconfig, {}) FROM {} WHERE organization_id = {}")
        .format(
            sql.Literal(field.config),
            sql.Identifier(field.column),
            sql.Identifier(field.index.table),
            sql.Literal(str(org)),
        )
        .as_string(conn)
    )
    stat = sql.SQL("SELECT word FROM ts_stat({}) ORDER BY ndoc {}, word LIMIT 1")
    dense = conn.execute(stat.format(source, sql.SQL("DESC"))).fetchone()
    sparse = conn.execute(stat.format(source, sql.SQL("ASC"))).fetchone()
    # The column's first three words of its newest row that has them, as a phrase.
    pair = conn.execute(
        sql.SQL(
            "SELECT phraseto_tsquery({}::regconfig, array_to_string("
            "(regexp_split_to_array({}, '\\s+'))[1:3], ' '))::text FROM {}"
            " WHERE organization_id = %s AND {} ~ '\\S+\\s+\\S+\\s+\\S'"
            " ORDER BY id DESC LIMIT 1"
        ).format(
            sql.Literal(field.config),
            sql.Identifier(field.column),
            sql.Identifier(field.index.table),
            sql.Identifier(field.column),
        ),
        (org,),
    ).fetchone()
    assert dense and sparse and pair, f"the tenant has no words in {field.name}"
    return {"dense": f"'{dense[0]}'", "sparse": f"'{sparse[0]}'", "pair": pair[0]}


QUERIES = (
    "{dense}",
    "{sparse}",
    "{dense} & {sparse}",
    "{dense} | {sparse}",
    "!{dense}",
    "!{sparse}",
    "{pair}",
    "!({pair})",
    "{prefix}:*",
    "{dense}:A",
    "{dense}:D",
    "'qznowhereqz'",
)


@pytest.mark.parametrize("field", tenant_field_search.TEXT_FIELDS, ids=lambda f: f.name)
def test_every_page_is_the_plain_predicates_page(
    field: TextField, populated: PgDatabase, org: uuid.UUID
) -> None:
    with psycopg.connect(populated.admin_url) as owner:
        words = _words(owner, field, org)
        words["prefix"] = words["dense"][:4] + "'"
        expected = {t: _plain(owner, field, org, t.format(**words)) for t in QUERIES}
    if field in STORED:  # walked with a bound: the dense word must fill pages
        assert len(expected["{dense}"]) > 50, "the dense word fills no page: proves nothing"
    assert 0 < len(expected["{sparse}"]) < len(expected["{dense}"])
    assert expected["{pair}"], "the phrase matches nothing: the test proves nothing"
    with psycopg.connect(populated.app_url) as conn, conn.transaction():
        apply_tenant(conn, org)
        for template in QUERIES:
            ids, _ = _pages(conn, field, template.format(**words))
            assert ids == expected[template][: len(ids)], (field.name, template)
            assert len(ids) == min(len(expected[template]), 200), (field.name, template)


@pytest.mark.parametrize("field", STORED, ids=lambda f: f.name)
def test_a_dense_word_is_walked_and_a_sparse_one_looked_up(
    field: TextField, populated: PgDatabase, org: uuid.UUID
) -> None:
    with psycopg.connect(populated.admin_url) as owner:
        words = _words(owner, field, org)
    with psycopg.connect(populated.app_url) as conn, conn.transaction():
        apply_tenant(conn, org)
        dense, dense_scans = _pages(conn, field, words["dense"], pages=1)
        sparse, sparse_scans = _pages(conn, field, words["sparse"], pages=1)
    assert len(dense) == 50 and dense_scans == 0, f"{field.name}: the walk did not answer"
    assert sparse and sparse_scans == 1, f"{field.name}: the index did not answer"


@pytest.mark.parametrize("field", STORED, ids=lambda f: f.name)
def test_the_walk_reads_the_tenant_leading_btree_and_the_lookup_the_keyed_index(
    field: TextField, populated: PgDatabase, org: uuid.UUID
) -> None:
    # auto_explain of the function's own statements, as its owner inside the tenant.
    with psycopg.connect(populated.admin_url) as owner:
        words = _words(owner, field, org)
    call = "SELECT search_tenant_text(%(f)s, %(q)s::tsquery, NULL, 50)"
    btree = f"uq_{field.index.table}_organization_id_id"
    walked, rows = inner_indexes(
        populated.admin_url, call, {"f": field.name, "q": words["dense"]}, org
    )
    assert len(rows) == 50 and walked == {btree}, walked
    looked_up, rows = inner_indexes(
        populated.admin_url, call, {"f": field.name, "q": words["sparse"]}, org
    )
    # The lookup as before: the keyed index, which the planner may AND with a tenant-leading one.
    tenant_leading = f"_{field.index.table}_organization_id"
    assert rows and {btree, field.index.name} <= looked_up, looked_up
    assert all(tenant_leading in name for name in looked_up - {field.index.name}), looked_up


def test_a_body_lexeme_the_stored_vector_lost_is_still_found(
    populated: PgDatabase, org: uuid.UUID
) -> None:
    # A title whose word reaches position 16,383: PostgreSQL's `||` adds no later position of that
    # word, so the stored vector holds no B position of 'qzrepq' although the description has it.
    title = "qzx " * 17_000 + "qzrepq"
    with psycopg.connect(populated.admin_url) as owner:
        row = owner.execute(
            "UPDATE tasks SET title = %s, description = 'qzrepq in the body'"
            " WHERE id = (SELECT id FROM tasks WHERE organization_id = %s ORDER BY id DESC"
            " LIMIT 1 OFFSET 3) RETURNING id, ts_filter(search_vector, '{b}') @@ 'qzrepq'",
            (title, org),
        ).fetchone()
    assert row is not None and row[1] is False, "the stored vector kept the word: no proof"
    field = next(f for f in STORED if f.name == "tasks.description")
    with psycopg.connect(populated.admin_url) as owner:
        expected = [_plain(owner, field, org, q) for q in ("'qzrepq'", "!'qzrepq'")]
    with psycopg.connect(populated.app_url) as conn, conn.transaction():
        apply_tenant(conn, org)
        found, _ = _pages(conn, field, "'qzrepq'")
        absent, _ = _pages(conn, field, "!'qzrepq'", pages=1)
    assert found == expected[0] == [row[0]]
    assert absent == expected[1][:50]
    assert row[0] not in absent


_RANK = (
    "SELECT d.id, ts_rank_cd(d.search_vector, e.q) + ts_rank_cd(to_tsvector('simple', d.file_name),"
    " s.q) AS score FROM documents d, (SELECT {}('english', %(q)s)) e(q),"
    " (SELECT {}('simple', %(q)s)) s(q)"
    " WHERE d.organization_id = %(org)s AND d.deleted_at IS NULL"
    " AND (d.search_vector @@ e.q OR to_tsvector('simple', d.file_name) @@ s.q)"
    " ORDER BY score DESC, d.id LIMIT 20"
)
RANKED = (
    ("websearch_to_tsquery", "receipt"),  # most of the firm's documents
    ("websearch_to_tsquery", "statement 3"),  # file-name words: the simple rank counts
    ("websearch_to_tsquery", "payroll register"),
    ("websearch_to_tsquery", "receipt -bank"),
    ("websearch_to_tsquery", '"bank statement"'),
    ("to_tsquery", "rec:* | payr:*"),
)


@pytest.mark.parametrize(("parser", "q"), RANKED)
def test_the_ranked_search_gives_the_per_row_computations_answer(
    parser: str, q: str, populated: PgDatabase, org: uuid.UUID
) -> None:
    params = {"q": q, "org": org}
    with psycopg.connect(populated.admin_url) as owner:
        expected = owner.execute(
            sql.SQL(_RANK).format(sql.SQL(parser), sql.SQL(parser)), params
        ).fetchall()
    assert expected, f"{q!r} matches nothing: the test proves nothing"
    call = sql.SQL(
        "SELECT * FROM search_tenant_documents({}('english', %(q)s), {}('simple', %(q)s), 20)"
    )
    with psycopg.connect(populated.app_url) as conn, conn.transaction():
        apply_tenant(conn, org)
        got = conn.execute(call.format(sql.SQL(parser), sql.SQL(parser)), params).fetchall()
    assert got == expected


def _bodies(db: PgDatabase) -> dict[str, Any]:
    with psycopg.connect(db.admin_url) as conn:
        rows = conn.execute(
            "SELECT p.oid::regprocedure::text, p.prosrc, p.prorows, p.proconfig FROM pg_proc p"
            " WHERE p.proname IN ('search_tenant_text', 'search_tenant_documents',"
            " 'search_tenant_document_field', 'advisoros_tenant_file_name_lookup')"
        ).fetchall()
    return {r[0]: r[1:] for r in rows}


# What revisions 0022 and 0021 create, by the statements they run.
RESTORED = {
    "search_tenant_text(text,tsquery,uuid,integer)": tenant_field_search.TEXT_SQL,
    "search_tenant_documents(tsquery,tsquery,integer)": document_vectors.SEARCH_SQL_0021,
    "search_tenant_document_field(text,tsquery,integer)": document_vectors.FIELD_SQL,
}


def test_down_and_up_restore_the_bodies_and_the_answers(
    populated: PgDatabase, org: uuid.UUID
) -> None:
    field = next(f for f in STORED if f.name == "tasks.title")
    with psycopg.connect(populated.admin_url) as owner:
        words = _words(owner, field, org)

    def answers() -> list[Any]:
        with psycopg.connect(populated.app_url) as conn, conn.transaction():
            apply_tenant(conn, org)
            pages = [_pages(conn, field, words[k])[0] for k in ("dense", "sparse", "pair")]
            ranked = conn.execute(
                "SELECT * FROM search_tenant_documents(websearch_to_tsquery('english', 'receipt'),"
                " websearch_to_tsquery('simple', 'receipt'), 20)"
            ).fetchall()
            described = conn.execute(
                "SELECT * FROM search_tenant_document_field('description',"
                " websearch_to_tsquery('english', 'depreciation schedule'), 1000)"
            ).fetchall()
        assert described, "no description matches: the check proves nothing"
        return [pages, ranked, described]

    at_head = _bodies(populated)
    before = answers()
    migrations.downgrade(populated.admin_url, BEFORE)
    down = _bodies(populated)
    assert "advisoros_tenant_file_name_lookup(uuid,tsquery)" not in down
    for name, statement in RESTORED.items():
        body = statement.split("AS $fn$", 1)[1].rsplit("$fn$", 1)[0]
        assert down[name][0] == body, f"{name} is not the body its revision created"
        assert "plan_cache_mode=force_generic_plan" not in (down[name][2] or [])
    assert answers() == before

    migrations.upgrade(populated.admin_url)
    assert _bodies(populated) == at_head
    assert answers() == before
    assert migrations.drift(populated.admin_url) == []
