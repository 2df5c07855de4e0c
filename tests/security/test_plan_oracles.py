"""Plan oracles, attacked as the application role: for every tenant catalog query on a GIN,
trigram or full-text index, and for every search function, a word that only another firm's row
holds and a word no row holds give the same plans, the same EXPLAIN ANALYZE (row counts, rows
removed by filters, buffers, VERBOSE output; timings normalised), and the same results.

The control proves the probe has teeth: with the search operators marked LEAKPROOF, as an older
revision 0007 did, the same comparison tells the two words apart."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from advisoros_db.bench.catalog_cases import plain_sql
from advisoros_db.migrations import tenant_field_search
from advisoros_db.schema import catalog
from advisoros_db.search import fulltext
from advisoros_db.search.connections import connect
from advisoros_db.tenancy.context import apply_tenant
from tests.security.oracle_data import (
    NOTHING,
    PROBES,
    VICTIM,
    Scene,
    all_tenant_indexes,
    leakproof_marks,
    outcome,
    params,
    scene,
)

__all__ = ["all_tenant_indexes", "leakproof_marks", "scene"]

EXPLAINS = (
    "EXPLAIN ",
    "EXPLAIN (VERBOSE, COSTS, SETTINGS) ",
    "EXPLAIN (ANALYZE, BUFFERS, VERBOSE, SETTINGS, WAL, SUMMARY) ",
    "EXPLAIN (ANALYZE, BUFFERS, VERBOSE, FORMAT JSON) ",
)
_TIMES = (
    (re.compile(r"actual time=[\d.]+\.\.[\d.]+"), "actual time=T"),
    (re.compile(r"(Planning|Execution) Time: [\d.]+ ms"), r"\1 Time: T"),
    (re.compile(r"I/O Timings:[^\n]*"), "I/O Timings: T"),
    (
        re.compile(
            r'"(Actual Startup Time|Actual Total Time|Planning Time|Execution Time|'
            r'I/O Read Time|I/O Write Time)": [\d.]+'
        ),
        r'"\1": T',
    ),
)


def normalised(plan: str) -> str:
    """A plan with its timings (the only thing allowed to differ) blanked, its search word too."""
    for pattern, replacement in _TIMES:
        plan = pattern.sub(replacement, plan)
    return plan.replace(VICTIM, "WORD").replace(NOTHING, "WORD")


def _explain(
    conn: psycopg.Connection[Any],
    prefix: str,
    query: sql.Composed | sql.SQL | str,
    bound: dict[str, Any],
) -> str:
    rows = conn.execute(
        sql.SQL(prefix) + sql.SQL(query) if isinstance(query, str) else sql.SQL(prefix) + query,
        bound,
    ).fetchall()
    return "\n".join(r[0] if isinstance(r[0], str) else json.dumps(r[0]) for r in rows)


def _observe(
    url: str, org: uuid.UUID, query: sql.Composed | sql.SQL | str, bound: dict[str, Any]
) -> list[str]:
    """Everything the application role can learn from one query: each EXPLAIN, then the rows
    (or the error). Run twice and keep the second, so caches are warm for both words alike."""
    seen: list[str] = []
    with psycopg.connect(url) as conn:
        # How a parallel scan splits its blocks between workers is timing (which process got
        # there first), normalised away like timings: one process, so the figures are whole.
        conn.execute("SET max_parallel_workers_per_gather = 0")
        conn.commit()
        for _ in range(2):
            seen = []
            for prefix in EXPLAINS:
                with conn.transaction():
                    apply_tenant(conn, org)
                    seen.append(normalised(_explain(conn, prefix, query, bound)))
            with conn.transaction():
                apply_tenant(conn, org)
                statement = sql.SQL(query) if isinstance(query, str) else query
                seen.append(repr(conn.execute(statement, bound).fetchall()))
    return seen


def _differences(a: list[str], b: list[str]) -> list[tuple[str, str]]:
    return [(x, y) for x, y in zip(a, b, strict=True) if x != y]


@pytest.mark.parametrize("query", PROBES, ids=lambda q: q.name)
def test_a_catalog_query_cannot_tell_another_firms_word_from_no_word(
    query: catalog.CatalogQuery, scene: Scene
) -> None:
    # The planted word is really there: the victim's own tenant finds it.
    with psycopg.connect(scene.db.app_url) as conn, conn.transaction():
        apply_tenant(conn, scene.victim)
        assert conn.execute(query.sql, params(query, scene.victim, VICTIM)).fetchall()
    victim = _observe(
        scene.db.app_url, scene.attacker, query.sql, params(query, scene.attacker, VICTIM)
    )
    nothing = _observe(
        scene.db.app_url, scene.attacker, query.sql, params(query, scene.attacker, NOTHING)
    )
    assert victim[-1] == "[]"
    assert _differences(victim, nothing) == []


# Each search_tenant_text call of the attack: the websearch and plain parsers, a prefix, a
# negation and a phrase (both read the tenant's all-rows key), an OR with a word every tenant has.
FIELD_QUERIES = {
    "websearch": "websearch_to_tsquery('{config}'::regconfig, %(q)s)",
    "plain": "plainto_tsquery('{config}'::regconfig, %(q)s)",
    "prefix": "to_tsquery('simple'::regconfig, %(prefix)s)",
    "negation": "websearch_to_tsquery('{config}'::regconfig, '-' || %(q)s)",
    "phrase": "websearch_to_tsquery('{config}'::regconfig, '\"' || %(q)s || ' holdings\"')",
    "or": "websearch_to_tsquery('{config}'::regconfig, %(q)s || ' or the')",
}
# Each search_tenant_contains pattern: the word anywhere, at the start, at the end, after a `_`,
# and a fragment too short for a trigram (the tenant's all-rows key).
PATTERNS = ("%{word}%", "{word}%", "%{word}", "_{word}%", "%qz%")


def _search_statements(
    org: uuid.UUID, word: str
) -> Iterator[tuple[str, sql.Composed | sql.SQL, dict[str, Any]]]:
    for kind in fulltext.KINDS:
        bound: dict[str, Any] = {"q": word, "k": 10, "org": str(org), "prefix": f"'{word}':*"}
        for mode in ("websearch", "prefix"):
            yield f"{kind}/{mode}", fulltext.statement(kind, mode), bound
    yield (
        "search_tenant_documents",
        sql.SQL(
            "SELECT * FROM search_tenant_documents(websearch_to_tsquery('english', %(q)s),"
            " websearch_to_tsquery('simple', %(q)s), 10)"
        ),
        {"q": word},
    )
    for kind in sorted(fulltext.ROWS_FUNCTION_KINDS):
        for english, simple in (("websearch", "websearch"), ("prefix", "prefix")):
            query = (
                "websearch_to_tsquery('english', %(q)s), websearch_to_tsquery('simple', %(q)s)"
                if english == "websearch"
                else "to_tsquery('simple', %(prefix)s), to_tsquery('simple', %(prefix)s)"
            )
            yield (
                f"search_tenant_rows/{kind}/{simple}",
                sql.SQL("SELECT * FROM search_tenant_rows({}, " + query + ", 20)").format(
                    sql.Literal(kind)
                ),
                {"q": word, "prefix": f"'{word}':*"},
            )
    for field, query in (
        ("file_name", "plainto_tsquery('simple', %(q)s)"),
        ("file_name", "to_tsquery('simple', %(prefix)s)"),
        ("description", "websearch_to_tsquery('english', %(q)s)"),
        ("description", "to_tsquery('english', %(prefix)s)"),
    ):
        yield (
            f"search_tenant_document_field/{field}/{query.split('(')[0]}",
            sql.SQL("SELECT * FROM search_tenant_document_field({}, " + query + ", 1000)").format(
                sql.Literal(field)
            ),
            {"q": word, "prefix": f"'{word}':*"},
        )
    # Revision 0024's keyset page (the catalog's form), walked first: a negation and a phrase
    # are walked without a bound.
    for column, config in (("file_name", "simple"), ("description", "english")):
        for label, tsquery in FIELD_QUERIES.items():
            yield (
                f"search_tenant_document_field/{column}/page/{label}",
                sql.SQL("SELECT * FROM search_tenant_document_field({}, {}, NULL, 50)").format(
                    sql.Literal(column), sql.SQL(tsquery.format(config=config))
                ),
                {"q": word, "prefix": f"'{word}':*"},
            )
    for field in tenant_field_search.TEXT_FIELDS:
        for label, tsquery in FIELD_QUERIES.items():
            yield (
                f"search_tenant_text/{field.name}/{label}",
                sql.SQL("SELECT * FROM search_tenant_text({}, {}, NULL, 50)").format(
                    sql.Literal(field.name), sql.SQL(tsquery.format(config=field.config))
                ),
                {"q": word, "prefix": f"'{word}':*"},
            )
    for shape in PATTERNS:
        yield (
            f"search_tenant_contains/{shape}",
            sql.SQL(
                "SELECT * FROM search_tenant_contains('clients.business_name', %(p)s, NULL, 50)"
            ),
            {"p": shape.format(word=word)},
        )
    yield (
        "search_document_matches",
        sql.SQL(
            "SELECT * FROM search_document_matches(%(org)s, websearch_to_tsquery('english',"
            " %(q)s), websearch_to_tsquery('simple', %(q)s), 10)"
        ),
        {"q": word, "org": str(org)},
    )


def test_the_search_functions_cannot_tell_another_firms_word_from_no_word(scene: Scene) -> None:
    with connect(scene.db.app_url) as conn:
        # Through the library, as an application would: same (empty) results for both words.
        for word in (VICTIM, NOTHING):
            assert fulltext.search_text(conn, scene.attacker, word, kinds=fulltext.KINDS) == []
            assert fulltext.clients_containing(conn, scene.attacker, word) == []
        assert fulltext.search_text(conn, scene.victim, VICTIM, kinds=fulltext.KINDS)
    victim = dict((name, (s, b)) for name, s, b in _search_statements(scene.attacker, VICTIM))
    nothing = dict((name, (s, b)) for name, s, b in _search_statements(scene.attacker, NOTHING))
    for name, (statement, bound) in victim.items():
        seen_victim = _observe(scene.db.app_url, scene.attacker, statement, bound)
        seen_nothing = _observe(scene.db.app_url, scene.attacker, *nothing[name])
        assert _differences(seen_victim, seen_nothing) == [], name


def _old_statement(name: str) -> str:
    """The catalog query `name` as it was before revision 0022: the plain predicate, unpaged."""
    query = catalog.get(name)
    plain = plain_sql(query)
    return query.sql if plain is None else plain.replace(catalog.PAGE_TAIL, "")


# The old shapes of queries that had an index of all tenants (all_tenant_indexes rebuilds them).
CONTROLS = [
    "clients.name_contains",
    "tasks.title_search",
    "notes.content_search",
    "document_comments.content_search",
]


@pytest.mark.parametrize("name", CONTROLS)
def test_control_leakproof_operators_let_the_plans_tell_the_words_apart(
    name: str, scene: Scene, all_tenant_indexes: None, leakproof_marks: None
) -> None:
    statement = _old_statement(name)
    query = catalog.get(name)
    victim = _observe(
        scene.db.app_url, scene.attacker, statement, params(query, scene.attacker, VICTIM)
    )
    nothing = _observe(
        scene.db.app_url, scene.attacker, statement, params(query, scene.attacker, NOTHING)
    )
    assert victim[-1] == nothing[-1] == "[]"  # the rows never leaked, the plans do
    assert _differences(victim, nothing), "the control found no difference: the probe is blind"


@pytest.mark.parametrize("query", [q for q in PROBES if catalog.is_search(q)], ids=lambda q: q.name)
def test_the_search_pages_stay_blind_beside_leakproof_operators_and_all_tenant_indexes(
    query: catalog.CatalogQuery, scene: Scene, all_tenant_indexes: None, leakproof_marks: None
) -> None:
    # What made the control leak is all there: the function's own query must still never reach
    # an index of all tenants (its recheck is a function call no index matches).
    victim = _observe(
        scene.db.app_url, scene.attacker, query.sql, params(query, scene.attacker, VICTIM)
    )
    nothing = _observe(
        scene.db.app_url, scene.attacker, query.sql, params(query, scene.attacker, NOTHING)
    )
    assert victim[-1] == "[]"
    assert _differences(victim, nothing) == []


# Calls whose outcome is an error or an edge: a pattern ending in an escape character (lone,
# after an escaped one, after the word), bounds of max_rows, an unknown field, a NULL page key.
ERROR_CALLS = (
    ("search_tenant_contains('clients.business_name', %(w)s || '\\', NULL, 50)", "{word}"),
    ("search_tenant_contains('clients.business_name', %(w)s || '\\\\\\', NULL, 50)", "%{word}"),
    ("search_tenant_contains('clients.business_name', %(w)s || '\\\\', NULL, 50)", "%{word}"),
    ("search_tenant_contains('clients.business_name', %(w)s, NULL, 0)", "%{word}%"),
    ("search_tenant_contains('clients.legal_name', %(w)s, NULL, 50)", "%{word}%"),
    ("search_tenant_text('tasks.title', to_tsquery('simple', %(w)s), NULL, 1001)", "{word}"),
    ("search_tenant_text('tasks.nothing', to_tsquery('simple', %(w)s), NULL, 50)", "{word}"),
    ("search_tenant_text('tasks.title', to_tsquery('simple', %(w)s), NULL, NULL)", "{word}"),
    ("search_tenant_text('notes.content', to_tsquery('simple', %(w)s), NULL, 50)", "{word} <->"),
    ("search_tenant_text('notes.content', to_tsquery('simple', %(w)s), NULL, 50)", "{word}:* & !x"),
)


def test_the_field_search_functions_err_alike_for_another_firms_word_and_none(
    scene: Scene,
) -> None:
    for call, argument in ERROR_CALLS:
        statement = sql.SQL("SELECT * FROM " + call)
        outcomes = {
            word: outcome(
                scene.db.app_url, scene.attacker, statement, {"w": argument.format(word=word)}
            )
            for word in (VICTIM, NOTHING)
        }
        assert outcomes[VICTIM] == outcomes[NOTHING], (call, outcomes)
    # And they are errors where they should be, named for what was wrong.
    trailing = outcome(
        scene.db.app_url, scene.attacker, sql.SQL("SELECT * FROM " + ERROR_CALLS[0][0]), {"w": "x"}
    )
    assert "InvalidEscapeSequence" in trailing and "escape character" in trailing
    bound = outcome(
        scene.db.app_url, scene.attacker, sql.SQL("SELECT * FROM " + ERROR_CALLS[5][0]), {"w": "x"}
    )
    assert "max_rows must be between 1 and 1000" in bound


def test_the_field_search_functions_need_a_tenant(scene: Scene) -> None:
    for call in (
        "SELECT search_tenant_text('tasks.title', 'x'::tsquery, NULL, 50)",
        "SELECT search_tenant_contains('clients.business_name', '%x%', NULL, 50)",
    ):
        with (
            psycopg.connect(scene.db.app_url) as conn,
            pytest.raises(psycopg.errors.InsufficientPrivilege, match="no tenant is set"),
        ):
            conn.execute(call)
