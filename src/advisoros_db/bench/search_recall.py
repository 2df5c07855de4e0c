"""Recall per query of semantic search against an exact answer computed here, in numpy, from the
vectors the corpus was built from: not the API's own exact path, not SQL.

Three kinds of query per tenant: near one of its chunks, on any topic of the corpus (including
topics the tenant is sparse on), and "documents similar to this one". Each is measured with every
document live and again after soft deletes that hit the queries' own best answers.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from advisoros_db.search import semantic
from advisoros_db.search.connections import Connection

if TYPE_CHECKING:
    from advisoros_db.bench.search_cases import Tenant

K = 10
# The synthetic corpus's documents (bench/search_cases.py): chunk n belongs to document n // 5.
CHUNKS_PER_DOCUMENT = 5
# Distances within this of the k-th true distance are ties: either document is a right answer.
TIE = 1e-5
KINDS = ("near_chunk", "any_topic", "similar_document")


@dataclass
class Query:
    kind: str
    vector: NDArray[np.float32]
    """Unit vector the ranking is by (for similar_document: the document's normalised centroid)."""
    document: uuid.UUID | None = None
    """similar_document: the document itself (excluded from the answer)."""


class Reference:
    """Exact nearest documents of one tenant by brute force over its live chunk vectors."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.starts = np.arange(0, tenant.chunks, CHUNKS_PER_DOCUMENT)
        self.live = np.ones(len(self.starts), dtype=bool)
        self.index = {doc: i for i, doc in enumerate(tenant.documents[: len(self.starts)])}

    def distances(self, vector: NDArray[np.float32]) -> NDArray[np.float64]:
        """Each document's best-chunk cosine distance (inf when deleted)."""
        chunk = 1.0 - self.tenant.vectors.astype(np.float64) @ vector.astype(np.float64)
        best = np.minimum.reduceat(chunk, self.starts)
        return np.where(self.live, best, np.inf)

    def exact(self, query: Query, k: int = K) -> tuple[list[uuid.UUID], NDArray[np.float64]]:
        dist = self.distances(query.vector)
        if query.document is not None:
            dist[self.index[query.document]] = np.inf
        order = np.argsort(dist, kind="stable")[:k]
        order = order[np.isfinite(dist[order])]
        return [self.tenant.documents[i] for i in order], dist

    def centroid(self, document: uuid.UUID) -> NDArray[np.float32]:
        start = self.starts[self.index[document]]
        mean = self.tenant.vectors[start : start + CHUNKS_PER_DOCUMENT].astype(np.float64).mean(0)
        return np.asarray(mean / np.linalg.norm(mean), dtype=np.float32)


def make_queries(tenant: Tenant, reference: Reference, per_kind: int, seed: int) -> list[Query]:
    rng = np.random.default_rng(seed)
    dims = tenant.vectors.shape[1]
    out: list[Query] = []
    for i in rng.integers(0, tenant.chunks, per_kind):
        out.append(Query("near_chunk", _unit(tenant.vectors[i] + rng.normal(0, 0.02, dims))))
    for c in rng.integers(0, len(tenant.centers), per_kind):
        out.append(Query("any_topic", _unit(tenant.centers[c] + rng.normal(0, 0.5, dims))))
    live = [d for d, i in reference.index.items() if reference.live[i]]
    # At most half the documents: the others may be soft-deleted in the second round.
    for j in rng.choice(len(live), min(per_kind, len(live) // 2), replace=False):
        doc = live[int(j)]
        out.append(Query("similar_document", reference.centroid(doc), doc))
    return out


def _unit(vector: NDArray[np.floating]) -> NDArray[np.float32]:
    return np.asarray(vector / np.linalg.norm(vector), dtype=np.float32)


@dataclass
class Outcome:
    recall: float
    ms: float
    path: str
    short: bool
    out_of_order: bool
    score_error: float
    foreign: int


def run_query(
    conn: Connection, tenant: Tenant, reference: Reference, query: Query, exact_threshold: int
) -> Outcome:
    started = time.perf_counter()
    if query.document is not None:
        got = semantic.similar_documents(
            conn, tenant.org, query.document, K, exact_threshold=exact_threshold
        )
    else:
        got = semantic.search_vector(
            conn, tenant.org, query.vector, K, exact_threshold=exact_threshold
        )
    ms = (time.perf_counter() - started) * 1000
    want, dist = reference.exact(query)
    kth = dist[reference.index[want[-1]]] if want else np.inf
    ids = [h.document_id for h in got.hits]
    foreign = sum(doc not in reference.index for doc in ids)
    true = [dist[reference.index[doc]] for doc in ids if doc in reference.index]
    right = sum(d <= kth + TIE for d in true)
    scores = [h.score for h in got.hits]
    errors = [
        abs((1.0 - h.score) - dist[reference.index[h.document_id]])
        for h in got.hits
        if h.document_id in reference.index
    ]
    return Outcome(
        recall=min(right, len(want)) / len(want) if want else 1.0,
        ms=ms,
        path=got.path,
        short=len(got.hits) < len(want),
        out_of_order=any(a < b for a, b in pairwise(scores)),
        score_error=max(errors, default=0.0),
        foreign=foreign,
    )


def summarise(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    recalls = np.array([o.recall for o in outcomes])
    times = np.array([o.ms for o in outcomes])
    paths: dict[str, int] = {}
    for o in outcomes:
        paths[o.path] = paths.get(o.path, 0) + 1
    return {
        "queries": len(outcomes),
        "recall_mean": round(float(recalls.mean()), 4),
        "recall_p5": round(float(np.percentile(recalls, 5)), 4),
        "recall_min": round(float(recalls.min()), 4),
        "p50_ms": round(float(np.percentile(times, 50)), 2),
        "p95_ms": round(float(np.percentile(times, 95)), 2),
        "short_of_k": sum(o.short for o in outcomes),
        "out_of_order": sum(o.out_of_order for o in outcomes),
        "max_score_error": float(f"{max(o.score_error for o in outcomes):.2g}"),
        "foreign_rows": sum(o.foreign for o in outcomes),
        "paths": paths,
    }


def deletions(
    tenant: Tenant, reference: Reference, queries: Sequence[Query], seed: int
) -> list[uuid.UUID]:
    """Documents to soft-delete: each query's two best answers (the slots a filter applied after
    the LIMIT would leave empty) plus a random tenth of the rest, keeping the queried documents."""
    rng = np.random.default_rng(seed)
    keep = {q.document for q in queries if q.document is not None}
    doomed: set[uuid.UUID] = set()
    for query in queries:
        doomed.update(reference.exact(query, 2)[0])
    docs = list(reference.index)
    doomed.update(docs[int(i)] for i in rng.choice(len(docs), len(docs) // 10, replace=False))
    doomed -= keep
    # Never below k + 1 live documents: the promise is k results whenever k exist.
    return sorted(doomed)[: max(0, len(docs) - K - 1)]


def measure(
    conn: Connection,
    tenant: Tenant,
    reference: Reference,
    queries: Sequence[Query],
    *,
    exact_threshold: int,
    on_query: Callable[[Query, Outcome], None] | None = None,
) -> dict[str, Any]:
    """Per kind of query: recall (mean, 5th percentile, minimum), latency, paths, promises kept."""
    by_kind: dict[str, list[Outcome]] = {}
    for query in queries:
        outcome = run_query(conn, tenant, reference, query, exact_threshold)
        by_kind.setdefault(query.kind, []).append(outcome)
        if on_query:
            on_query(query, outcome)
    return {kind: summarise(by_kind[kind]) for kind in KINDS if kind in by_kind}
