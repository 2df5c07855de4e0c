"""Full-text search: every kind, identifiers, type-ahead, fuzzy client names, snippets, bad input."""

from __future__ import annotations

import psycopg
import pytest

from advisoros_db.search import fulltext
from advisoros_db.search.connections import connect
from advisoros_db.search.errors import SearchInputError
from tests.search.conftest import Labelled


@pytest.fixture(scope="module")
def extras(labelled: Labelled) -> Labelled:
    firm = labelled.firm
    with psycopg.connect(labelled.db.admin_url) as conn:
        conn.execute(
            "INSERT INTO tasks (organization_id, engagement_id, title, description)"
            " VALUES (%s, %s, 'Reconcile 1099-NEC payments', 'Match contractor payments to bank')",
            (firm.org, firm.engagement),
        )
        conn.execute(
            "INSERT INTO notes (organization_id, author_id, content) VALUES"
            " (%s, %s, 'Client asked about the home office deduction for 2023')",
            (firm.org, firm.user),
        )
        conn.execute(
            "INSERT INTO advisor_profiles (organization_id, user_id, bio) VALUES"
            " (%s, %s, 'Enrolled agent specialising in cryptocurrency taxation and IRS audits')",
            (firm.org, firm.user),
        )
    return labelled


def _search(labelled: Labelled, text: str, **kwargs: object) -> list[fulltext.TextHit]:
    with connect(labelled.db.app_url) as conn:
        return fulltext.search_text(conn, labelled.firm.org, text, **kwargs)  # type: ignore[arg-type]


def test_documents_by_words_with_snippets(labelled: Labelled) -> None:
    hits = _search(labelled, "mortgage interest")
    assert hits[0].id == labelled.firm.documents["mortgage-1098"]
    assert "<mark>" in hits[0].snippet and hits[0].kind == "documents"


@pytest.mark.parametrize(
    ("query", "key"),
    [
        ("1040-ES", "estimated-1040es"),
        ("INV-2024-0042", "invoice-0042"),
        ("EIN 47-3381204", "k1-maple-partners"),
        ('"Form 941"', "payroll-941"),
    ],
)
def test_identifiers(labelled: Labelled, query: str, key: str) -> None:
    assert _search(labelled, query)[0].id == labelled.firm.documents[key]


def test_other_kinds(extras: Labelled) -> None:
    assert [h.kind for h in _search(extras, "reconcile", kinds=["tasks"])] == ["tasks"]
    assert _search(extras, "home office", kinds=["notes"])[0].kind == "notes"
    assert _search(extras, "crypto", kinds=["advisors"]) == []  # words, not substrings...
    assert _search(extras, "crypto", kinds=["advisors"], prefix=True)[0].kind == "advisors"
    hits = _search(extras, "1099-NEC", kinds=["documents", "tasks"])
    assert {h.kind for h in hits} == {"documents", "tasks"}


def test_prefix_for_type_ahead(labelled: Labelled) -> None:
    hits = _search(labelled, "pinecr", prefix=True)
    assert {labelled.firm.documents["w2-pinecrest"]} <= {h.id for h in hits}


def test_fuzzy_client_names(labelled: Labelled) -> None:
    hits = _search(labelled, "Harbr Logistcs", kinds=["clients"])
    assert [h.id for h in hits] == [labelled.firm.client]  # the other firm's client never shows


def test_tenant_filter(labelled: Labelled) -> None:
    mine = set(labelled.firm.documents.values())
    hits = _search(labelled, "W-2", k=50)
    assert hits and {h.id for h in hits} <= mine


@pytest.mark.parametrize(
    "text",
    [
        "!!!",
        "'; DROP TABLE documents; --",
        "налоговая декларация",
        "税务文件",
        '"unterminated',
        "-",
        "OR AND NOT",
        "a:* & | ! ()",
    ],
)
def test_anything_typed_is_answered_not_a_server_error(labelled: Labelled, text: str) -> None:
    for prefix in (False, True):
        hits = _search(labelled, text, prefix=prefix, kinds=list(fulltext.KINDS))
        assert isinstance(hits, list)
    with psycopg.connect(labelled.db.admin_url) as conn:
        assert conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 48  # type: ignore[index]


def test_bad_options_are_refused(labelled: Labelled) -> None:
    with pytest.raises(SearchInputError, match="empty"):
        _search(labelled, "   ")
    with pytest.raises(SearchInputError, match="at most"):
        _search(labelled, "tax " * 500)
    with pytest.raises(SearchInputError, match="choose from"):
        _search(labelled, "tax", kinds=["invoices"])
