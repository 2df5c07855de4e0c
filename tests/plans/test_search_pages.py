"""The catalog's search pages (revision 0022: `search_tenant_text`, `search_tenant_contains`) as
the application role: the tenant-keyed index the catalog names is scanned (the transaction's own
scan counters, which count what the function does for its caller; auto_explain shows the function's
plan), the page is read back through the tenant's key, and
the pages return exactly what the old plain predicate returns under row-level security, for
common and rare words, negations, phrases, prefixes and LIKE patterns of every shape."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from advisoros_db.bench import sampling
from advisoros_db.bench.catalog_cases import plain_sql
from advisoros_db.migrations import tenant_field_search
from advisoros_db.schema import catalog
from advisoros_db.tenancy.context import apply_tenant
from tests.support import PgDatabase

SEARCHES = [q for q in catalog.QUERIES if catalog.is_search(q)]
_ORG_LEADING = (
    "SELECT i.indexrelid::regclass::text FROM pg_index i"
    " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
    " WHERE i.indexrelid = ANY(%s::regclass[]) AND a.attname = 'organization_id'"
)
# Every index of a table and how often this transaction scanned it: the server's own count,
# which includes the scans a SECURITY DEFINER function makes for its caller.
_SCANS = (
    "SELECT indexrelid::regclass::text, pg_stat_get_xact_numscans(indexrelid) FROM pg_index"
    " WHERE indrelid = %s::regclass"
)


def test_every_tenant_search_of_the_catalog_is_a_function_page() -> None:
    names = {q.name for q in SEARCHES}
    assert names == {
        "clients.name_contains",
        "clients.business_name_search",
        "clients.legal_name_search",
        "tasks.title_search",
        "tasks.description_search",
        "notes.content_search",
        "advisors.bio_search",
        "engagements.name_search",
        "engagements.description_search",
        "document_comments.content_search",
    }
    assert all(plain_sql(q) is not None for q in SEARCHES)


def _table(query: catalog.CatalogQuery) -> str:
    return query.sql.split(" FROM ", 1)[1].split(" ", 1)[0]


@pytest.mark.parametrize("query", SEARCHES, ids=lambda q: q.name)
def test_the_search_scans_its_tenant_keyed_index_as_the_application_role(
    query: catalog.CatalogQuery, plan_db: PgDatabase, plan_sample: sampling.Sample
) -> None:
    table = _table(query)
    with psycopg.connect(plan_db.app_url) as conn, conn.transaction():
        apply_tenant(conn, plan_sample.organization_id)
        before = dict(conn.execute(_SCANS, (table,)).fetchall())
        conn.execute(query.sql, query.bind(plan_sample)).fetchall()
        after = dict(conn.execute(_SCANS, (table,)).fetchall())
    scanned = {name for name, count in after.items() if count > before[name]}
    assert query.index in scanned, f"{query.name} scanned {sorted(scanned)}"
    with psycopg.connect(plan_db.admin_url) as conn:
        leading = {row[0] for row in conn.execute(_ORG_LEADING, (sorted(scanned),))}
    # Every other index it read starts with organization_id, or is the primary key looked up
    # with the ids the function returned (the page read back under row-level security).
    allowed = {query.index, f"pk_{table}"} | leading
    assert scanned <= allowed, f"{query.name} scanned {sorted(scanned)}"


@pytest.mark.parametrize("query", SEARCHES, ids=lambda q: q.name)
def test_the_functions_own_query_is_planned_on_the_index(
    query: catalog.CatalogQuery, plan_db: PgDatabase, plan_sample: sampling.Sample
) -> None:
    # auto_explain shows the plan the function's own query gets (as its owner, with this call's
    # values, inside the sample's tenant): a scan of the catalog's tenant-keyed index.
    notices: list[str] = []
    with psycopg.connect(plan_db.admin_url) as conn:
        conn.add_notice_handler(lambda diag: notices.append(diag.message_primary or ""))
        conn.execute("LOAD 'auto_explain'")
        for setting, value in (
            ("auto_explain.log_min_duration", "0"),
            ("auto_explain.log_nested_statements", "on"),
            ("auto_explain.log_level", "notice"),
            ("auto_explain.log_format", "json"),
        ):
            conn.execute("SELECT set_config(%s, %s, false)", (setting, value))
        # The owner bypasses row-level security: the setting is all the function reads.
        conn.execute(
            "SELECT set_config('app.organization_id', %s, false)",
            (str(plan_sample.organization_id),),
        )
        conn.execute(query.sql, query.bind(plan_sample)).fetchall()
    plans = [json.loads(n[n.index("{") :]) for n in notices if "{" in n]
    inner = [p for p in plans if f"FROM public.{_table(query)} t" in p["Query Text"]]
    assert inner, [p["Query Text"] for p in plans]
    used = set(_index_names(inner[0]["Plan"]))
    assert query.index in used, f"{query.name}: the function planned with {sorted(used)}"


def _index_names(node: dict[str, Any]) -> Iterator[str]:
    if "Index Name" in node:
        yield node["Index Name"]
    for child in node.get("Plans", []):
        yield from _index_names(child)


def _ids(conn: psycopg.Connection[Any], query: str, bound: dict[str, Any]) -> list[uuid.UUID]:
    return [row[0] for row in conn.execute(sql.SQL(query), bound)]


@pytest.mark.parametrize("query", SEARCHES, ids=lambda q: q.name)
def test_the_pages_walk_what_the_plain_predicate_finds(
    query: catalog.CatalogQuery, plan_db: PgDatabase, plan_sample: sampling.Sample
) -> None:
    plain = plain_sql(query)
    assert plain is not None
    bound = dict(query.bind(plan_sample))
    with psycopg.connect(plan_db.app_url) as conn, conn.transaction():
        apply_tenant(conn, plan_sample.organization_id)
        everything = _ids(conn, plain.replace(catalog.PAGE_TAIL, " ORDER BY id DESC"), bound)
        walked: list[uuid.UUID] = []
        for _ in range(3):
            page = _ids(conn, query.sql, bound)
            walked += page
            if len(page) < 50:
                break
            bound["before"] = page[-1]
    assert walked == everything[: len(walked)]
    assert len(walked) == min(len(everything), 150)


# Lexeme-level queries (no parser in between), built from the tenant's own most common and
# rarest lexemes of each column: the keys' fast path, the all-rows key (negation, phrase) and a
# prefix. `{common}` and `{rare}` are quoted lexemes.
TSQUERIES = (
    "{common}",
    "{rare}",
    "{common} & {rare}",
    "{common} | {rare}",
    "!{common}",
    "{rare} & !{common}",
    "{common} <-> {common}",
    "{prefix}:*",
    "'qznowhereqz'",
)


def _lexemes(conn: psycopg.Connection[Any], field: Any, org: uuid.UUID) -> tuple[str, str]:
    stat = (
        sql.SQL("SELECT word FROM ts_stat({}) ORDER BY ndoc DESC, word LIMIT 1"),
        sql.SQL("SELECT word FROM ts_stat({}) ORDER BY ndoc, word LIMIT 1"),
    )
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
    words = [conn.execute(q.format(source)).fetchone() for q in stat]
    assert words[0] and words[1], f"the tenant has no words in {field.name}"
    return words[0][0], words[1][0]


def _walk(
    conn: psycopg.Connection[Any], call: sql.Composable, bound: dict[str, Any]
) -> list[uuid.UUID]:
    """Every id the function returns, 1,000 a page."""
    ids: list[uuid.UUID] = []
    before: uuid.UUID | None = None
    while True:
        page = [r[0] for r in conn.execute(call, {**bound, "before": before})]
        ids += page
        if len(page) < 1000:
            return ids
        before = page[-1]


@pytest.mark.parametrize("field", tenant_field_search.TEXT_FIELDS, ids=lambda f: f.name)
def test_search_tenant_text_finds_exactly_the_plain_matches(
    field: tenant_field_search.TextField, plan_db: PgDatabase, plan_sample: sampling.Sample
) -> None:
    org = plan_sample.organization_id
    with psycopg.connect(plan_db.admin_url) as conn:
        common, rare = _lexemes(conn, field, org)
    quoted = {"common": f"'{common}'", "rare": f"'{rare}'", "prefix": f"'{common[:3]}'"}
    call = sql.SQL("SELECT search_tenant_text({}, %(q)s::tsquery, %(before)s, 1000)").format(
        sql.Literal(field.name)
    )
    plain = sql.SQL(
        "SELECT id FROM {} WHERE to_tsvector({}::regconfig, {}) @@ %(q)s::tsquery ORDER BY id DESC"
    ).format(
        sql.Identifier(field.index.table), sql.Literal(field.config), sql.Identifier(field.column)
    )
    with psycopg.connect(plan_db.app_url) as conn, conn.transaction():
        apply_tenant(conn, org)
        for template in TSQUERIES:
            bound = {"q": template.format(**quoted)}
            expected = [r[0] for r in conn.execute(plain, bound)]
            assert _walk(conn, call, bound) == expected, (field.name, bound["q"])
            if template == "{common}":
                assert expected, "the most common word matches nothing: the test proves nothing"


# (pattern shape, whether the tenant's names must match it): trigrams in the middle, at the
# start and end, too short for a trigram, another case, a `_` wildcard, two fragments, every name,
# escaped wildcards and backslashes, a non-ASCII letter, nothing.
SHAPES = (
    ("%{mid}%", True),
    ("{start}%", True),
    ("%{end}", True),
    ("%{short}%", True),
    ("%{upper}%", True),
    ("%{gap}%", True),
    ("%{mid}%{end}", True),
    ("%", True),
    ("%\\%%", False),
    ("%{mid}\\\\%", False),
    ("%é%", False),
    ("%qznowhereqz%", False),
)


@pytest.mark.parametrize(("shape", "must_match"), SHAPES)
def test_search_tenant_contains_finds_exactly_what_ilike_finds(
    shape: str, must_match: bool, plan_db: PgDatabase, plan_sample: sampling.Sample
) -> None:
    org = plan_sample.organization_id
    with psycopg.connect(plan_db.admin_url) as conn:
        row = conn.execute(
            "SELECT business_name FROM clients WHERE organization_id = %s"
            " AND length(business_name) >= 10 ORDER BY id LIMIT 1",
            (org,),
        ).fetchone()
    assert row is not None
    name: str = row[0]
    pattern = shape.format(
        mid=name[2:7],
        start=name[:4],
        end=name[-4:],
        short=name[1:3],
        upper=name[2:7].swapcase(),
        gap=name[2:4] + "_" + name[5:8],
    )
    call = sql.SQL(
        "SELECT search_tenant_contains('clients.business_name', %(p)s, %(before)s, 1000)"
    )
    plain = "SELECT id FROM clients WHERE business_name ILIKE %(p)s ORDER BY id DESC"
    with psycopg.connect(plan_db.app_url) as conn, conn.transaction():
        apply_tenant(conn, org)
        expected = [r[0] for r in conn.execute(plain, {"p": pattern})]
        assert _walk(conn, call, {"p": pattern}) == expected, pattern
    assert bool(expected) or not must_match, f"{pattern!r} matches nothing: the test proves nothing"
