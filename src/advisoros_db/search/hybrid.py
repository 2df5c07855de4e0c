"""Hybrid search: full-text and semantic candidates of one tenant fused by reciprocal rank."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from advisoros_db.search import fulltext, queries, semantic
from advisoros_db.search.connections import Connection
from advisoros_db.search.embedders import Embedder
from advisoros_db.search.ranking import reciprocal_rank_fusion

# Candidates each branch contributes before fusion.
CANDIDATES = 50


@dataclass(frozen=True)
class HybridHit:
    document_id: uuid.UUID
    score: float
    """Reciprocal-rank-fusion score: higher is better; not comparable across queries."""
    text_rank: int | None
    semantic_rank: int | None
    title: str


def search_hybrid(
    conn: Connection,
    organization_id: uuid.UUID | str,
    text: str,
    embedder: Embedder,
    k: int = 10,
    *,
    exact_threshold: int = semantic.EXACT_THRESHOLD,
) -> list[HybridHit]:
    """Documents matching `text` by words or by meaning; both branches filter by the tenant."""
    cleaned = queries.clean_query(text)
    k = queries.check_k(k)
    pool = max(CANDIDATES, k)
    by_text = fulltext.search_text(conn, organization_id, cleaned, kinds=["documents"], k=pool)
    by_meaning = semantic.similar_to_text(
        conn, organization_id, cleaned, embedder, pool, exact_threshold=exact_threshold
    ).hits
    text_ids = [hit.id for hit in by_text]
    meaning_ids = [hit.document_id for hit in by_meaning]
    titles = {hit.id: hit.title for hit in by_text} | {
        h.document_id: h.file_name for h in by_meaning
    }
    fused = reciprocal_rank_fusion([text_ids, meaning_ids], k)
    return [
        HybridHit(
            doc,
            score,
            text_ids.index(doc) + 1 if doc in text_ids else None,
            meaning_ids.index(doc) + 1 if doc in meaning_ids else None,
            titles[doc],
        )
        for doc, score in fused
    ]
