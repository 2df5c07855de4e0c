"""The state one seed run shares between tables: pools, the anchor time, ids of rows already made."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import numpy as np

from advisoros_db.datagen.binary import Uuids, Values, tolist
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
    # Ids of rows made so far, per (table, organization): UUID bytes, one array per batch.
    raw: dict[tuple[str, int], list[np.ndarray]] = field(default_factory=dict)
    # Per table, per organization: attributes later tables reuse (a client's name, an
    # engagement's client) aligned with their ids.
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

    def remember(self, table: str, org: int, ids: Values) -> None:
        """Record the ids of rows written, so children can reference them (kept as UUID bytes:
        most children take them as bytes, and only small tables' ids become UUID objects)."""
        raw = ids.data if isinstance(ids, Uuids) else _uuid_bytes(tolist(ids))
        self.raw.setdefault((table, org), []).append(raw)

    def keep(self, table: str, org: int, **attrs: list[Any]) -> None:
        """Record attributes of rows (aligned with their ids) that later models reuse."""
        store = self.attrs.setdefault(table, [{} for _ in self.org_ids])
        for key, values in attrs.items():
            store[org].setdefault(key, []).extend(values)

    def count(self, table: str, org: int) -> int:
        return sum(len(r) for r in self.raw.get((table, org), ()))

    def parents(self, table: str, org: int) -> list[UUID]:
        """The organization's ids of `table` as UUIDs, in the order they were made."""
        key = (f"{table}:uuids", org)
        known: list[UUID] | None = self.memo.get(key)
        if known is None or len(known) != self.count(table, org):
            raw = self.parent_bytes(table, org).tobytes()
            known = [UUID(bytes=raw[i : i + 16]) for i in range(0, len(raw), 16)]
            self.memo[key] = known
        return known

    def attr(self, table: str, org: int, key: str) -> list[Any]:
        return self.attrs[table][org][key]

    def parent_bytes(self, table: str, org: int) -> np.ndarray:
        """The organization's ids of `table` as an (n, 16) uint8 array (for `Uuids` columns)."""
        parts = self.raw.get((table, org), [])
        if len(parts) != 1:
            joined = np.concatenate(parts) if parts else np.empty((0, 16), dtype=np.uint8)
            parts[:] = [joined] if parts else []
            return joined
        return parts[0]


def _uuid_bytes(ids: list[Any]) -> np.ndarray:
    return np.frombuffer(b"".join(u.bytes for u in ids), dtype=np.uint8).reshape(len(ids), 16)


def org_weights(n: int, rng: np.random.Generator) -> np.ndarray:
    """Firm sizes: Pareto-distributed, so a few firms are large and most are small."""
    raw = np.sort(rng.pareto(1.16, n) + 1.0)[::-1]
    raw = np.minimum(raw, raw.sum() * 0.3)  # no single firm above ~30 % of all data
    weights: np.ndarray = raw / raw.sum()
    return weights
