"""Semantic search on the labelled set, as the application role, inside one tenant."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from advisoros_db.errors import TenantError
from advisoros_db.search import semantic
from advisoros_db.search.connections import connect
from advisoros_db.search.embedders import E5Embedder
from advisoros_db.search.errors import DocumentNotFound, SearchInputError
from tests.search.conftest import Labelled


def test_text_query_finds_the_document_by_meaning(labelled: Labelled, embedder: E5Embedder) -> None:
    with connect(labelled.db.app_url) as conn:
        result = semantic.similar_to_text(
            conn,
            labelled.firm.org,
            "letter from the IRS saying I underreported income",
            embedder,
            5,
        )
    ids = [hit.document_id for hit in result.hits]
    assert labelled.firm.documents["irs-cp2000"] in ids[:3]
    assert result.path == "exact"  # 36 documents: a small tenant
    assert all(-1.0 <= hit.score <= 1.0 for hit in result.hits)


def test_results_never_leave_the_tenant(labelled: Labelled, embedder: E5Embedder) -> None:
    mine = set(labelled.firm.documents.values())
    theirs = set(labelled.other.documents.values())
    with connect(labelled.db.app_url) as conn:
        for threshold in (semantic.EXACT_THRESHOLD, 0):  # exact path, then the HNSW path
            hits = semantic.similar_to_text(
                conn,
                labelled.other.org,
                "W-2 wage statement",
                embedder,
                30,
                exact_threshold=threshold,
            ).hits
            assert {h.document_id for h in hits} == theirs  # all 12 of theirs, none of mine
            hits = semantic.similar_to_text(
                conn,
                labelled.firm.org,
                "W-2 wage statement",
                embedder,
                30,
                exact_threshold=threshold,
            ).hits
            assert len(hits) == 30 and {h.document_id for h in hits} <= mine


def test_similar_documents_excludes_itself_and_finds_its_kind(labelled: Labelled) -> None:
    docs = labelled.firm.documents
    with connect(labelled.db.app_url) as conn:
        result = semantic.similar_documents(conn, labelled.firm.org, docs["w2-harbor"], k=3)
    ids = [hit.document_id for hit in result.hits]
    assert docs["w2-harbor"] not in ids
    assert docs["w2-harbor-2022"] == ids[0]


def test_guaranteed_k_on_the_index_path(labelled: Labelled, embedder: E5Embedder) -> None:
    # The other firm holds 12 of the 48 chunks: a filtered HNSW scan must still return all k.
    with connect(labelled.db.app_url) as conn:
        result = semantic.similar_to_text(
            conn, labelled.other.org, "bank statement", embedder, 10, exact_threshold=0
        )
    assert len(result.hits) == 10
    # Which plan a 12-chunk tenant gets is the planner's call; test_semantic_recall.py checks
    # that the path reported is the one the plan took.
    assert result.path in {"exact", "index", "index+exact"}


def test_chunk_search_returns_chunks_with_content(labelled: Labelled, embedder: E5Embedder) -> None:
    with connect(labelled.db.app_url) as conn:
        result = semantic.search_chunks(
            conn, labelled.firm.org, embedder.embed_query("Form 1098 mortgage interest"), 4
        )
    assert len(result.hits) == 4
    assert result.hits[0].document_id == labelled.firm.documents["mortgage-1098"]
    assert "Mortgage Interest" in result.hits[0].content


def test_unknown_and_malformed_ids(labelled: Labelled) -> None:
    with connect(labelled.db.app_url) as conn:
        with pytest.raises(DocumentNotFound, match="does not exist"):
            semantic.similar_documents(conn, labelled.firm.org, uuid.uuid4())
        # Another tenant's document is unknown here, not a leak.
        with pytest.raises(DocumentNotFound):
            semantic.similar_documents(
                conn, labelled.firm.org, labelled.other.documents["w2-harbor"]
            )
        with pytest.raises(SearchInputError, match="not a document id"):
            semantic.similar_documents(conn, labelled.firm.org, "1; DROP TABLE documents")
        with pytest.raises(TenantError):
            semantic.similar_documents(conn, "not-an-org", uuid.uuid4())


def test_wrong_dimension_vectors_are_refused(labelled: Labelled) -> None:
    with connect(labelled.db.app_url) as conn:
        with pytest.raises(SearchInputError, match="384 dimensions"):
            semantic.search_vector(conn, labelled.firm.org, np.ones(1536))
        with pytest.raises(SearchInputError, match="unknown embedding model"):
            semantic.search_vector(conn, labelled.firm.org, np.ones(384), model="bert-base")
        # The connection is still usable: nothing reached the server.
        assert conn.execute("SELECT 1").fetchone() == (1,)
