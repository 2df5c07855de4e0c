"""Fit a model's columns to the live table: drop unknown ones, conform labels, fill what is missing.

A column the table requires (NOT NULL, no default) that no model provides gets a generic value of
its type; a foreign key gets a parent row of the same organization, so tenant rules hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from advisoros_db.datagen.binary import (
    WIRE,
    Fixed,
    Micros,
    Numbers,
    Pooled,
    Uuids,
    Values,
    take,
    tolist,
)
from advisoros_db.datagen.context import Context
from advisoros_db.datagen.introspect import Column, TableInfo
from advisoros_db.datagen.values import (
    coerce,
    conform,
    copy_type,
    jsonb_bytes,
    to_us,
    uuid7_bytes,
)
from advisoros_db.errors import ConfigError

# Free-text columns get sentences (so full-text search has words to find), not tokens.
TEXT_TYPES = frozenset({"text", "varchar", "citext", "bpchar"})
PROSE = frozenset({"content", "description", "body", "message", "comment", "bio", "notes", "text"})


@dataclass
class Batch:
    """Rows ready for binary COPY: column names, the types to dump them as, row tuples."""

    columns: list[str]
    types: list[int]
    rows: list[tuple[Any, ...]]


def _same(value: Any, n: int) -> Pooled:
    return Pooled(np.zeros(n, dtype=np.int64), [value])


def _generic(
    ctx: Context, info: TableInfo, col: Column, org: int, *, n: int, rng: np.random.Generator
) -> Values:
    """Values of a column no model provides, in the column-wise forms (no Python value per row
    where the type allows)."""
    allowed = info.allowed_values(col.name)
    if allowed:
        return Pooled(rng.integers(0, len(allowed), n), allowed)
    fk = info.fk_for(col.name)
    t = col.typname
    if fk is not None:
        if fk.parent == "organizations":
            return _same(ctx.org_ids[org], n)
        found = ctx.count(fk.parent, org)
        if not found:
            raise ConfigError(
                f"{info.name}.{col.name} needs rows of {fk.parent} for organization #{org}, "
                f"and none were generated; seed {fk.parent} first or make the column nullable"
            )
        at = rng.integers(0, found, n)
        if t == "uuid":
            return Uuids(ctx.parent_bytes(fk.parent, org)[at])
        return Pooled(at, ctx.parents(fk.parent, org))
    if t == "uuid":
        return Uuids(uuid7_bytes(np.full(n, int(ctx.anchor.timestamp() * 1000)), rng))
    if t in TEXT_TYPES and col.name in PROSE:
        return Pooled(rng.integers(0, len(ctx.pools.sentences), n), ctx.pools.sentences)
    if t in TEXT_TYPES:
        words = ctx.pools.words
        return [
            f"{words[i % len(words)]}-{org}-{k}"
            for k, i in enumerate(rng.integers(0, 1 << 20, n).tolist())
        ]
    lo, hi = info.value_range(col.name)
    if t in ("int2", "int4", "int8"):
        return Numbers(rng.integers(int(lo), int(hi) + 1, n))
    if t in ("float4", "float8", "numeric"):
        # Strictly inside the bounds: some checks are `> 0` rather than `>= 0`.
        return Numbers(np.round(lo + (hi - lo) * rng.uniform(0.01, 0.99, n), 2))
    if t == "bool":
        return Numbers(rng.random(n) < 0.5)
    if t in ("timestamptz", "timestamp", "date"):
        return Micros(to_us(ctx.anchor) - rng.integers(0, 365 * 86_400, n) * 1_000_000)
    if t in ("jsonb", "json"):
        return _same(jsonb_bytes({}), n)
    if t.startswith("_"):
        return _same([], n)
    if t == "bytea":
        return [rng.bytes(32) for _ in range(n)]
    if t == "inet":
        return _same("10.0.0.1", n)
    raise ConfigError(
        f"{info.name}.{col.name} ({col.type}) is NOT NULL without a default and the generator "
        f"has no model for it; add one in advisoros_db/datagen/tables.py"
    )


@dataclass
class Frame:
    """Rows of one table, column by column, in the forms `binary` encodes without Python calls."""

    columns: list[str]
    types: list[int]
    typnames: list[str]
    values: list[Values]

    def __len__(self) -> int:
        return len(self.values[0]) if self.values else 0

    def column(self, name: str) -> Values:
        return self.values[self.columns.index(name)]

    def batch(self) -> Batch:
        """The same rows as Python tuples (row by row dumping, tests)."""
        cols = [tolist(v) for v in self.values]
        return Batch(self.columns, self.types, list(zip(*cols, strict=True)) if cols else [])


def _conform(values: Values, allowed: tuple[str, ...]) -> Values:
    """Labels onto the schema's vocabulary; a pooled column's vocabulary is fitted once."""
    if isinstance(values, Pooled):
        return Pooled(values.index, conform(values.values, allowed))
    if isinstance(values, (Uuids, Micros, Numbers)):
        return values
    if isinstance(values, Fixed):
        return values if not allowed else conform(values.tolist(), allowed)
    return conform(values, allowed)


def _coerce(values: Values, typname: str) -> Values:
    if isinstance(values, Pooled):
        return Pooled(values.index, coerce(list(values.values), typname))
    if isinstance(values, (Uuids, Micros)):
        return values
    if isinstance(values, Numbers):
        # Sent as the column's own width when it has one; numeric and the rest as Python values.
        return values if typname in WIRE else coerce(values.tolist(), typname)
    if isinstance(values, Fixed):
        return values if typname in TEXT_TYPES else coerce(values.tolist(), typname)
    return coerce(values, typname)


def _has_null(values: Values) -> bool:
    if isinstance(values, Pooled):
        nulls = [i for i, v in enumerate(values.values) if v is None]
        return bool(nulls) and bool(np.isin(values.index, nulls).any())
    if isinstance(values, (Micros, Numbers)):
        return values.null is not None and bool(values.null.any())
    if isinstance(values, (Uuids, Fixed)):
        return False
    return any(v is None for v in values)


def assemble(
    ctx: Context, info: TableInfo, provided: Mapping[str, Values], org: int, n: int
) -> Frame:
    rng = ctx.rng(info.name + ":fill", org)
    out: dict[str, Values] = {}
    if "id" in info.columns and info.columns["id"].typname == "uuid" and "id" not in provided:
        # Made here rather than by the server's default so children can reference the rows.
        provided = {
            "id": Uuids(uuid7_bytes(np.full(n, int(ctx.anchor.timestamp() * 1000)), rng)),
            **provided,
        }
    for name, col in info.columns.items():
        if col.generated:
            continue
        values = provided.get(name)
        if values is None:
            if not col.not_null or (col.has_default and not col.volatile_default):
                continue
            values = _generic(ctx, info, col, org, n=n, rng=rng)
        if len(values) != n:
            raise ConfigError(f"model for {info.name}.{name} made {len(values)} values, not {n}")
        values = _conform(values, info.allowed_values(name))
        if col.not_null and _has_null(values):
            fill = tolist(_generic(ctx, info, col, org, n=n, rng=rng))
            values = [f if v is None else v for v, f in zip(tolist(values), fill, strict=True)]
        out[name] = _coerce(values, col.typname)
    names = list(out)
    types = [
        copy_type(info.columns[c].typname, info.columns[c].oid, info.columns[c].is_enum)
        for c in names
    ]
    frame = Frame(names, types, [info.columns[c].typname for c in names], [out[c] for c in names])
    return distinct(info, frame)


def distinct(info: TableInfo, frame: Frame) -> Frame:
    """Drop rows that repeat a unique key: random parents for a generic table can collide."""
    names = frame.columns
    keys = [
        k
        for k in [info.primary_key, *info.unique]
        # A key holding the generated id is unique by construction (time-ordered UUIDs with 74
        # random bits); were two ever equal, re-adding the key after the load would refuse it.
        if k and all(c in names for c in k) and "id" not in k
    ]
    if not keys:
        return frame
    listed = {c: tolist(frame.column(c)) for key in keys for c in key}
    seen: list[set[tuple[Any, ...]]] = [set() for _ in keys]
    kept = []
    for i in range(len(frame)):
        values = [tuple(listed[c][i] for c in key) for key in keys]
        # NULLs never collide in a unique constraint.
        if any(None not in v and v in s for v, s in zip(values, seen, strict=True)):
            continue
        for v, s in zip(values, seen, strict=True):
            s.add(v)
        kept.append(i)
    if len(kept) == len(frame):
        return frame
    at = np.array(kept, dtype=np.int64)
    return Frame(frame.columns, frame.types, frame.typnames, [take(v, at) for v in frame.values])
