"""Semantic search's promises on a synthetic corpus, checked against a numpy brute-force answer
(bench/search_recall.py's Reference: the vectors the corpus was built from, not the API's exact
path): k live results with soft-deleted documents present, results in the order of the score
they report, that score the true distance, recall per query, and the path reported the path
taken (checked with EXPLAIN, independently of the scan counter the library reads)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from psycopg import sql

from advisoros_db.bench import search_cases
from advisoros_db.bench import search_recall as recall
from advisoros_db.search import indexes, semantic, vector_sql
from advisoros_db.search.connections import connect, tenant_transaction
from advisoros_db.search.embedders import DEFAULT_MODEL, E5_SMALL
from tests.support import PgDatabase, PgServer, create_database, database_on, drop_database

HNSW = indexes.index_name(DEFAULT_MODEL)
# 6,000 chunks: tenants of 6 (0.1 %), 300 (5 %) and 1,800 (30 %) chunks, 5 per document.
SCALE = 6_000
PER_KIND = 20


@pytest.fixture(scope="module")
def corpus(server: PgServer, search_template: str) -> Iterator[tuple[PgDatabase, list[Any]]]:
    name = f"recall_{uuid.uuid4().hex[:8]}"
    create_database(server, name, template=search_template)
    db = database_on(server, name)
    try:
        yield db, search_cases.load_corpus(db.admin_url, SCALE)
    finally:
        drop_database(server, name)


@pytest.fixture
def large(corpus: tuple[PgDatabase, list[Any]]) -> Iterator[tuple[PgDatabase, Any, Any, list[Any]]]:
    """The 30 % tenant, its reference and queries; every document live again afterwards."""
    db, tenants = corpus
    tenant = tenants[2]
    reference = recall.Reference(tenant)
    queries = recall.make_queries(tenant, reference, PER_KIND, seed=5)
    try:
        yield db, tenant, reference, queries
    finally:
        search_cases.soft_delete(db.admin_url, tenant.documents, restore=True)


def _delete(db: PgDatabase, reference: recall.Reference, docs: list[uuid.UUID]) -> None:
    search_cases.soft_delete(db.admin_url, docs)
    reference.live[[reference.index[d] for d in docs]] = False


def test_k_live_results_when_each_querys_best_documents_are_soft_deleted(large: Any) -> None:
    db, tenant, reference, queries = large
    doomed = recall.deletions(tenant, reference, queries, seed=3)
    _delete(db, reference, doomed)
    gone = set(doomed)
    with connect(db.app_url) as conn:
        for query in queries:
            if query.document is not None:
                got = semantic.similar_documents(
                    conn, tenant.org, query.document, exact_threshold=0
                )
            else:
                got = semantic.search_vector(conn, tenant.org, query.vector, exact_threshold=0)
            ids = [hit.document_id for hit in got.hits]
            assert len(ids) == recall.K, (query.kind, got.path)
            assert not gone & set(ids)
            # Each query's two best documents were deleted: the graph walk had to look past them.
            assert got.path == "index", query.kind
            want, _ = reference.exact(query)
            assert len(set(ids) & set(want)) >= 8, query.kind


def test_restore_and_purge_need_no_reembedding(large: Any) -> None:
    db, tenant, reference, queries = large
    query = queries[0]
    best = reference.exact(query, 1)[0][0]
    with connect(db.admin_url) as conn:
        chunks_before = conn.execute("SELECT count(*) FROM document_embeddings").fetchone()
    _delete(db, reference, [best])
    with connect(db.app_url) as conn:
        hits = semantic.search_vector(conn, tenant.org, query.vector, exact_threshold=0).hits
        assert best not in {h.document_id for h in hits} and len(hits) == recall.K
    search_cases.soft_delete(db.admin_url, [best], restore=True)
    with connect(db.app_url) as conn:
        hits = semantic.search_vector(conn, tenant.org, query.vector, exact_threshold=0).hits
        assert hits[0].document_id == best  # back, with the chunks it always kept
    with connect(db.admin_url) as conn:
        assert conn.execute("SELECT count(*) FROM document_embeddings").fetchone() == chunks_before
    # A purge (the row deleted) removes the document's chunks with it.
    with connect(db.app_url) as conn, tenant_transaction(conn, tenant.org):
        conn.execute("DELETE FROM documents WHERE id = %s", (best,))
    with connect(db.app_url) as conn:
        with tenant_transaction(conn, tenant.org):
            left = conn.execute(
                "SELECT count(*) FROM document_embeddings WHERE document_id = %s", (best,)
            ).fetchone()
        assert left == (0,)
        hits = semantic.search_vector(conn, tenant.org, query.vector, exact_threshold=0).hits
        assert best not in {h.document_id for h in hits} and len(hits) == recall.K


@pytest.mark.parametrize("threshold", [0, 10**9], ids=["index", "exact"])
def test_results_are_in_the_order_of_their_scores_and_scores_are_true_distances(
    large: Any, threshold: int
) -> None:
    db, tenant, reference, queries = large
    with connect(db.app_url) as conn:
        for query in queries:
            if query.document is not None:
                got = semantic.similar_documents(
                    conn, tenant.org, query.document, exact_threshold=threshold
                )
            else:
                got = semantic.search_vector(
                    conn, tenant.org, query.vector, exact_threshold=threshold
                )
            scores = [hit.score for hit in got.hits]
            assert scores == sorted(scores, reverse=True)
            _, dist = reference.exact(query)
            true = [dist[reference.index[hit.document_id]] for hit in got.hits]
            assert np.allclose([1.0 - s for s in scores], true, atol=1e-5)
        chunks = semantic.search_chunks(conn, tenant.org, queries[0].vector, 25, exact_threshold=0)
        chunk_scores = [hit.score for hit in chunks.hits]
        assert len(chunk_scores) == 25 and chunk_scores == sorted(chunk_scores, reverse=True)


@pytest.mark.parametrize("share", [0, 1, 2], ids=["0.1%", "5%", "30%"])
@pytest.mark.parametrize("deleted", [False, True], ids=["all-live", "soft-deleted"])
def test_recall_per_query_against_numpy(
    corpus: tuple[PgDatabase, list[Any]], share: int, deleted: bool
) -> None:
    db, tenants = corpus
    tenant = tenants[share]
    reference = recall.Reference(tenant)
    queries = recall.make_queries(tenant, reference, PER_KIND, seed=17 + share)
    doomed = recall.deletions(tenant, reference, queries, seed=29) if deleted else []
    _delete(db, reference, doomed)
    try:
        with connect(db.app_url) as conn:
            for mode in (0, semantic.EXACT_THRESHOLD):
                figures = recall.measure(conn, tenant, reference, queries, exact_threshold=mode)
                for kind, row in figures.items():
                    assert row["recall_mean"] >= 0.98, (mode, kind, row)
                    assert row["recall_p5"] >= 0.9, (mode, kind, row)
                    assert row["short_of_k"] == 0 and row["foreign_rows"] == 0, row
                    assert row["out_of_order"] == 0 and row["max_score_error"] < 1e-5, row
    finally:
        search_cases.soft_delete(db.admin_url, doomed, restore=True)


def _uses_hnsw(conn: Any, tenant: Any, org: str) -> bool:
    query = vector_sql.nearest_chunks(E5_SMALL, exact=False, org_literal=None)
    params = {"q": tenant.vectors[0], "org": org, "limit": 40, "exclude": None}
    row = conn.execute(sql.SQL("EXPLAIN (FORMAT JSON) {}").format(query), params).fetchone()
    return HNSW in json.dumps(row[0])


def test_the_path_reported_is_the_path_taken(corpus: tuple[PgDatabase, list[Any]]) -> None:
    """The docs' old "HNSW forced" 0.1 % row reported the index while the plan was a B-tree scan
    and a sort. Each search is compared with its plan under the same settings: a plan without
    the HNSW index is reported as exact, one with it as index (or index+exact after a fallback)."""
    db, tenants = corpus
    small, big = tenants[0], tenants[2]
    with connect(db.app_url) as conn:
        for tenant, index_scans in ((big, "on"), (big, "off"), (small, "on")):
            # For the session: a tenant transaction does not nest in an open transaction.
            conn.execute("SELECT set_config('enable_indexscan', %s, false)", (index_scans,))
            conn.commit()
            with tenant_transaction(conn, tenant.org) as org:
                semantic._set_scan(conn)
                on_hnsw = _uses_hnsw(conn, tenant, org)
            got = semantic.search_vector(conn, tenant.org, tenant.vectors[0], exact_threshold=0)
            assert on_hnsw is (index_scans == "on")
            if not on_hnsw:
                assert got.path == "exact"
            elif tenant is big:
                assert got.path == "index"
            else:  # 6 chunks in 6,000: the walk gives up (hnsw.max_scan_tuples), exact answers
                assert got.path == "index+exact" and len(got.hits) == 2
