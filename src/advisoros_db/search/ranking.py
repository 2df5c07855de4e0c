"""Ranking decisions with no I/O: reciprocal rank fusion, and the relevance measures (recall@k,
MRR) the labelled set is scored with. (Chunks roll up to documents in SQL: search/vector_sql.py.)"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

# The constant from Cormack et al. (2009): damps the weight of the very top ranks.
RRF_K = 60


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[K]], k: int, *, constant: int = RRF_K
) -> list[tuple[K, float]]:
    """Fuse ranked lists: each key scores the sum of 1 / (constant + rank) over the lists."""
    scores: dict[K, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + 1.0 / (constant + rank)
    return sorted(scores.items(), key=lambda item: item[1], reverse=True)[:k]


def recall_at_k(ranked: Sequence[K], relevant: set[K], k: int = 10) -> float:
    """Share of the relevant keys found in the first `k` results."""
    if not relevant:
        return 1.0
    return len(set(ranked[:k]) & relevant) / len(relevant)


def reciprocal_rank(ranked: Sequence[K], relevant: set[K]) -> float:
    """1 / rank of the first relevant result, 0 when none is found."""
    for rank, key in enumerate(ranked, start=1):
        if key in relevant:
            return 1.0 / rank
    return 0.0
