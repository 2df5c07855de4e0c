"""Semantic search inside one tenant: filtered HNSW with iterative scans, an exact path for small
tenants, and a guaranteed LIMIT k of live documents (exact fallback when the index finds too few).

Only live documents are candidates (soft-deleted ones are filtered inside the graph walk), every
candidate is re-ranked on all its chunks, and results are sorted by the score they report."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from advisoros_db.search import indexes, queries, vector_sql
from advisoros_db.search.connections import Connection, tenant_transaction
from advisoros_db.search.embedders import DEFAULT_MODEL, Embedder, ModelSpec, model_spec
from advisoros_db.search.errors import DocumentNotFound, SearchInputError

Path = Literal["exact", "index", "index+exact"]

# Tenants with at most this many chunks of a model are searched exactly: scanning a few thousand
# vectors costs a few milliseconds and has perfect recall.
EXACT_THRESHOLD = 5000
# The graph walk's candidate list (pgvector's ceiling is 1,000). Chosen from measurements
# (docs/search.md, "Recall per query"): pgvector's default (40) and the earlier 100 left single
# queries far below the mean recall, mostly on topics where the tenant is sparse and for document
# centroids between clusters.
EF_SEARCH = 400
# Chunks fetched per wanted document before rolling up; widened (x4) while the chunks found hold
# fewer than k live documents. Long documents crowd out; a deeper walk also raises recall.
CHUNKS_PER_DOCUMENT = 10
# The deepest candidate list before the exact path takes over.
MAX_CANDIDATE_CHUNKS = 4000
# similar_documents walks the graph from the document's centroid and from this many of its chunks
# nearest that centroid (a centroid lies between clusters, where a greedy walk can go astray; its
# chunks lie in the clusters it is near), then re-ranks every document found exactly.
SIMILAR_PROBES = 4


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
    """Cosine similarity of the document's best chunk (1 is identical): 1 - the distance ranked by."""
    file_name: str
    chunk_index: int
    content: str


@dataclass(frozen=True)
class SemanticResult:
    """Hits plus how they were found (the benchmark and the tests read `path`)."""

    hits: list[DocumentHit]
    path: Path
    """"index" only when the HNSW index was scanned (its scan counter moved) and answered alone;
    "index+exact" when it was scanned and then the exact path answered; "exact" otherwise."""


@dataclass(frozen=True)
class ChunkResult:
    hits: list[ChunkHit]
    path: Path


Pick = tuple[uuid.UUID, int, float]
"""(document, chunk, distance)"""


def _count_chunks(conn: Connection, org: str, spec: ModelSpec, cap: int) -> int:
    row = conn.execute(vector_sql.count_live_chunks(spec), {"org": org, "cap": cap}).fetchone()
    return int(row[0]) if row else 0


def _index_state(conn: Connection, org: str, spec: ModelSpec) -> tuple[str | None, int]:
    """(the org id if this tenant has its own partial index, HNSW scans so far)."""
    row = conn.execute(
        vector_sql.INDEX_SCANS,
        {
            "model_index": indexes.index_name(spec.name),
            "tenant_index": indexes.index_name(spec.name, org),
        },
    ).fetchone()
    assert row is not None
    return (org if row[0] else None), int(row[1])


def _set_scan(conn: Connection) -> str:
    """Settings for the graph walk, for this transaction only; returns enable_sort's value."""
    row = conn.execute(
        "SELECT current_setting('enable_sort'),"
        # relaxed_order keeps walking the graph until `limit` rows pass the tenant and
        # live-document filters (or hnsw.max_scan_tuples is reached).
        " set_config('hnsw.iterative_scan', 'relaxed_order', true),"
        " set_config('hnsw.ef_search', %s, true),"
        # psycopg prepares a statement after `prepare_threshold` runs and PostgreSQL may then
        # settle on a generic plan, costed without the tenant or the LIMIT, that sorts the
        # tenant's rows instead of walking the graph (tests/search/test_plans.py).
        " set_config('plan_cache_mode', 'force_custom_plan', true),"
        # The tenant is above the exact threshold, where the index wins (docs/search.md); the
        # planner costs each live-document probe across every tax-year partition of documents
        # and would often sort the tenant's chunks instead. A plan that still avoids the index
        # is reported as exact (the scan counter does not move).
        " set_config('enable_sort', 'off', true)",
        (str(EF_SEARCH),),
    ).fetchone()
    assert row is not None
    return str(row[0])


def _end_scan(conn: Connection, enable_sort: str) -> None:
    # The exact re-rank and the details need their sorts back.
    conn.execute("SELECT set_config('enable_sort', %s, true)", (enable_sort,))


def _nearest_chunks(
    conn: Connection,
    org: str,
    spec: ModelSpec,
    vector: NDArray[np.float32],
    *,
    limit: int,
    exclude: uuid.UUID | None,
    exact: bool,
    org_literal: str | None = None,
) -> list[Pick]:
    query = vector_sql.nearest_chunks(spec, exact=exact, org_literal=org_literal)
    params = {"q": vector, "org": org, "limit": limit, "exclude": exclude}
    return [(r[0], r[1], float(r[2])) for r in conn.execute(query, params).fetchall()]


def _best_chunks(
    conn: Connection,
    org: str,
    spec: ModelSpec,
    vector: NDArray[np.float32],
    k: int,
    *,
    candidates: Sequence[uuid.UUID] | None = None,
    exclude: uuid.UUID | None = None,
) -> list[Pick]:
    """Documents by their exactly nearest chunk: among `candidates`, or the whole tenant."""
    query = vector_sql.best_chunk_per_document(spec, candidates=candidates is not None)
    params = {"q": vector, "org": org, "k": k, "ids": list(candidates or ()), "exclude": exclude}
    return [(r[0], r[1], float(r[2])) for r in conn.execute(query, params).fetchall()]


def _index_candidates(
    conn: Connection,
    org: str,
    spec: ModelSpec,
    probes: Sequence[NDArray[np.float32]],
    *,
    k: int,
    exclude: uuid.UUID | None,
) -> tuple[set[uuid.UUID] | None, bool]:
    """Live documents the graph walks from `probes` find (None when the walk from the first, the
    query itself, stopped short), and whether the HNSW index was scanned.

    Each walk fetches k x CHUNKS_PER_DOCUMENT chunks, widened (x4) while the walks together found
    fewer than k documents. A walk that returns fewer chunks than asked for gave up
    (hnsw.max_scan_tuples: a tenant with a tiny share of the index) or ran out of chunks: its
    candidates are not the nearest ones, and the exact path answers.
    """
    enable_sort = _set_scan(conn)
    org_literal, before = _index_state(conn, org, spec)
    limit = k * CHUNKS_PER_DOCUMENT
    found: set[uuid.UUID] | None = set()
    while found is not None:
        found = set()
        for n, probe in enumerate(probes):
            chunks = _nearest_chunks(
                conn,
                org,
                spec,
                probe,
                limit=limit,
                exclude=exclude,
                exact=False,
                org_literal=org_literal,
            )
            if n == 0 and len(chunks) < limit:
                found = None
                break
            found.update(doc for doc, _, _ in chunks)
        if found is None or len(found) >= k or limit >= MAX_CANDIDATE_CHUNKS:
            break
        limit = min(MAX_CANDIDATE_CHUNKS, limit * 4)
    _end_scan(conn, enable_sort)
    return found, _index_state(conn, org, spec)[1] > before


def _nearest_documents(
    conn: Connection,
    org: str,
    spec: ModelSpec,
    vector: NDArray[np.float32],
    k: int,
    *,
    exclude: uuid.UUID | None,
    exact_threshold: int,
    probes: Sequence[NDArray[np.float32]] = (),
) -> SemanticResult:
    """The k live documents nearest to `vector` by their best chunk, best first.

    Large tenants walk the HNSW graph (from `vector` and any extra `probes`) for candidates, whose
    every chunk is then ranked exactly: the score reported is always the document's true best
    distance. Fewer than k live candidates, or a plan that did not use the index, means the
    exact path, and the result says so.
    """
    path: Path = "exact"
    if _count_chunks(conn, org, spec, exact_threshold + 1) > exact_threshold:
        candidates, scanned = _index_candidates(
            conn, org, spec, [vector, *probes], k=k, exclude=exclude
        )
        if candidates is not None and len(candidates) >= k:
            picks = _best_chunks(conn, org, spec, vector, k, candidates=sorted(candidates))
            if len(picks) >= k:  # a document deleted since its walk is no candidate
                return SemanticResult(
                    _details(conn, org, spec, picks), "index" if scanned else "exact"
                )
        path = "index+exact" if scanned else "exact"
    picks = _best_chunks(conn, org, spec, vector, k, exclude=exclude)
    return SemanticResult(_details(conn, org, spec, picks), path)


def _details(
    conn: Connection, org: str, spec: ModelSpec, picks: Sequence[Pick]
) -> list[DocumentHit]:
    if not picks:
        return []
    rows = conn.execute(
        vector_sql.DETAILS,
        {
            "org": org,
            "model": spec.name,
            "ids": [p[0] for p in picks],
            "chunks": [p[1] for p in picks],
        },
    ).fetchall()
    found = {(r[0], r[2]): (r[1], r[3]) for r in rows}
    hits = [
        DocumentHit(doc, 1.0 - distance, found[(doc, chunk)][0], chunk, found[(doc, chunk)][1])
        for doc, chunk, distance in picks
        if (doc, chunk) in found  # deleted since it was ranked
    ]
    return sorted(hits, key=lambda hit: -hit.score)


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
    """The `k` live documents of one tenant nearest to `vector`, rolled up from their best chunk."""
    spec = model_spec(model)
    q = queries.check_vector(vector, spec.dimensions)
    k = queries.check_k(k)
    with tenant_transaction(conn, organization_id) as org:
        return _nearest_documents(
            conn, org, spec, q, k, exclude=exclude_document, exact_threshold=exact_threshold
        )


def search_chunks(
    conn: Connection,
    organization_id: uuid.UUID | str,
    vector: Sequence[float] | NDArray[np.floating],
    k: int = 10,
    *,
    model: str = DEFAULT_MODEL,
    exact_threshold: int = EXACT_THRESHOLD,
) -> ChunkResult:
    """The `k` live chunks of one tenant nearest to `vector` (chunk-level, no roll-up)."""
    spec = model_spec(model)
    q = queries.check_vector(vector, spec.dimensions)
    k = queries.check_k(k)
    with tenant_transaction(conn, organization_id) as org:
        path: Path = "exact"
        rows: list[Pick] | None = None
        if _count_chunks(conn, org, spec, exact_threshold + 1) > exact_threshold:
            enable_sort = _set_scan(conn)
            org_literal, before = _index_state(conn, org, spec)
            rows = _nearest_chunks(
                conn, org, spec, q, limit=k, exclude=None, exact=False, org_literal=org_literal
            )
            _end_scan(conn, enable_sort)
            scanned = _index_state(conn, org, spec)[1] > before
            path = "index" if scanned else "exact"
            if len(rows) < k:  # the walk ran out (hnsw.max_scan_tuples): be sure, scan exactly
                path, rows = ("index+exact" if scanned else "exact"), None
        if rows is None:
            rows = _nearest_chunks(conn, org, spec, q, limit=k, exclude=None, exact=True)
        ids = {"ids": [r[0] for r in rows], "chunks": [r[1] for r in rows]}
        contents = {
            (r[0], r[1]): r[2]
            for r in conn.execute(
                vector_sql.CHUNK_CONTENTS, {"org": org, "model": spec.name, **ids}
            ).fetchall()
        }
        hits = [ChunkHit(d, c, 1.0 - dist, contents.get((d, c), "")) for d, c, dist in rows]
        return ChunkResult(sorted(hits, key=lambda hit: -hit.score), path)


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
    """ "Find documents similar to this one": the live documents whose best chunk is nearest to
    the normalised mean of its chunk vectors, itself excluded."""
    doc = queries.parse_id(document_id)
    spec = model_spec(model)
    with tenant_transaction(conn, organization_id) as org:
        rows = conn.execute(
            vector_sql.DOCUMENT_CHUNKS, {"org": org, "id": doc, "model": spec.name}
        ).fetchall()
        if not rows:
            raise DocumentNotFound(f"document {doc} does not exist in organization {org}")
        if rows[0][0] is None:
            raise DocumentNotFound(
                f"document {doc} has no {spec.name} embeddings yet;"
                f" run `advisoros-db embed --org {org}`"
            )
        chunks = np.asarray([r[0].to_numpy() for r in rows], dtype=np.float64)
        centroid = _unit(chunks.mean(axis=0))
        units = chunks / np.linalg.norm(chunks, axis=1, keepdims=True)
        central = np.argsort(-(units @ centroid), kind="stable")[:SIMILAR_PROBES]
        return _nearest_documents(
            conn,
            org,
            spec,
            queries.check_vector(centroid, spec.dimensions),
            queries.check_k(k),
            exclude=doc,
            exact_threshold=exact_threshold,
            probes=[units[i].astype(np.float32) for i in central],
        )


def _unit(vector: NDArray[np.float64]) -> NDArray[np.float32]:
    norm = float(np.linalg.norm(vector))
    if norm == 0.0:  # chunks that cancel out: no direction to search in
        raise SearchInputError("the document's chunk vectors average to zero; it has no centroid")
    return np.asarray(vector / norm, dtype=np.float32)
