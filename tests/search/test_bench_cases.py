"""The benchmark cases at a tiny scale: the tenant-correctness promises, without timing assertions."""

from __future__ import annotations

import pytest

from advisoros_db.bench import search_cases
from tests.support import PgServer


@pytest.fixture(scope="module")
def semantic_figures(server: PgServer, migrated_template: str) -> dict[str, object]:
    # 6,000 chunks: tenants of 6 (0.1 %), 300 (5 %) and 1,800 (30 %) chunks.
    return search_cases.semantic_case(server.admin_url, 6_000, app_url=server.app_url)


def test_every_tenant_gets_k_results_high_recall_and_only_its_rows(
    semantic_figures: dict[str, object],
) -> None:
    for key in ("hnsw", "automatic"):
        rows = semantic_figures[key]
        assert isinstance(rows, list) and [r["chunks"] for r in rows] == [6, 300, 1800]
        for row in rows:
            assert row["queries_short_of_k"] == 0, row
            assert row["foreign_rows"] == 0, row
            assert row["recall_at_10"] >= 0.95, row


def test_paths_taken(semantic_figures: dict[str, object]) -> None:
    hnsw, automatic = semantic_figures["hnsw"], semantic_figures["automatic"]
    assert isinstance(hnsw, list) and isinstance(automatic, list)
    # Forced onto the index, the 6-chunk tenant (1.2 documents) needs the exact fallback.
    assert set(hnsw[0]["paths"]) == {"index+exact"}
    assert "index" in hnsw[2]["paths"]
    assert all(set(row["paths"]) == {"exact"} for row in automatic)  # all below the threshold


def test_fulltext_case_reports_percentiles(server: PgServer, migrated_template: str) -> None:
    figures = search_cases.fulltext_case(server.admin_url, 2_000, app_url=server.app_url)
    assert figures["documents_total"] == 400
    assert set(figures["websearch"]) == {"p50_ms", "p95_ms"}  # type: ignore[arg-type]
