"""Small seeded sampling helpers every row model uses."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from advisoros_db.datagen.binary import Pooled, Uuids, Values
from advisoros_db.datagen.context import Context
from advisoros_db.datagen.values import DAY_US, to_us

Columns = dict[str, Values]


def created(ctx: Context, rng: np.random.Generator, n: int, days: int) -> np.ndarray:
    """Sorted creation times (µs) in the last `days`, denser towards now (a growing business)."""
    now = to_us(ctx.anchor)
    ages = (1.0 - np.sqrt(rng.random(n))) * days * DAY_US
    return np.sort(now - ages.astype(np.int64))


def choice(rng: np.random.Generator, options: tuple[str, ...], n: int, p: list[float]) -> list[str]:
    idx = rng.choice(len(options), size=n, p=np.array(p) / sum(p))
    return [options[i] for i in idx]


def sample(rng: np.random.Generator, values: list[Any] | tuple[Any, ...], n: int) -> list[Any]:
    return [values[i] for i in rng.integers(0, len(values), n)] if values else [None] * n


def pooled(rng: np.random.Generator, values: list[Any] | tuple[Any, ...], n: int) -> Pooled:
    """`sample` (the same draws) as positions into the vocabulary, for column-wise encoding."""
    if not values:
        return Pooled(np.zeros(n, dtype=np.int64), [None])
    return Pooled(rng.integers(0, len(values), n), values)


def one(rng: np.random.Generator, values: list[Any]) -> Any:
    return values[int(rng.integers(len(values)))]


def tag_sets(
    rng: np.random.Generator, vocabulary: list[str], n: int, most: int = 3
) -> list[list[str]]:
    """Between 0 and `most` distinct tags per row."""
    return [
        list(dict.fromkeys(sample(rng, vocabulary, int(k)))) for k in rng.integers(0, most + 1, n)
    ]


def chosen(rng: np.random.Generator, options: tuple[str, ...], n: int, p: list[float]) -> Pooled:
    """`choice` (the same draws) as positions into the options."""
    return Pooled(rng.choice(len(options), size=n, p=np.array(p) / sum(p)), options)


def parent_ids(ctx: Context, rng: np.random.Generator, table: str, org: int, n: int) -> Uuids:
    """`sample` of the organization's `table` ids (the same draws), as UUID bytes."""
    ids = ctx.parent_bytes(table, org)
    return Uuids(ids[rng.integers(0, len(ids), n)])


def tag_pool(rng: np.random.Generator, vocabulary: list[str], n: int, most: int = 3) -> Pooled:
    """Between 0 and `most` distinct tags per row, as positions into the distinct sets drawn
    (a few hundred at most, each encoded once)."""
    k = rng.integers(0, most + 1, n)
    picks = rng.integers(0, len(vocabulary), (n, most))
    picks = np.where(np.arange(most) < k[:, None], picks, -1)
    sets, index = np.unique(picks, axis=0, return_inverse=True)
    values = [list(dict.fromkeys(vocabulary[i] for i in row if i >= 0)) for row in sets.tolist()]
    return Pooled(index.reshape(-1), values)


@lru_cache(maxsize=32)
def truncated(values: tuple[str, ...], end: int) -> tuple[str, ...]:
    """A vocabulary's values cut at `end` (slice semantics), made once per vocabulary."""
    return tuple(v[:end] for v in values)
