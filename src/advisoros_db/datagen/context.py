"""The state one seed run shares between tables: pools, the anchor time, ids of rows already made."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import numpy as np

from advisoros_db.datagen.pools import Pools
from advisoros_db.datagen.scales import Scale


@dataclass
class Context:
    """Everything generated so far that later tables refer to, per organization index."""

    seed: int
    scale: Scale
    anchor: datetime
    pools: Pools
    org_ids: list[UUID] = field(default_factory=list)
    org_weights: np.ndarray = field(default_factory=lambda: np.ones(1))
    ids: dict[str, list[list[UUID]]] = field(default_factory=dict)
    # Per table, per organization: attributes later tables reuse (a client's name, an
    # engagement's client) aligned with `ids`.
    attrs: dict[str, list[dict[str, list[Any]]]] = field(default_factory=dict)
    # What a model derives once per organization and reuses for each of its buckets.
    memo: dict[tuple[str, int], Any] = field(default_factory=dict)

    def rng(self, table: str, org: int = -1) -> np.random.Generator:
        """An independent stream per (seed, table, organization): one table's change keeps the rest."""
        key = [self.seed, org + 1, *table.encode()]
        return np.random.default_rng(key)

    def split(self, table: str, total: int, minimum: int = 1) -> list[int]:
        """Share `total` rows between organizations by their size weights, at least `minimum` each."""
        n = len(self.org_ids)
        base = min(minimum, total // max(n, 1))
        rest = max(total - base * n, 0)
        counts = self.rng(table + ":split").multinomial(rest, self.org_weights)
        return [base + int(c) for c in counts]

    def remember(self, table: str, org: int, ids: list[UUID]) -> None:
        """Record the ids of rows written, so children can reference them."""
        per_org = self.ids.setdefault(table, [[] for _ in self.org_ids])
        per_org[org].extend(ids)

    def keep(self, table: str, org: int, **attrs: list[Any]) -> None:
        """Record attributes of rows (aligned with their ids) that later models reuse."""
        store = self.attrs.setdefault(table, [{} for _ in self.org_ids])
        for key, values in attrs.items():
            store[org].setdefault(key, []).extend(values)

    def parents(self, table: str, org: int) -> list[UUID]:
        per_org = self.ids.get(table)
        return per_org[org] if per_org else []

    def attr(self, table: str, org: int, key: str) -> list[Any]:
        return self.attrs[table][org][key]

    def parent_bytes(self, table: str, org: int) -> np.ndarray:
        """`parents(table, org)` as an (n, 16) uint8 array (for `Uuids` columns), made once."""
        ids = self.parents(table, org)
        key = (f"{table}:bytes", org)
        known: np.ndarray | None = self.memo.get(key)
        if known is None or len(known) != len(ids):
            raw = b"".join(u.bytes for u in ids)
            known = np.frombuffer(raw, dtype=np.uint8).reshape(len(ids), 16)
            self.memo[key] = known
        return known


def org_weights(n: int, rng: np.random.Generator) -> np.ndarray:
    """Firm sizes: Pareto-distributed, so a few firms are large and most are small."""
    raw = np.sort(rng.pareto(1.16, n) + 1.0)[::-1]
    raw = np.minimum(raw, raw.sum() * 0.3)  # no single firm above ~30 % of all data
    weights: np.ndarray = raw / raw.sum()
    return weights
