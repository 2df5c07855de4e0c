"""Read load-balancing policies: each orders the usable replicas, most preferred first."""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping, Sequence
from typing import Protocol

from advisoros_db.errors import ConfigError


class ReadPolicy(Protocol):
    """Orders candidate nodes for one session; the router tries them in that order."""

    name: str

    def order(
        self,
        names: Sequence[str],
        weights: Mapping[str, float],
        outstanding: Mapping[str, int],
    ) -> list[str]: ...


class RoundRobin:
    """Weighted round-robin: over `sum(weights)` sessions each node leads in proportion to weight."""

    name = "round_robin"

    def __init__(self) -> None:
        self._turn = itertools.count()

    def order(
        self, names: Sequence[str], weights: Mapping[str, float], outstanding: Mapping[str, int]
    ) -> list[str]:
        if not names:
            return []
        slots = [n for n in names for _ in range(max(1, round(weights.get(n, 1.0))))]
        first = slots[next(self._turn) % len(slots)]
        return [first, *(n for n in names if n != first)]


class RandomChoice:
    """Weighted random choice of the first node; the rest follow in random order."""

    name = "random"

    def __init__(self, seed: int | None = None) -> None:
        self._rng = random.Random(seed)

    def order(
        self, names: Sequence[str], weights: Mapping[str, float], outstanding: Mapping[str, int]
    ) -> list[str]:
        remaining = list(names)
        ordered: list[str] = []
        while remaining:
            pick = self._rng.choices(remaining, [max(weights.get(n, 1.0), 1e-9) for n in remaining])
            ordered.append(pick[0])
            remaining.remove(pick[0])
        return ordered


class LeastOutstanding:
    """Fewest sessions in flight per unit of weight first; ties keep the configured order."""

    name = "least_outstanding"

    def order(
        self, names: Sequence[str], weights: Mapping[str, float], outstanding: Mapping[str, int]
    ) -> list[str]:
        return sorted(names, key=lambda n: outstanding.get(n, 0) / max(weights.get(n, 1.0), 1e-9))


POLICIES = {p.name: p for p in (RoundRobin, RandomChoice, LeastOutstanding)}


def policy_named(name: str) -> ReadPolicy:
    """A fresh policy instance by its setting name."""
    try:
        return POLICIES[name]()
    except KeyError:
        raise ConfigError(
            f"unknown read policy {name!r}; set ADVISOROS_READ_POLICY to one of: "
            + ", ".join(sorted(POLICIES))
        ) from None
