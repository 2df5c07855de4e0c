"""Roll-up, reciprocal rank fusion, and the relevance measures."""

from __future__ import annotations

import pytest

from advisoros_db.search.ranking import (
    recall_at_k,
    reciprocal_rank,
    reciprocal_rank_fusion,
)


def test_rrf_rewards_agreement() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["d", "b", "e"]], 5)
    keys = [key for key, _ in fused]
    assert keys[0] == "b"  # second in both beats first in one
    assert set(keys) == {"a", "b", "c", "d", "e"}
    assert fused[0][1] == pytest.approx(2 / 62)


def test_rrf_with_one_empty_branch_is_the_other_branch() -> None:
    assert [k for k, _ in reciprocal_rank_fusion([[], ["x", "y"]], 5)] == ["x", "y"]


def test_recall_and_reciprocal_rank() -> None:
    ranked = ["a", "b", "c", "d"]
    assert recall_at_k(ranked, {"b", "z"}, 10) == 0.5
    assert recall_at_k(ranked, {"d"}, 3) == 0.0
    assert reciprocal_rank(ranked, {"c", "d"}) == pytest.approx(1 / 3)
    assert reciprocal_rank(ranked, {"z"}) == 0.0
