"""Relevance of the three kinds of search on the labelled set: recall@k and MRR per mode."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from advisoros_db.search import fulltext, hybrid, semantic
from advisoros_db.search.connections import Connection, tenant_transaction
from advisoros_db.search.embedders import Embedder
from advisoros_db.search.labelled_set import DOCUMENTS, QUERIES
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
    out: dict[str, Scores] = {}
    for mode in MODES:
        recalls, rrs = [], []
        for query in chosen:
            relevant = {documents[key] for key in query.relevant}
            found = ranked(conn, organization_id, query.text, mode=mode, embedder=embedder, k=k)
            recalls.append(recall_at_k(found, relevant, k))
            rrs.append(reciprocal_rank(found, relevant))
        out[mode] = Scores(sum(recalls) / len(chosen), sum(rrs) / len(chosen), len(chosen))
    return out
