"""Relevance of the three kinds of search on the labelled set: recall@k and MRR per mode."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from advisoros_db.search import fulltext, hybrid, semantic
from advisoros_db.search.connections import Connection, tenant_transaction
from advisoros_db.search.embedders import Embedder
from advisoros_db.search.labelled_set import DOCUMENTS, QUERIES, LabelledQuery
from advisoros_db.search.ranking import recall_at_k, reciprocal_rank

MODES = ("text", "semantic", "hybrid")

_INSERT = """
INSERT INTO documents (organization_id, client_id, uploaded_by, file_name, file_url, file_type,
                       category, extracted_text)
VALUES (%s, %s, %s, %s, %s, 'pdf', %s, %s) RETURNING id
"""


@dataclass(frozen=True)
class Scores:
    recall: float
    mrr: float
    queries: int


def load_labelled_set(
    conn: Connection,
    organization_id: uuid.UUID | str,
    client_id: uuid.UUID,
    uploaded_by: uuid.UUID,
) -> dict[str, uuid.UUID]:
    """Insert the labelled documents for one client; returns their ids by key."""
    ids: dict[str, uuid.UUID] = {}
    with tenant_transaction(conn, organization_id) as org:
        for doc in DOCUMENTS:
            row = conn.execute(
                _INSERT,
                (
                    org,
                    client_id,
                    uploaded_by,
                    doc.file_name,
                    f"labelled/{doc.key}",
                    doc.category,
                    doc.text,
                ),
            ).fetchone()
            assert row is not None
            ids[doc.key] = row[0]
    return ids


def ranked(
    conn: Connection,
    organization_id: uuid.UUID | str,
    text: str,
    *,
    mode: str,
    embedder: Embedder,
    k: int,
) -> list[uuid.UUID]:
    if mode == "text":
        return [h.id for h in fulltext.search_text(conn, organization_id, text, k=k)]
    if mode == "semantic":
        hits = semantic.similar_to_text(conn, organization_id, text, embedder, k).hits
        return [h.document_id for h in hits]
    return [h.document_id for h in hybrid.search_hybrid(conn, organization_id, text, embedder, k)]


def evaluate(
    conn: Connection,
    organization_id: uuid.UUID | str,
    documents: dict[str, uuid.UUID],
    embedder: Embedder,
    *,
    k: int = 10,
    style: str | None = None,
) -> dict[str, Scores]:
    """Mean recall@k and MRR of each mode over the labelled queries (optionally of one style)."""
    chosen = [q for q in QUERIES if style is None or q.style == style]
    return _scores(_rankings(conn, organization_id, chosen, embedder, k), documents, k)


def evaluate_styles(
    conn: Connection,
    organization_id: uuid.UUID | str,
    documents: dict[str, uuid.UUID],
    embedder: Embedder,
    *,
    k: int = 10,
) -> dict[str | None, dict[str, Scores]]:
    """`evaluate` over every labelled query (key None) and over each style's queries, from one
    ranking of each query per mode (not a second one, and a second embedding, per style)."""
    rankings = _rankings(conn, organization_id, QUERIES, embedder, k)
    out: dict[str | None, dict[str, Scores]] = {None: _scores(rankings, documents, k)}
    for style in dict.fromkeys(q.style for q in QUERIES):
        of_style = {
            m: [(q, f) for q, f in found if q.style == style] for m, found in rankings.items()
        }
        out[style] = _scores(of_style, documents, k)
    return out


Rankings = dict[str, list[tuple[LabelledQuery, list[uuid.UUID]]]]


def _rankings(
    conn: Connection,
    organization_id: uuid.UUID | str,
    queries: Sequence[LabelledQuery],
    embedder: Embedder,
    k: int,
) -> Rankings:
    return {
        mode: [
            (q, ranked(conn, organization_id, q.text, mode=mode, embedder=embedder, k=k))
            for q in queries
        ]
        for mode in MODES
    }


def _scores(rankings: Rankings, documents: dict[str, uuid.UUID], k: int) -> dict[str, Scores]:
    out: dict[str, Scores] = {}
    for mode, results in rankings.items():
        recalls, rrs = [], []
        for query, found in results:
            relevant = {documents[key] for key in query.relevant}
            recalls.append(recall_at_k(found, relevant, k))
            rrs.append(reciprocal_rank(found, relevant))
        out[mode] = Scores(sum(recalls) / len(results), sum(rrs) / len(results), len(results))
    return out
