"""Revision 0024_search_s4_document_pages on a populated database (tests/plans' data set): every
keyset page of `search_tenant_document_field(field, query, before, max_rows)` is the page the
plain predicate gives, computed independently as the owner (same ids and file names, same order),
for common and rare words, negations, phrases and prefixes, across several `before` pages and
page sizes; a common word is answered by the walk of the tenant's newest documents without the
tenant-keyed index and a rare one by the index; and down and up again removes and restores the
function exactly, leaving revision 0023's three-argument function as it was."""

from __future__ import annotations

import uuid
from typing import Any, LiteralString

import psycopg
import pytest
from psycopg import sql

from advisoros_db import migrations
from advisoros_db.migrations import document_pages, walked_search
from advisoros_db.tenancy.context import apply_tenant
from tests.plans.function_plans import inner_indexes
from tests.support import PgDatabase

REVISION = "0024_search_s4_document_pages"
BEFORE = "0023_search_s4_walked_pages"
INDEX = "idx_documents_tenant_fts"
BTREE = "uq_documents_organization_id_id"
# Scans are counted on each tax-year partition's index, not on the partitioned parent.
_SCANS = (
    "SELECT coalesce(sum(pg_stat_get_xact_numscans(i.inhrelid)), 0) FROM pg_inherits i"
    " WHERE i.inhparent = %s::regclass"
)

# Each field's plain predicate, as the catalog's queries were before revision 0021: the column
# parsed per row (the stored vector is not read).
PLAIN: dict[str, tuple[LiteralString, LiteralString]] = {
    "file_name": ("simple", "to_tsvector('simple'::regconfig, file_name)"),
    "description": ("english", "to_tsvector('english'::regconfig, description)"),
}


def _plain(conn: psycopg.Connection[Any], field: str, org: uuid.UUID, q: str) -> list[Any]:
    """Every (id, file name) of the tenant's documents the plain predicate matches, newest
    first, as the owner."""
    vector = sql.SQL(PLAIN[field][1])
    return conn.execute(
        sql.SQL(
            "SELECT id, file_name FROM documents WHERE organization_id = %s"
            " AND {} @@ %s::tsquery ORDER BY id DESC"
        ).format(vector),
        (org, q),
    ).fetchall()


def _pages(
    conn: psycopg.Connection[Any], field: str, q: str, size: int = 50, pages: int = 4
) -> tuple[list[Any], int]:
    """Up to `pages` pages of `size` as the application role, each below the last id of the one
    before, and how often the tenant-keyed index was scanned meanwhile."""
    call = "SELECT * FROM search_tenant_document_field(%s, %s::tsquery, %s, %s)"
    rows: list[Any] = []
    before = None
    start = conn.execute(_SCANS, (INDEX,)).fetchone()
    for _ in range(pages):
        page = conn.execute(call, (field, q, before, size)).fetchall()
        rows += page
        if len(page) < size:
            break
        before = page[-1][0]
    end = conn.execute(_SCANS, (INDEX,)).fetchone()
    assert start is not None and end is not None
    return rows, end[0] - start[0]


def _words(conn: psycopg.Connection[Any], field: str, org: uuid.UUID) -> dict[str, str]:
    """The tenant's densest and sparsest lexemes of the column (of those three documents or more
    hold), and a phrase of it."""
    config, vector = PLAIN[field]
    source = sql.Literal(
        sql.SQL("SELECT {} FROM documents WHERE organization_id = {}")
        .format(sql.SQL(vector), sql.Literal(str(org)))
        .as_string(conn)
    )
    stat = sql.SQL("SELECT word FROM ts_stat({}) WHERE ndoc >= 3 ORDER BY ndoc {}, word LIMIT 1")
    dense = conn.execute(stat.format(source, sql.SQL("DESC"))).fetchone()
    sparse = conn.execute(stat.format(source, sql.SQL("ASC"))).fetchone()
    # The newest document's whole column as a phrase: at least that document matches it.
    pair = conn.execute(
        sql.SQL(
            "SELECT phraseto_tsquery({}::regconfig, {})::text FROM documents"
            " WHERE organization_id = %s AND {} IS NOT NULL ORDER BY id DESC LIMIT 1"
        ).format(sql.Literal(config), sql.Identifier(field), sql.Identifier(field)),
        (org,),
    ).fetchone()
    assert dense and sparse and pair, f"the tenant has no words in {field}"
    return {"dense": f"'{dense[0]}'", "sparse": f"'{sparse[0]}'", "pair": pair[0]}


QUERIES = (
    "{dense}",
    "{sparse}",
    "{dense} & {sparse}",
    "{dense} | {sparse}",
    "!{dense}",
    "{pair}",
    "{prefix}:*",
    "'qznowhereqz'",
)


@pytest.mark.parametrize("size", [50, 7])
@pytest.mark.parametrize("field", list(PLAIN))
def test_every_page_is_the_plain_predicates_page(
    field: str, size: int, populated: PgDatabase, org: uuid.UUID
) -> None:
    with psycopg.connect(populated.admin_url) as owner:
        words = _words(owner, field, org)
        words["prefix"] = words["dense"][:4] + "'"
        expected = {t: _plain(owner, field, org, t.format(**words)) for t in QUERIES}
    assert len(expected["{dense}"]) > 4 * 50, "the common word fills no four pages: no proof"
    assert 0 < len(expected["{sparse}"]) < len(expected["{dense}"])
    assert expected["{pair}"], "the phrase matches nothing: the test proves nothing"
    with psycopg.connect(populated.app_url) as conn, conn.transaction():
        apply_tenant(conn, org)
        for template in QUERIES:
            rows, _ = _pages(conn, field, template.format(**words), size)
            want = expected[template][: 4 * size]
            assert rows == want, (field, size, template)


@pytest.mark.parametrize("field", list(PLAIN))
def test_a_common_word_is_walked_and_a_rare_one_looked_up(
    field: str, populated: PgDatabase, org: uuid.UUID
) -> None:
    with psycopg.connect(populated.admin_url) as owner:
        words = _words(owner, field, org)
        dense_share = len(_plain(owner, field, org, words["dense"]))
    with psycopg.connect(populated.app_url) as conn, conn.transaction():
        apply_tenant(conn, org)
        dense, dense_scans = _pages(conn, field, words["dense"], pages=1)
        sparse, sparse_scans = _pages(conn, field, words["sparse"], pages=1)
    assert dense_share > 50 and len(dense) == 50
    assert dense_scans == 0, f"{field}: the walk did not answer a common word"
    # The data set's descriptions are two texts: its sparsest description word ('asset', 1 %)
    # still fills a page by walking on. Its file names have a rare word ('engagement', 0.4 %).
    if field == "file_name":
        assert sparse and sparse_scans > 0, f"{field}: the index did not answer a rare word"


def test_the_walk_reads_the_tenant_leading_btree_and_the_lookup_the_keyed_index(
    populated: PgDatabase, org: uuid.UUID
) -> None:
    # auto_explain of the function's own statements, as its owner inside the tenant.
    with psycopg.connect(populated.admin_url) as owner:
        words = _words(owner, "file_name", org)
    call = "SELECT * FROM search_tenant_document_field('file_name', %(q)s::tsquery, NULL, 50)"
    walked, rows = inner_indexes(populated.admin_url, call, {"q": words["dense"]}, org)
    assert len(rows) == 50 and walked == {BTREE}, walked
    looked_up, rows = inner_indexes(populated.admin_url, call, {"q": words["sparse"]}, org)
    assert rows and looked_up == {BTREE, INDEX}, looked_up


def test_bad_calls_are_refused_with_what_to_do(populated: PgDatabase, org: uuid.UUID) -> None:
    call = "SELECT * FROM search_tenant_document_field(%s, 'a'::tsquery, NULL, %s)"
    with psycopg.connect(populated.app_url) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="no tenant is set"):
            conn.execute(call, ("file_name", 50))
        conn.rollback()
        for field, size, message in (
            ("tags", 50, "choose file_name or description"),
            ("file_name", 0, "max_rows must be between 1 and 1000"),
            ("file_name", 1001, "max_rows must be between 1 and 1000"),
        ):
            with conn.transaction():
                apply_tenant(conn, org)
                with pytest.raises(psycopg.errors.InvalidParameterValue, match=message):
                    conn.execute(call, (field, size))


def _functions(db: PgDatabase) -> dict[str, Any]:
    with psycopg.connect(db.admin_url) as conn:
        rows = conn.execute(
            "SELECT p.oid::regprocedure::text, p.prosrc, p.prorows, p.proconfig,"
            " p.prosecdef, p.proacl::text FROM pg_proc p"
            " WHERE p.proname = 'search_tenant_document_field'"
        ).fetchall()
    return {r[0]: r[1:] for r in rows}


def test_down_and_up_remove_and_restore_the_page_function(
    populated: PgDatabase, org: uuid.UUID
) -> None:
    three = "search_tenant_document_field(text,tsquery,integer)"
    four = "search_tenant_document_field(text,tsquery,uuid,integer)"

    def answers() -> list[Any]:
        with psycopg.connect(populated.app_url) as conn, conn.transaction():
            apply_tenant(conn, org)
            return conn.execute(
                "SELECT * FROM search_tenant_document_field('description',"
                " websearch_to_tsquery('english', 'depreciation schedule'), 1000)"
            ).fetchall()

    at_head = _functions(populated)
    assert set(at_head) == {three, four}
    assert at_head[four][3] is True and "advisoros_app=X" in at_head[four][4]
    before = answers()
    assert before, "no description matches: the check proves nothing"
    migrations.downgrade(populated.admin_url, BEFORE)
    down = _functions(populated)
    body = walked_search.FIELD_SQL.split("AS $fn$", 1)[1].rsplit("$fn$", 1)[0]
    assert set(down) == {three} and down[three][0] == body
    assert down[three] == at_head[three]
    assert answers() == before

    migrations.upgrade(populated.admin_url)
    assert _functions(populated) == at_head
    assert document_pages.PAGE_FUNCTION.replace(" ", "") == four
    assert migrations.drift(populated.admin_url) == []


def test_a_word_the_first_walk_finds_too_few_of_is_walked_further(
    populated: PgDatabase, org: uuid.UUID
) -> None:
    # A page of n walks 20 n documents first; a word with 1 to n - 1 matches there walks on, up
    # to 5,000 documents in all, and where n matches lie in the newest 5,000 the index is not
    # read. The data set's ids differ on each load: look for such a word, field and page size.
    chosen = None
    with psycopg.connect(populated.admin_url) as owner:
        newest = [
            r[0]
            for r in owner.execute(
                "SELECT id FROM documents WHERE organization_id = %s ORDER BY id DESC LIMIT %s",
                (org, document_pages.WALK_MAX),
            )
        ]
        for field, (_config, vector) in PLAIN.items():
            source = (
                sql.SQL("SELECT {} FROM documents WHERE organization_id = {}")
                .format(sql.SQL(vector), sql.Literal(str(org)))
                .as_string(owner)
            )
            words = owner.execute(
                "SELECT word FROM ts_stat(%s) ORDER BY ndoc DESC, word LIMIT 100", (source,)
            ).fetchall()
            for (word,) in words:
                q = f"'{word}'"
                matches = _plain(owner, field, org, q)
                ids = {r[0] for r in matches}
                for size in range(2, 12):  # 1 match in 20 n walks on up to n = 11
                    early = len(ids & set(newest[: size * document_pages.WALK_PER_ROW]))
                    if 0 < early < size and len(ids & set(newest)) >= size:
                        chosen = (field, q, size, matches)
                        break
                if chosen:
                    break
            if chosen:
                break
    assert chosen, "no word walks on in this data set: the test proves nothing"
    field, q, size, expected = chosen
    with psycopg.connect(populated.app_url) as conn, conn.transaction():
        apply_tenant(conn, org)
        rows, scans = _pages(conn, field, q, size, pages=1)
    assert rows == expected[:size] and scans == 0, (field, q, size, scans)
