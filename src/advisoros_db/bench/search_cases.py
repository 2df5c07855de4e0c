"""Search benchmark cases: filtered-HNSW latency and recall per tenant size, and full-text latency.

Each case builds its own throwaway database (migrated to head) beside the one it is given, fills it
with a synthetic corpus, measures as the application role, and drops it. The vectors are
synthetic (clustered Gaussian points, normalised): ANN figures measure the index and the tenant
filter, not the embedding model. `scale` is the number of chunks (documents hold 5 chunks each).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from psycopg import sql
from psycopg.types import TypeInfo

from advisoros_db import migrations
from advisoros_db.bench.search_recall import CHUNKS_PER_DOCUMENT, K
from advisoros_db.search import fulltext, indexes, pipeline, relevance, semantic
from advisoros_db.search.chunking import content_hash
from advisoros_db.search.connections import connect
from advisoros_db.search.embedders import E5_SMALL, E5Embedder
from advisoros_db.search.labelled_set import DOCUMENTS, QUERIES
from advisoros_db.urls import with_database

SHARES = (0.001, 0.05, 0.30)
"""Tenant sizes as a share of all chunks (the rest belongs to filler tenants)."""
CLUSTERS = 64

_COPY_DOCUMENTS = (
    "COPY documents (id, organization_id, client_id, uploaded_by, file_name, file_url, file_type,"
    " category, extracted_text) FROM STDIN"
)
_COPY_CHUNKS = (
    "COPY document_embeddings (organization_id, document_id, chunk_index, content, content_hash,"
    " embedding, model, dimensions, token_count) FROM STDIN WITH (FORMAT BINARY)"
)
_CHUNK_TYPES = ["uuid", "uuid", "int4", "text", "text", "vector", "text", "int4", "int4"]


@dataclass
class Tenant:
    name: str
    org: uuid.UUID
    chunks: int
    vectors: np.ndarray[Any, np.dtype[np.float32]]
    """Unit chunk vectors; chunk n belongs to documents[n // CHUNKS_PER_DOCUMENT]."""
    documents: list[uuid.UUID] = field(default_factory=list)
    centers: np.ndarray[Any, np.dtype[np.float64]] = field(default_factory=lambda: np.zeros((0, 0)))
    """The corpus's topic centres (shared by all tenants): queries on any topic start here."""


@contextmanager
def scratch_database(admin_url: str) -> Iterator[tuple[str, str]]:
    """A database migrated to head beside `admin_url`'s; yields (admin URL, database name)."""
    name = f"bench_search_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(admin_url, name)
    try:
        migrations.upgrade(url)
        yield url, name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _tenant(conn: psycopg.Connection[Any], name: str) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    org = conn.execute(
        "INSERT INTO organizations (name, slug) VALUES (%s, %s) RETURNING id",
        (name, f"{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}-{uuid.uuid4().hex[:6]}"),
    ).fetchone()[0]  # type: ignore[index]
    user = conn.execute(
        "INSERT INTO users (organization_id, email, name) VALUES (%s, %s, 'Bench') RETURNING id",
        (org, f"bench-{uuid.uuid4().hex[:8]}@example.com"),
    ).fetchone()[0]  # type: ignore[index]
    client = conn.execute(
        "INSERT INTO clients (organization_id, business_name) VALUES (%s, %s) RETURNING id",
        (org, f"{name} client"),
    ).fetchone()[0]  # type: ignore[index]
    return org, user, client


def _vectors(
    rng: np.random.Generator, centers: np.ndarray[Any, Any], documents: int
) -> np.ndarray[Any, np.dtype[np.float32]]:
    """Chunk vectors of `documents` documents of one tenant, CHUNKS_PER_DOCUMENT each.

    Each tenant writes mostly about a few topics (a Dirichlet mix over the clusters), so it is
    sparse on the others; each document has a main topic that most of its chunks are about, and
    strays into other topics of its tenant, so its centroid lies between clusters.
    """
    mix = rng.dirichlet(np.full(len(centers), 0.3))
    n = documents * CHUNKS_PER_DOCUMENT
    main = np.repeat(rng.choice(len(centers), documents, p=mix), CHUNKS_PER_DOCUMENT)
    stray = rng.choice(len(centers), n, p=mix)
    picks = np.where(rng.random(n) < 0.6, main, stray)
    points = centers[picks] + rng.normal(0, 0.5, (n, centers.shape[1]))
    unit: np.ndarray[Any, np.dtype[np.float32]] = np.asarray(
        points / np.linalg.norm(points, axis=1, keepdims=True), dtype=np.float32
    )
    return unit


def _text(rng: np.random.Generator, i: int) -> tuple[str, str, str]:
    """A document name, category and text: a labelled-set document with fresh numbers."""
    doc = DOCUMENTS[i % len(DOCUMENTS)]
    words = doc.text.split()
    for j in rng.integers(0, len(words), 4):
        words[j] = str(rng.integers(100, 99_999))
    return f"{i:07d} {doc.file_name}", doc.category, " ".join(words)


def load_corpus(url: str, chunks: int, *, seed: int = 7) -> list[Tenant]:
    """Tenants holding SHARES of `chunks` (plus filler tenants), 5 chunks per document, text included.

    The model's HNSW index is dropped during the load and rebuilt after (one bulk build is much
    faster than 100k incremental inserts).
    """
    rng = np.random.default_rng(seed)
    # Overlapping clusters around one shared direction, like text embeddings (which sit in a
    # narrow cone). Well-separated clusters leave the HNSW graph so few links between them that
    # a greedy walk can end in the wrong cluster: a first run with them had queries at recall 0.
    shared = rng.normal(0, 1, E5_SMALL.dimensions)
    centers = shared + 0.6 * rng.normal(0, 1, (CLUSTERS, E5_SMALL.dimensions))
    sizes = [max(CHUNKS_PER_DOCUMENT, round(chunks * share)) for share in SHARES]
    rest = max(0, chunks - sum(sizes))
    plan = [(f"tenant-{share:.1%}", size) for share, size in zip(SHARES, sizes, strict=True)]
    plan += [(f"filler-{n}", part) for n, part in enumerate(_split(rest, 4)) if part]
    indexes.drop_index(url, E5_SMALL.name)
    tenants: list[Tenant] = []
    counter = 0
    with psycopg.connect(url) as conn:
        register_vector(conn)
        info = TypeInfo.fetch(conn, "vector")
        assert info is not None
        info.register(conn)  # lets binary COPY name the type in set_types()
        for name, size in plan:
            org, user, client = _tenant(conn, name)
            documents = [uuid.uuid4() for _ in range(-(-size // CHUNKS_PER_DOCUMENT))]
            with conn.cursor().copy(_COPY_DOCUMENTS) as copy:
                for doc in documents:
                    file_name, category, text = _text(rng, counter)
                    counter += 1
                    copy.write_row(
                        (doc, org, client, user, file_name, "bench://", "pdf", category, text)
                    )
            vectors = _vectors(rng, centers, len(documents))[:size]
            with conn.cursor() as cur, cur.copy(_COPY_CHUNKS) as copy:
                copy.set_types(_CHUNK_TYPES)
                for n in range(size):
                    doc = documents[n // CHUNKS_PER_DOCUMENT]
                    content = f"chunk {n} of {name}"
                    copy.write_row(
                        (
                            org,
                            doc,
                            n % CHUNKS_PER_DOCUMENT,
                            content,
                            content_hash(content),
                            vectors[n],
                            E5_SMALL.name,
                            E5_SMALL.dimensions,
                            8,
                        )
                    )
            conn.commit()
            tenants.append(Tenant(name, org, size, vectors, documents, centers))
        conn.execute("ANALYZE documents")
        conn.execute("ANALYZE document_embeddings")
        conn.commit()
    indexes.ensure_index(url, E5_SMALL.name)
    return tenants[: len(SHARES)]


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def _percentiles(samples: Sequence[float]) -> dict[str, float]:
    return {
        "p50_ms": round(float(np.percentile(samples, 50)), 2),
        "p95_ms": round(float(np.percentile(samples, 95)), 2),
    }


def soft_delete(url: str, documents: Sequence[uuid.UUID], *, restore: bool = False) -> None:
    """Mark documents deleted (or live again) as the owner; their chunks stay embedded."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "UPDATE documents SET deleted_at = CASE WHEN %s THEN NULL ELSE now() END"
            " WHERE id = ANY(%s)",
            (restore, list(documents)),
        )


def semantic_case(
    admin_url: str, scale: int, app_url: str | None = None, *, per_kind: int = 40
) -> dict[str, Any]:
    """Recall@10 per query against a numpy brute-force answer, and latency, per tenant size (0.1 %,
    5 %, 30 % of `scale` chunks), kind of query, with and without soft-deleted documents, with the
    index path forced (`exact_threshold=0`) and chosen automatically."""
    from advisoros_db.bench import search_recall as recall  # it imports Tenant from here

    with scratch_database(admin_url) as (url, name):
        tenants = load_corpus(url, scale)
        app = with_database(app_url, name) if app_url else url
        rows: list[dict[str, Any]] = []
        with connect(app) as conn:
            for n, tenant in enumerate(tenants):
                reference = recall.Reference(tenant)
                queries = recall.make_queries(tenant, reference, per_kind, seed=11 + n)
                doomed = recall.deletions(tenant, reference, queries, seed=23 + n)
                for state in ("all live", "soft-deleted"):
                    if state == "soft-deleted":
                        soft_delete(url, doomed)
                        reference.live[[reference.index[d] for d in doomed]] = False
                    for mode, threshold in (("hnsw", 0), ("automatic", semantic.EXACT_THRESHOLD)):
                        measured = recall.measure(
                            conn, tenant, reference, queries, exact_threshold=threshold
                        )
                        for kind, figures in measured.items():
                            rows.append(
                                {
                                    "tenant": tenant.name,
                                    "chunks": tenant.chunks,
                                    "live_documents": int(reference.live.sum()),
                                    "state": state,
                                    "mode": mode,
                                    "kind": kind,
                                    **figures,
                                }
                            )
        return {
            "chunks": scale,
            "vectors": (
                f"synthetic: {CLUSTERS} overlapping Gaussian topics around a shared direction,"
                f" {E5_SMALL.dimensions} dims; each tenant a Dirichlet(0.3) mix of topics"
            ),
            "k": K,
            "depth_query": vars(semantic.QUERY_DEPTH),
            "depth_similar_document": vars(semantic.SIMILAR_DEPTH),
            "similar_probes": semantic.SIMILAR_PROBES,
            "reference": "numpy brute force over the tenant's live chunk vectors",
            "rows": rows,
        }


def fulltext_case(admin_url: str, scale: int, app_url: str | None = None) -> dict[str, Any]:
    """p50/p95 of `search_text` over documents, on the largest tenant of the synthetic corpus
    (documents made from the labelled set's texts with fresh numbers), for every labelled query."""
    with scratch_database(admin_url) as (url, name):
        tenants = load_corpus(url, scale)
        app = with_database(app_url, name) if app_url else url
        big = tenants[-1]
        times: list[float] = []
        prefix_times: list[float] = []
        with connect(app) as conn:
            for query in QUERIES:
                for _ in range(3):
                    started = time.perf_counter()
                    fulltext.search_text(conn, big.org, query.text, k=K)
                    times.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                fulltext.search_text(conn, big.org, query.text[:5], k=K, prefix=True)
                prefix_times.append((time.perf_counter() - started) * 1000)
        return {
            "documents_in_tenant": -(-big.chunks // CHUNKS_PER_DOCUMENT),
            "documents_total": -(-scale // CHUNKS_PER_DOCUMENT),
            "websearch": _percentiles(times),
            "prefix": _percentiles(prefix_times),
            "queries": len(QUERIES),
        }


def relevance_case(admin_url: str, app_url: str | None = None) -> dict[str, Any]:
    """The labelled set embedded with the offline model: embedding throughput, then recall@10 and
    MRR of text, semantic and hybrid search (overall and per query style)."""
    embedder = E5Embedder()
    embedder.embed_passages(["warm-up"])  # loading the weights is not embedding speed
    with scratch_database(admin_url) as (url, name):
        with psycopg.connect(url) as conn:
            org, user, client = _tenant(conn, "relevance")
        app = with_database(app_url, name) if app_url else url
        with connect(app) as conn:
            ids = relevance.load_labelled_set(conn, org, client, user)
        started = time.perf_counter()
        report = pipeline.embed_pending(app, org, embedder=embedder)
        seconds = time.perf_counter() - started
        figures: dict[str, Any] = {
            "model": embedder.model,
            "documents": len(ids),
            "chunks": report.chunks,
            "embed_seconds": round(seconds, 2),
            "chunks_per_second": round(report.chunks / seconds, 2),
        }
        with connect(app) as conn:
            by_style = relevance.evaluate_styles(conn, org, ids, embedder)
            for style in (None, "keyword", "identifier", "paraphrase"):
                scores = by_style[style]
                figures[style or "all"] = {
                    mode: {
                        "recall_at_10": round(s.recall, 3),
                        "mrr": round(s.mrr, 3),
                        "queries": s.queries,
                    }
                    for mode, s in scores.items()
                }
        return figures


CASES = {
    "search_semantic": semantic_case,
    "search_fulltext": fulltext_case,
    "search_relevance": relevance_case,
}


def main() -> None:
    """`python -m advisoros_db.bench.search_cases ADMIN_URL [APP_URL] [--scale N] [--case NAME]`."""
    import argparse
    import json

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("admin_url")
    parser.add_argument("app_url", nargs="?")
    parser.add_argument("--scale", type=int, default=100_000, help="chunks in the corpus")
    parser.add_argument("--case", choices=sorted(CASES), action="append")
    args = parser.parse_args()
    for name in args.case or sorted(CASES):
        started = time.perf_counter()
        if name == "search_relevance":
            figures = relevance_case(args.admin_url, args.app_url)
        elif name == "search_semantic":
            figures = semantic_case(args.admin_url, args.scale, args.app_url)
        else:
            figures = fulltext_case(args.admin_url, args.scale, args.app_url)
        figures["seconds"] = round(time.perf_counter() - started, 1)
        print(json.dumps({name: figures}, indent=2, default=str), flush=True)


if __name__ == "__main__":
    main()
