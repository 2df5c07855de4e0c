"""Small seeded sampling helpers every row model uses."""

from __future__ import annotations

from typing import Any

import numpy as np

from advisoros_db.datagen.binary import Pooled, Values
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
