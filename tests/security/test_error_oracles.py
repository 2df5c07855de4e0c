"""Error oracles, attacked as the application role: no error depends on another tenant's data.

PostgreSQL raises "LIKE pattern must not end with escape character" while matching a row, once
the row matches the pattern up to the trailing backslash. When an index hands other tenants' rows
to ILIKE before the tenant filter (LEAKPROOF operators), the error says "another firm has a value
starting like this": the control shows it. Now a pattern ending in a backslash behaves the same
whether it would match another firm's value or nothing, through SQL, the catalog queries and the
search functions; and the library refuses such patterns before the query (or escapes plain text).
"""

from __future__ import annotations

import pytest
from psycopg import sql

from advisoros_db.schema import catalog
from advisoros_db.search import fulltext, queries
from advisoros_db.search.connections import connect
from advisoros_db.search.errors import SearchInputError
from tests.security.oracle_data import (
    NOTHING,
    PROBES,
    VICTIM,
    Scene,
    all_tenant_indexes,
    column_of,
    leakproof_marks,
    outcome,
    scene,
)

__all__ = ["all_tenant_indexes", "leakproof_marks", "scene"]


def _text_columns() -> list[tuple[str, str]]:
    seen: dict[tuple[str, str], None] = {}
    for query in PROBES:
        if "@@" in query.sql or "ILIKE" in query.sql or catalog.is_search(query):
            seen[column_of(query)] = None
    return list(seen)


def _ilike(table: str, column: str) -> sql.Composed:
    return sql.SQL("SELECT id FROM {} WHERE {} ILIKE %(pattern)s").format(
        sql.Identifier(table), sql.Identifier(column)
    )


@pytest.mark.parametrize("target", _text_columns(), ids=".".join)
def test_a_pattern_ending_in_a_backslash_errs_alike_for_another_firms_value_and_none(
    target: tuple[str, str], scene: Scene
) -> None:
    table, column = target
    outcomes = {
        word: outcome(
            scene.db.app_url, scene.attacker, _ilike(table, column), {"pattern": f"%{word}\\"}
        )
        for word in (VICTIM, NOTHING)
    }
    assert outcomes[VICTIM] == outcomes[NOTHING] == "[]"
    # The victim's own tenant does hit its value, and the error: the pattern is a real probe.
    own = outcome(
        scene.db.app_url, scene.victim, _ilike(table, column), {"pattern": f"%{VICTIM}\\"}
    )
    assert "must not end with escape character" in own


def test_control_with_leakproof_operators_the_error_is_a_one_bit_oracle(
    scene: Scene, all_tenant_indexes: None, leakproof_marks: None
) -> None:
    # The trigram index of all tenants (revision 0021 dropped it) is what handed other firms'
    # names to ILIKE: rebuilt here, with the operators marked LEAKPROOF.
    statement = _ilike("clients", "business_name")
    victim = outcome(scene.db.app_url, scene.attacker, statement, {"pattern": f"%{VICTIM}\\"})
    nothing = outcome(scene.db.app_url, scene.attacker, statement, {"pattern": f"%{NOTHING}\\"})
    assert "must not end with escape character" in victim
    assert nothing == "[]"


def test_the_search_functions_err_alike_for_another_firms_word_and_none(scene: Scene) -> None:
    calls = (
        sql.SQL(
            "SELECT * FROM search_tenant_documents(to_tsquery('simple', %(q)s),"
            " to_tsquery('simple', %(q)s), %(k)s)"
        ),
        sql.SQL(
            "SELECT * FROM search_document_matches(%(org)s, to_tsquery('simple', %(q)s),"
            " to_tsquery('simple', %(q)s), %(k)s)"
        ),
        sql.SQL(
            "SELECT * FROM search_tenant_document_field('file_name',"
            " to_tsquery('simple', %(q)s), %(k)s)"
        ),
        sql.SQL(
            "SELECT * FROM search_tenant_document_field('description',"
            " to_tsquery('english', %(q)s), %(k)s)"
        ),
        sql.SQL(
            "SELECT * FROM search_tenant_document_field('file_name',"
            " to_tsquery('simple', %(q)s), NULL, %(k)s)"
        ),
        sql.SQL(
            "SELECT * FROM search_tenant_document_field('description',"
            " to_tsquery('english', %(q)s), NULL, %(k)s)"
        ),
    )
    for statement in calls:
        for query, k in (("{}", 10), ("{}:*", 10), ("{} & !x", 10), ("{}", 0), ("{} <->", 10)):
            outcomes = {
                word: outcome(
                    scene.db.app_url,
                    scene.attacker,
                    statement,
                    {"q": query.format(word), "k": k, "org": scene.attacker},
                )
                for word in (VICTIM, NOTHING)
            }
            assert outcomes[VICTIM] == outcomes[NOTHING], (statement, query, outcomes)


def test_the_library_takes_text_not_patterns(scene: Scene) -> None:
    assert queries.contains_pattern("50%_a\\") == "%50\\%\\_a\\\\%"
    with pytest.raises(SearchInputError, match="lone backslash"):
        queries.check_like_pattern("%acme\\")
    assert queries.check_like_pattern("%acme\\\\") == "%acme\\\\"
    with connect(scene.db.app_url) as conn:
        for fragment in (VICTIM + "\\", NOTHING + "\\", "%", "_"):
            found = fulltext.clients_containing(conn, scene.attacker, fragment)
            assert found == [] or fragment in ("%", "_")
        hits = fulltext.clients_containing(conn, scene.victim, VICTIM)
        assert hits and all(VICTIM in name for _, name in hits)
