"""Semantic search inside one tenant: filtered HNSW with iterative scans, an exact path for small
tenants, and a guaranteed LIMIT k (exact fallback when the index returns too few rows)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from psycopg import sql

from advisoros_db.search import indexes, queries
from advisoros_db.search.embedders import DEFAULT_MODEL, Embedder, ModelSpec, model_spec
from advisoros_db.search.errors import DocumentNotFound
from advisoros_db.search.ranking import roll_up
from advisoros_db.search.session import Connection, tenant_transaction

Path = Literal["exact", "index", "index+exact"]

# Tenants with at most this many chunks of a model are searched exactly: scanning a few thousand
# vectors costs a few milliseconds and has perfect recall.
EXACT_THRESHOLD = 5000
# pgvector's ceiling for hnsw.ef_search.
MAX_EF_SEARCH = 1000
# The candidate list of the graph walk. pgvector's default (40) let some queries of the 100k-chunk
# benchmark end in the wrong cluster (recall 0 for that query); see docs/search.md.
MIN_EF_SEARCH = 100
# Chunks fetched per wanted document before rolling up; widened when long documents crowd out.
CHUNKS_PER_DOCUMENT = 4


@dataclass(frozen=True)
class ChunkHit:
    document_id: uuid.UUID
    chunk_index: int
    score: float
    content: str


@dataclass(frozen=True)
class DocumentHit:
    document_id: uuid.UUID
    score: float
    """Cosine similarity of the document's best chunk (1 is identical)."""
    file_name: str
    chunk_index: int
    content: str


@dataclass(frozen=True)
class SemanticResult:
    """Hits plus how they were found (the benchmark and the tests read `path`)."""

    hits: list[DocumentHit]
    path: Path


@dataclass(frozen=True)
class ChunkResult:
    hits: list[ChunkHit]
    path: Path


def _chunk_query(spec: ModelSpec, *, exact: bool, org_literal: str | None) -> sql.Composed:
    """Nearest chunks of one tenant and one model, best first.

    The model (and a promoted tenant's id) are literals, never parameters: only then does a
    generic prepared plan match the partial index's WHERE. The exact variant orders by an
    expression no index covers, so it always scans the tenant's rows.
    """
    expr = indexes.cast_expression(spec)
    kind = sql.SQL("halfvec" if spec.vector_type == "halfvec" else "vector")
    typed_query = sql.SQL("%(q)s::{}({})").format(kind, sql.Literal(spec.dimensions))
    distance = (
        sql.SQL("embedding <=> %(q)s::vector")
        if exact
        else sql.SQL("{} <=> {}").format(expr, typed_query)
    )
    org = sql.Literal(org_literal) if org_literal else sql.SQL("%(org)s")
    return sql.SQL(
        "SELECT document_id, chunk_index, distance FROM ("
        " SELECT document_id, chunk_index, {distance} AS distance"
        " FROM document_embeddings"
        " WHERE organization_id = {org} AND model = {model}"
        " AND (%(exclude)s::uuid IS NULL OR document_id <> %(exclude)s::uuid)"
        " ORDER BY {distance} LIMIT %(limit)s"
        ") nearest ORDER BY distance"
    ).format(distance=distance, org=org, model=sql.Literal(spec.name))


_EXACT_DOCUMENTS = sql.SQL(
    "SELECT document_id, min(embedding <=> %(q)s::vector) AS distance"
    " FROM document_embeddings"
    " WHERE organization_id = %(org)s AND model = {model}"
    " AND (%(exclude)s::uuid IS NULL OR document_id <> %(exclude)s::uuid)"
    " GROUP BY document_id ORDER BY distance LIMIT %(k)s"
)

_COUNT_CHUNKS = sql.SQL(
    "SELECT count(*) FROM (SELECT 1 FROM document_embeddings"
    " WHERE organization_id = %(org)s AND model = {model} LIMIT %(cap)s) capped"
)

_DETAILS = """
SELECT d.id, d.file_name, e.chunk_index, e.content
FROM documents d
JOIN document_embeddings e
  ON e.organization_id = d.organization_id AND e.document_id = d.id
WHERE d.organization_id = %(org)s AND d.deleted_at IS NULL AND e.model = %(model)s
  AND (d.id, e.chunk_index) IN (SELECT unnest(%(ids)s::uuid[]), unnest(%(chunks)s::int[]))
"""

_BEST_CHUNKS = """
SELECT DISTINCT ON (document_id) document_id, chunk_index
FROM document_embeddings
WHERE organization_id = %(org)s AND model = %(model)s AND document_id = ANY(%(ids)s)
ORDER BY document_id, embedding <=> %(q)s::vector
"""

_DOCUMENT_VECTOR = """
SELECT avg(e.embedding::vector), count(*)
FROM documents d
LEFT JOIN document_embeddings e
  ON e.organization_id = d.organization_id AND e.document_id = d.id AND e.model = %(model)s
WHERE d.organization_id = %(org)s AND d.id = %(id)s AND d.deleted_at IS NULL
GROUP BY d.id
"""


def _count_chunks(conn: Connection, org: str, spec: ModelSpec, cap: int) -> int:
    query = _COUNT_CHUNKS.format(model=sql.Literal(spec.name))
    row = conn.execute(query, {"org": org, "cap": cap}).fetchone()
    return int(row[0]) if row else 0


def _tenant_index_literal(conn: Connection, org: str, spec: ModelSpec) -> str | None:
    """The org id, when this tenant was promoted to its own partial index."""
    row = conn.execute(
        "SELECT to_regclass(%s) IS NOT NULL", (indexes.index_name(spec.name, org),)
    ).fetchone()
    return org if row and row[0] else None


def _set_scan(conn: Connection, limit: int) -> None:
    # Per transaction only: relaxed_order keeps scanning the graph until `limit` rows pass the
    # tenant filter (or hnsw.max_scan_tuples is reached); the outer ORDER BY restores the order.
    conn.execute("SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)")
    # psycopg prepares a statement after `prepare_threshold` runs and PostgreSQL may then settle on
    # a generic plan, costed without the tenant or the LIMIT: it sorts the tenant's rows instead of
    # walking the HNSW graph. A custom plan per search keeps the index (tests/search/test_plans.py).
    conn.execute("SELECT set_config('plan_cache_mode', 'force_custom_plan', true)")
    conn.execute(
        "SELECT set_config('hnsw.ef_search', %s, true)",
        (str(min(MAX_EF_SEARCH, max(MIN_EF_SEARCH, 2 * limit))),),
    )


def _index_chunks(
    conn: Connection,
    org: str,
    spec: ModelSpec,
    vector: NDArray[np.float32],
    *,
    limit: int,
    exclude: uuid.UUID | None,
) -> list[tuple[uuid.UUID, int, float]]:
    _set_scan(conn, limit)
    query = _chunk_query(spec, exact=False, org_literal=_tenant_index_literal(conn, org, spec))
    params = {"q": vector, "org": org, "limit": limit, "exclude": exclude}
    return [(r[0], r[1], float(r[2])) for r in conn.execute(query, params).fetchall()]


def _exact_chunks(
    conn: Connection,
    org: str,
    spec: ModelSpec,
    vector: NDArray[np.float32],
    *,
    limit: int,
    exclude: uuid.UUID | None,
) -> list[tuple[uuid.UUID, int, float]]:
    query = _chunk_query(spec, exact=True, org_literal=None)
    params = {"q": vector, "org": org, "limit": limit, "exclude": exclude}
    return [(r[0], r[1], float(r[2])) for r in conn.execute(query, params).fetchall()]


def _details(
    conn: Connection, org: str, spec: ModelSpec, picks: Sequence[tuple[uuid.UUID, int, float]]
) -> list[DocumentHit]:
    if not picks:
        return []
    rows = conn.execute(
        _DETAILS,
        {
            "org": org,
            "model": spec.name,
            "ids": [p[0] for p in picks],
            "chunks": [p[1] for p in picks],
        },
    ).fetchall()
    found = {(r[0], r[2]): (r[1], r[3]) for r in rows}
    hits = []
    for doc, chunk, distance in picks:
        if (doc, chunk) in found:  # a soft-deleted document drops out here
            name, content = found[(doc, chunk)]
            hits.append(DocumentHit(doc, 1.0 - distance, name, chunk, content))
    return hits


def search_vector(
    conn: Connection,
    organization_id: uuid.UUID | str,
    vector: Sequence[float] | NDArray[np.floating],
    k: int = 10,
    *,
    model: str = DEFAULT_MODEL,
    exclude_document: uuid.UUID | None = None,
    exact_threshold: int = EXACT_THRESHOLD,
) -> SemanticResult:
    """The `k` documents of one tenant nearest to `vector`, rolled up from their best chunk."""
    spec = model_spec(model)
    q = queries.check_vector(vector, spec.dimensions)
    k = queries.check_k(k)
    with tenant_transaction(conn, organization_id) as org:
        chunks = _count_chunks(conn, org, spec, exact_threshold + 1)
        path: Path = "exact"
        picks: list[tuple[uuid.UUID, int, float]] = []
        if chunks > exact_threshold:
            path = "index"
            limit = k * CHUNKS_PER_DOCUMENT
            while True:
                found = _index_chunks(conn, org, spec, q, limit=limit, exclude=exclude_document)
                best = roll_up(((doc, -dist) for doc, _, dist in found), k)
                keep = {doc: -score for doc, score in best}
                picks = []
                for doc, chunk, dist in found:
                    if doc in keep and keep[doc] == dist:
                        picks.append((doc, chunk, dist))
                        del keep[doc]
                if len(picks) >= k or len(found) < limit or limit >= MAX_EF_SEARCH:
                    break
                limit = min(MAX_EF_SEARCH, limit * 4)
            if len(picks) < k:
                path = "index+exact"
        if path != "index":
            params = {"q": q, "org": org, "k": k, "exclude": exclude_document}
            rows = conn.execute(
                _EXACT_DOCUMENTS.format(model=sql.Literal(spec.name)), params
            ).fetchall()
            best_chunks = dict(
                (r[0], r[1])
                for r in conn.execute(
                    _BEST_CHUNKS,
                    {"org": org, "model": spec.name, "ids": [r[0] for r in rows], "q": q},
                ).fetchall()
            )
            picks = [(r[0], best_chunks[r[0]], float(r[1])) for r in rows]
        return SemanticResult(_details(conn, org, spec, picks), path)


def search_chunks(
    conn: Connection,
    organization_id: uuid.UUID | str,
    vector: Sequence[float] | NDArray[np.floating],
    k: int = 10,
    *,
    model: str = DEFAULT_MODEL,
    exact_threshold: int = EXACT_THRESHOLD,
) -> ChunkResult:
    """The `k` chunks of one tenant nearest to `vector` (chunk-level, no roll-up)."""
    spec = model_spec(model)
    q = queries.check_vector(vector, spec.dimensions)
    k = queries.check_k(k)
    with tenant_transaction(conn, organization_id) as org:
        available = _count_chunks(conn, org, spec, max(exact_threshold, k) + 1)
        path: Path = "exact"
        if available > exact_threshold:
            path = "index"
            rows = _index_chunks(conn, org, spec, q, limit=k, exclude=None)
            if len(rows) < min(k, available):
                path = "index+exact"
        if path != "index":
            rows = _exact_chunks(conn, org, spec, q, limit=k, exclude=None)
        contents = dict(
            ((r[0], r[1]), r[2])
            for r in conn.execute(
                "SELECT document_id, chunk_index, content FROM document_embeddings"
                " WHERE organization_id = %(org)s AND model = %(model)s"
                " AND (document_id, chunk_index) IN"
                " (SELECT unnest(%(ids)s::uuid[]), unnest(%(chunks)s::int[]))",
                {
                    "org": org,
                    "model": spec.name,
                    "ids": [r[0] for r in rows],
                    "chunks": [r[1] for r in rows],
                },
            ).fetchall()
        )
        hits = [ChunkHit(d, c, 1.0 - dist, contents.get((d, c), "")) for d, c, dist in rows]
        return ChunkResult(hits, path)


def similar_to_text(
    conn: Connection,
    organization_id: uuid.UUID | str,
    text: str,
    embedder: Embedder,
    k: int = 10,
    *,
    exact_threshold: int = EXACT_THRESHOLD,
) -> SemanticResult:
    """Documents of one tenant whose meaning is nearest to `text` (embedded as a query)."""
    cleaned = queries.clean_query(text)
    return search_vector(
        conn,
        organization_id,
        embedder.embed_query(cleaned),
        k,
        model=embedder.model,
        exact_threshold=exact_threshold,
    )


def similar_documents(
    conn: Connection,
    organization_id: uuid.UUID | str,
    document_id: uuid.UUID | str,
    k: int = 10,
    *,
    model: str = DEFAULT_MODEL,
    exact_threshold: int = EXACT_THRESHOLD,
) -> SemanticResult:
    """ "Find documents similar to this one": the mean of its chunk vectors, itself excluded."""
    doc = queries.parse_id(document_id)
    spec = model_spec(model)
    with tenant_transaction(conn, organization_id) as org:
        row = conn.execute(_DOCUMENT_VECTOR, {"org": org, "id": doc, "model": spec.name}).fetchone()
    if row is None:
        raise DocumentNotFound(f"document {doc} does not exist in organization {org}")
    if row[0] is None:
        raise DocumentNotFound(
            f"document {doc} has no {spec.name} embeddings yet; run `advisoros-db embed --org {org}`"
        )
    mean = np.asarray(row[0].to_numpy(), dtype=np.float32)
    return search_vector(
        conn,
        org,
        mean / np.linalg.norm(mean),
        k,
        model=spec.name,
        exclude_document=doc,
        exact_threshold=exact_threshold,
    )
