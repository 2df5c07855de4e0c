"""The benchmark cases at a tiny scale: the tenant-correctness promises, without timing assertions."""

from __future__ import annotations

from typing import Any

import pytest

from advisoros_db.bench import search_cases
from tests.support import PgServer


@pytest.fixture(scope="module")
def semantic_figures(server: PgServer, migrated_template: str) -> dict[str, Any]:
    # 3,000 chunks: tenants of 5 (0.1 %), 150 (5 %) and 900 (30 %) chunks.
    return search_cases.semantic_case(server.admin_url, 3_000, app_url=server.app_url, per_kind=8)


def test_every_row_reports_recall_per_query_and_the_promises(
    semantic_figures: dict[str, Any],
) -> None:
    rows = semantic_figures["rows"]
    # 3 tenants x 2 states (all live, soft-deleted) x 2 modes x 3 kinds of query, less the
    # similar-document rows of the 1-document tenant (no other document to be similar to).
    assert len(rows) == 36 - 4
    assert {r["kind"] for r in rows} == {"near_chunk", "any_topic", "similar_document"}
    assert {r["state"] for r in rows} == {"all live", "soft-deleted"}
    assert sorted({r["chunks"] for r in rows}) == [5, 150, 900]
    for row in rows:
        assert row["short_of_k"] == 0, row
        assert row["foreign_rows"] == 0 and row["out_of_order"] == 0, row
        assert row["recall_min"] <= row["recall_p5"] <= row["recall_mean"] <= 1.0, row
        assert row["recall_mean"] >= 0.95, row
    # The 1-document tenant has nothing to spare; the others lose documents.
    deleted = [r for r in rows if r["state"] == "soft-deleted" and r["chunks"] > 5]
    live = [r for r in rows if r["state"] == "all live" and r["chunks"] > 5]
    assert all(
        d["live_documents"] < a["live_documents"] for d, a in zip(deleted, live, strict=True)
    )


def test_paths_taken(semantic_figures: dict[str, Any]) -> None:
    rows = semantic_figures["rows"]
    automatic = [r for r in rows if r["mode"] == "automatic"]
    assert all(set(r["paths"]) == {"exact"} for r in automatic)  # all below the threshold
    forced = [r for r in rows if r["mode"] == "hnsw" and r["chunks"] == 900]
    assert all("index" in r["paths"] for r in forced)


def test_fulltext_case_reports_percentiles(server: PgServer, migrated_template: str) -> None:
    figures = search_cases.fulltext_case(server.admin_url, 2_000, app_url=server.app_url)
    assert figures["documents_total"] == 400
    assert set(figures["websearch"]) == {"p50_ms", "p95_ms"}  # type: ignore[arg-type]
