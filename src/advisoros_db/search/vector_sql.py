"""The SQL of semantic search: nearest live chunks (on the HNSW index or exact), the exact best
chunk per document, and the index scan counter that says which path a query took.

The model (and a promoted tenant's id) are literals, never parameters: only then does a generic
prepared plan match the partial index's WHERE (tests/search/test_plans.py).
"""

from __future__ import annotations

from psycopg import sql

from advisoros_db.search import indexes
from advisoros_db.search.embedders import ModelSpec

# A chunk counts only while its document is visible: not soft-deleted, and readable under the
# documents table's own row-level security. Applied inside the candidate search, so a deleted
# document's chunks never take a slot of the LIMIT (they stay embedded: a restore needs no work).
LIVE = sql.SQL(
    "EXISTS (SELECT 1 FROM documents d WHERE d.organization_id = e.organization_id"
    " AND d.id = e.document_id AND d.deleted_at IS NULL)"
)
_EXCLUDE = sql.SQL("(%(exclude)s::uuid IS NULL OR e.document_id <> %(exclude)s::uuid)")


def index_distance(spec: ModelSpec) -> sql.Composed:
    """Cosine distance spelled as the HNSW index spells it; the score every ranking reports."""
    kind = sql.SQL("halfvec" if spec.vector_type == "halfvec" else "vector")
    return sql.SQL("{} <=> %(q)s::{}({})").format(
        indexes.cast_expression(spec), kind, sql.Literal(spec.dimensions)
    )


def nearest_chunks(spec: ModelSpec, *, exact: bool, org_literal: str | None) -> sql.Composed:
    """Nearest live chunks of one tenant and one model, best first.

    The exact variant orders by an expression no index covers, so it always scans the tenant's
    rows. The index variant is pgvector's documented form for iterative scans with
    `relaxed_order`: the walk returns rows only roughly sorted and the planner drops an outer
    ORDER BY on the same column, so the candidates are MATERIALIZED and re-sorted by
    `distance + 0` (an expression the CTE's order cannot prove sorted).
    """
    distance = sql.SQL("e.embedding <=> %(q)s::vector") if exact else index_distance(spec)
    org = sql.Literal(org_literal) if org_literal else sql.SQL("%(org)s")
    return sql.SQL(
        "WITH nearest AS MATERIALIZED ("
        " SELECT e.document_id, e.chunk_index, {distance} AS distance"
        " FROM document_embeddings e"
        " WHERE e.organization_id = {org} AND e.model = {model} AND {exclude} AND {live}"
        " ORDER BY {distance} LIMIT %(limit)s"
        ") SELECT document_id, chunk_index, distance FROM nearest ORDER BY distance + 0"
    ).format(
        distance=distance,
        org=org,
        model=sql.Literal(spec.name),
        exclude=_EXCLUDE,
        live=LIVE,
    )


def best_chunk_per_document(spec: ModelSpec, *, candidates: bool) -> sql.Composed:
    """Each live document's nearest chunk (exactly), the `k` nearest documents first.

    With `candidates`, only the documents in `%(ids)s` (read through the tenant key): the exact
    re-rank of what the index found. Without, every live document of the tenant: the exact path.
    """
    scope = sql.SQL("e.document_id = ANY(%(ids)s::uuid[])") if candidates else _EXCLUDE
    return sql.SQL(
        "SELECT document_id, chunk_index, distance FROM ("
        " SELECT DISTINCT ON (e.document_id) e.document_id, e.chunk_index, {distance} AS distance"
        " FROM document_embeddings e"
        " WHERE e.organization_id = %(org)s AND e.model = {model} AND {scope} AND {live}"
        " ORDER BY e.document_id, distance, e.chunk_index"
        ") best ORDER BY distance, document_id LIMIT %(k)s"
    ).format(distance=index_distance(spec), model=sql.Literal(spec.name), scope=scope, live=LIVE)


def count_live_chunks(spec: ModelSpec) -> sql.Composed:
    """How many chunks of the model the tenant has (up to `%(cap)s`): picks exact or index."""
    return sql.SQL(
        "SELECT count(*) FROM (SELECT 1 FROM document_embeddings e"
        " WHERE e.organization_id = %(org)s AND e.model = {model} LIMIT %(cap)s) capped"
    ).format(model=sql.Literal(spec.name))


# Scans of the model's HNSW index (and the tenant's own, if promoted) in this backend since its
# statistics were last flushed, which never happens inside a transaction: read before and after
# a query, the difference says whether that query walked the graph or the planner chose another
# plan (a tenant's B-tree and a sort, for a tenant too small for the index).
INDEX_SCANS = (
    "SELECT to_regclass(%(tenant_index)s) IS NOT NULL,"
    " coalesce(pg_stat_get_xact_numscans(to_regclass(%(model_index)s)), 0)"
    " + coalesce(pg_stat_get_xact_numscans(to_regclass(%(tenant_index)s)), 0)"
)

DOCUMENT_CHUNKS = """
SELECT e.embedding::vector
FROM documents d
LEFT JOIN document_embeddings e
  ON e.organization_id = d.organization_id AND e.document_id = d.id AND e.model = %(model)s
WHERE d.organization_id = %(org)s AND d.id = %(id)s AND d.deleted_at IS NULL
"""

DETAILS = """
SELECT d.id, d.file_name, e.chunk_index, e.content
FROM documents d
JOIN document_embeddings e
  ON e.organization_id = d.organization_id AND e.document_id = d.id
WHERE d.organization_id = %(org)s AND d.deleted_at IS NULL AND e.model = %(model)s
  AND (d.id, e.chunk_index) IN (SELECT unnest(%(ids)s::uuid[]), unnest(%(chunks)s::int[]))
"""

CHUNK_CONTENTS = """
SELECT document_id, chunk_index, content FROM document_embeddings
WHERE organization_id = %(org)s AND model = %(model)s
  AND (document_id, chunk_index) IN (SELECT unnest(%(ids)s::uuid[]), unnest(%(chunks)s::int[]))
"""
