"""Read load-balancing policies: each ranks a group of usable replicas, most preferred first.

A `Group` (names, weights, and what the policies derive from them) is built once per snapshot by
`decisions.routes()`, so a policy's per-session work is only its choice.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from advisoros_db.errors import ConfigError


@dataclass(frozen=True)
class Group:
    """Usable replicas of one preference level, in configured order, prepared for the policies.

    `slots`: indexes into `names`, each node repeated `round(weight)` times (at least once), for
    weighted round-robin. `leading[i]`: `names[i]` first, then the others in configured order.
    """

    names: tuple[str, ...]
    weights: Mapping[str, float]
    slots: tuple[int, ...]
    leading: tuple[tuple[str, ...], ...]

    @classmethod
    def of(cls, names: Sequence[str], weights: Mapping[str, float]) -> Group:
        ordered = tuple(names)
        own = {n: weights.get(n, 1.0) for n in ordered}
        slots = tuple(i for i, n in enumerate(ordered) for _ in range(max(1, round(own[n]))))
        leading = tuple((n, *(m for m in ordered if m != n)) for n in ordered)
        return cls(names=ordered, weights=own, slots=slots, leading=leading)


class ReadPolicy(Protocol):
    """Ranks one group of usable replicas for one session; the router tries them in that order.

    `uses_outstanding`: whether `rank` reads the sessions in flight per node (the router counts
    them only for policies that do).
    """

    name: str
    uses_outstanding: bool

    def rank(self, group: Group, outstanding: Mapping[str, int]) -> tuple[str, ...]: ...


class _Ordering:
    """`order()` over plain names and weights, for callers without a prepared `Group`."""

    def rank(self, group: Group, outstanding: Mapping[str, int]) -> tuple[str, ...]:
        raise NotImplementedError

    def order(
        self, names: Sequence[str], weights: Mapping[str, float], outstanding: Mapping[str, int]
    ) -> list[str]:
        if not names:
            return []
        return list(self.rank(Group.of(names, weights), outstanding))


class RoundRobin(_Ordering):
    """Weighted round-robin: over `sum(weights)` sessions each node leads in proportion to weight."""

    name = "round_robin"
    uses_outstanding = False

    def __init__(self) -> None:
        # next() on a count is one C call: no lock needed between threads.
        self._turn = itertools.count()

    def rank(self, group: Group, outstanding: Mapping[str, int]) -> tuple[str, ...]:
        slots = group.slots
        return group.leading[slots[next(self._turn) % len(slots)]]


class RandomChoice(_Ordering):
    """Weighted random choice of the first node; the rest follow in random order."""

    name = "random"
    uses_outstanding = False

    def __init__(self, seed: int | None = None) -> None:
        self._rng = random.Random(seed)

    def rank(self, group: Group, outstanding: Mapping[str, int]) -> tuple[str, ...]:
        weights = group.weights
        remaining = list(group.names)
        ordered: list[str] = []
        while remaining:
            pick = self._rng.choices(remaining, [max(weights[n], 1e-9) for n in remaining])
            ordered.append(pick[0])
            remaining.remove(pick[0])
        return tuple(ordered)


class LeastOutstanding(_Ordering):
    """Fewest sessions in flight per unit of weight first; ties keep the configured order."""

    name = "least_outstanding"
    uses_outstanding = True

    def rank(self, group: Group, outstanding: Mapping[str, int]) -> tuple[str, ...]:
        weights = group.weights
        return tuple(
            sorted(group.names, key=lambda n: outstanding.get(n, 0) / max(weights[n], 1e-9))
        )


POLICIES: dict[str, type[RoundRobin | RandomChoice | LeastOutstanding]] = {
    p.name: p for p in (RoundRobin, RandomChoice, LeastOutstanding)
}


def policy_named(name: str) -> ReadPolicy:
    """A fresh policy instance by its setting name."""
    try:
        return POLICIES[name]()
    except KeyError:
        raise ConfigError(
            f"unknown read policy {name!r}; set ADVISOROS_READ_POLICY to one of: "
            + ", ".join(sorted(POLICIES))
        ) from None
