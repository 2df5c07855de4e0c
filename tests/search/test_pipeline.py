"""The embedding pipeline: provenance, atomic replacement, reuse of unchanged chunks, failure state."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import numpy as np
import psycopg
import pytest

from advisoros_db.search import pipeline
from advisoros_db.search.connections import connect
from advisoros_db.search.embedders import E5Embedder, Vectors
from advisoros_db.search.errors import DocumentNotFound, EmbedderError
from advisoros_db.search.labelled_set import DOCUMENTS, LabelledDocument
from tests.search.corpus import add_document, make_tenant
from tests.support import PgDatabase


class CountingEmbedder(E5Embedder):
    """The real model, counting how many passages it was asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded = 0

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        self.embedded += len(texts)
        return super().embed_passages(texts)


class BrokenEmbedder(E5Embedder):
    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        raise EmbedderError("the model crashed")


def _rows(db: PgDatabase, doc: uuid.UUID) -> list[tuple[object, ...]]:
    with psycopg.connect(db.admin_url) as conn:
        return conn.execute(
            "SELECT chunk_index, content_hash, model, dimensions, token_count, metadata,"
            " vector_dims(embedding), id FROM document_embeddings WHERE document_id = %s"
            " ORDER BY chunk_index",
            (doc,),
        ).fetchall()


def _state(db: PgDatabase, doc: uuid.UUID) -> tuple[object, ...] | None:
    with psycopg.connect(db.admin_url) as conn:
        return conn.execute(
            "SELECT status, retry_count, last_error, completed_at IS NOT NULL"
            " FROM document_processing WHERE document_id = %s",
            (doc,),
        ).fetchone()


LONG = LabelledDocument(
    "long-return",
    "2023 Form 1040 full return.pdf",
    "tax_return",
    " ".join(f"Schedule {i} line {i} amount {i * 100} statement attached." for i in range(300)),
)


def test_long_document_is_chunked_with_provenance(search_db: PgDatabase) -> None:
    tenant = make_tenant(search_db.admin_url, "Chunky CPA")
    doc = add_document(search_db.admin_url, tenant, LONG)
    embedder = CountingEmbedder()
    with connect(search_db.app_url) as conn:
        outcome = pipeline.embed_document(conn, tenant.org, doc, embedder)
    rows = _rows(search_db, doc)
    assert outcome.chunks == len(rows) > 5
    assert [r[0] for r in rows] == list(range(len(rows)))
    for _, digest, model, dims, tokens, metadata, stored_dims, _ in rows:
        assert model == "multilingual-e5-small" and dims == stored_dims == 384
        assert isinstance(digest, str) and len(digest) == 64
        assert isinstance(tokens, int) and 0 < tokens <= pipeline.CHUNK_TOKENS
        assert set(metadata) == {"char_start", "char_end"}  # type: ignore[arg-type]
    assert _state(search_db, doc) == ("done", 0, None, True)


def test_reembedding_reuses_unchanged_chunks_and_replaces_atomically(search_db: PgDatabase) -> None:
    tenant = make_tenant(search_db.admin_url, "Reuse CPA")
    doc = add_document(search_db.admin_url, tenant, LONG)
    embedder = CountingEmbedder()
    with connect(search_db.app_url) as conn:
        first = pipeline.embed_document(conn, tenant.org, doc, embedder)
        assert first.computed == first.chunks
        again = pipeline.embed_document(conn, tenant.org, doc, embedder)
        assert again.computed == 0  # same hashes, same model: nothing recomputed
        before = _rows(search_db, doc)
        with psycopg.connect(search_db.admin_url) as admin:
            admin.execute(
                "UPDATE documents SET extracted_text = extracted_text || ' Amended page.',"
                " updated_at = now() WHERE id = %s",
                (doc,),
            )
        assert pipeline.pending_documents(conn, embedder.model, tenant.org) == [
            (str(tenant.org), doc)
        ]
        changed = pipeline.embed_document(conn, tenant.org, doc, embedder)
    after = _rows(search_db, doc)
    assert changed.computed == 1  # only the last window changed
    assert [r[1] for r in after[:-1]] == [r[1] for r in before[:-1]]
    assert after[-1][1] != before[-1][1]
    assert embedder.embedded == first.chunks + 1


def test_a_failed_embedding_keeps_the_previous_chunks(search_db: PgDatabase) -> None:
    tenant = make_tenant(search_db.admin_url, "Fragile CPA")
    doc = add_document(search_db.admin_url, tenant, DOCUMENTS[0])
    with connect(search_db.app_url) as conn:
        pipeline.embed_document(conn, tenant.org, doc, E5Embedder())
        before = _rows(search_db, doc)
        with psycopg.connect(search_db.admin_url) as admin:
            admin.execute("UPDATE documents SET extracted_text = 'new text' WHERE id = %s", (doc,))
        for attempt in (1, 2):
            with pytest.raises(EmbedderError, match="crashed"):
                pipeline.embed_document(conn, tenant.org, doc, BrokenEmbedder())
            assert _state(search_db, doc) == ("failed", attempt, "the model crashed", True)
    assert _rows(search_db, doc) == before


def test_unknown_document_and_other_tenants_document(search_db: PgDatabase) -> None:
    mine = make_tenant(search_db.admin_url, "Mine CPA")
    theirs = make_tenant(search_db.admin_url, "Theirs CPA")
    their_doc = add_document(search_db.admin_url, theirs, DOCUMENTS[1])
    with connect(search_db.app_url) as conn:
        with pytest.raises(DocumentNotFound):
            pipeline.embed_document(conn, mine.org, uuid.uuid4(), E5Embedder())
        with pytest.raises(DocumentNotFound):
            pipeline.embed_document(conn, mine.org, their_doc, E5Embedder())
    assert _rows(search_db, their_doc) == []


def test_embed_pending_reports_progress_per_tenant(search_db: PgDatabase) -> None:
    first = make_tenant(search_db.admin_url, "First CPA")
    second = make_tenant(search_db.admin_url, "Second CPA")
    for doc in DOCUMENTS[:3]:
        add_document(search_db.admin_url, first, doc)
    add_document(search_db.admin_url, second, DOCUMENTS[3])
    seen: list[tuple[int, int]] = []
    # As the application role, scoped to one organization.
    report = pipeline.embed_pending(
        search_db.app_url,
        first.org,
        embedder=E5Embedder(),
        progress=lambda d, t: seen.append((d, t)),
    )
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert {o.document_id for o in report.embedded} == set(first.documents.values())
    # The admin URL sees every tenant; only the second one is still pending.
    report = pipeline.embed_pending(search_db.admin_url, embedder=E5Embedder())
    assert [o.document_id for o in report.embedded] == list(second.documents.values())
    assert pipeline.embed_pending(search_db.admin_url, embedder=E5Embedder()).embedded == []


def test_vectors_are_normalised(search_db: PgDatabase) -> None:
    vectors = E5Embedder().embed_passages(["W-2", "Schedule K-1 partner share"])
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
