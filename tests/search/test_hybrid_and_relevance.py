"""Hybrid fusion, and relevance on the labelled set: every mode finds what it should."""

from __future__ import annotations

import pytest

from advisoros_db.search import hybrid, relevance
from advisoros_db.search.connections import connect
from advisoros_db.search.embedders import E5Embedder
from advisoros_db.search.errors import SearchInputError
from tests.search.conftest import Labelled


def test_hybrid_fuses_both_branches(labelled: Labelled, embedder: E5Embedder) -> None:
    docs = labelled.firm.documents
    with connect(labelled.db.app_url) as conn:
        hits = hybrid.search_hybrid(conn, labelled.firm.org, "1040-ES", embedder, 5)
        assert hits[0].document_id == docs["estimated-1040es"]
        assert hits[0].text_rank == 1 and hits[0].semantic_rank is not None
        # A paraphrase no document spells: only the semantic branch contributes.
        hits = hybrid.search_hybrid(
            conn, labelled.firm.org, "proof of a gift to charity", embedder, 5
        )
        assert docs["receipt-donation"] in [h.document_id for h in hits[:3]]
        assert all(h.score > 0 for h in hits)


def test_hybrid_stays_in_the_tenant(labelled: Labelled, embedder: E5Embedder) -> None:
    theirs = set(labelled.other.documents.values())
    with connect(labelled.db.app_url) as conn:
        hits = hybrid.search_hybrid(conn, labelled.other.org, "W-2 Harbor Logistics", embedder, 50)
    assert {h.document_id for h in hits} <= theirs and len(hits) == 12


def test_hybrid_bad_input(labelled: Labelled, embedder: E5Embedder) -> None:
    with connect(labelled.db.app_url) as conn:
        with pytest.raises(SearchInputError, match="empty"):
            hybrid.search_hybrid(conn, labelled.firm.org, " \x00 ", embedder)
        assert hybrid.search_hybrid(conn, labelled.firm.org, "?!", embedder, 3)  # semantic side


def test_relevance_on_the_labelled_set(labelled: Labelled, embedder: E5Embedder) -> None:
    firm = labelled.firm
    with connect(labelled.db.app_url) as conn:
        by_style = relevance.evaluate_styles(conn, firm.org, firm.documents, embedder)
        # One style evaluated on its own scores as its share of the one ranking above.
        alone = relevance.evaluate(conn, firm.org, firm.documents, embedder, style="identifier")
    assert alone == by_style["identifier"]
    scores = by_style[None]
    styles = [s for s in by_style if s is not None]
    assert sorted(styles) == ["identifier", "keyword", "paraphrase"]
    for mode, overall in scores.items():
        assert overall.queries == sum(by_style[s][mode].queries for s in styles)
        weighted = sum(by_style[s][mode].recall * by_style[s][mode].queries for s in styles)
        assert weighted / overall.queries == pytest.approx(overall.recall)
    # Floors well below the measured figures in docs/search.md: a regression, not noise, fails.
    assert scores["text"].recall >= 0.5
    assert scores["semantic"].recall >= 0.7
    assert scores["hybrid"].recall >= max(scores["text"].recall, 0.7)
    assert scores["hybrid"].mrr >= 0.6
