"""Fit a model's columns to the live table: drop unknown ones, conform labels, fill what is missing.

A column the table requires (NOT NULL, no default) that no model provides gets a generic value of
its type; a foreign key gets a parent row of the same organization, so tenant rules hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from advisoros_db.datagen.context import Context
from advisoros_db.datagen.introspect import Column, TableInfo
from advisoros_db.datagen.values import coerce, conform, copy_type, jsonb_bytes, uuid7
from advisoros_db.errors import ConfigError

# Free-text columns get sentences (so full-text search has words to find), not tokens.
PROSE = frozenset({"content", "description", "body", "message", "comment", "bio", "notes", "text"})


@dataclass
class Batch:
    """Rows ready for binary COPY: column names, the types to dump them as, row tuples."""

    columns: list[str]
    types: list[int]
    rows: list[tuple[Any, ...]]


def _generic(
    ctx: Context, info: TableInfo, col: Column, org: int, *, n: int, rng: np.random.Generator
) -> list[Any]:
    allowed = info.allowed_values(col.name)
    if allowed:
        return [allowed[i] for i in rng.integers(0, len(allowed), n)]
    fk = info.fk_for(col.name)
    if fk is not None:
        if fk.parent == "organizations":
            return [ctx.org_ids[org]] * n
        parents = ctx.parents(fk.parent, org)
        if not parents:
            raise ConfigError(
                f"{info.name}.{col.name} needs rows of {fk.parent} for organization #{org}, "
                f"and none were generated; seed {fk.parent} first or make the column nullable"
            )
        return [parents[i] for i in rng.integers(0, len(parents), n)]
    t = col.typname
    if t == "uuid":
        return uuid7(np.full(n, int(ctx.anchor.timestamp() * 1000)), rng)
    if t in ("text", "varchar", "citext", "bpchar") and col.name in PROSE:
        sentences = ctx.pools.sentences
        return [sentences[i] for i in rng.integers(0, len(sentences), n)]
    if t in ("text", "varchar", "citext", "bpchar"):
        words = ctx.pools.words
        return [
            f"{words[i % len(words)]}-{org}-{k}" for k, i in enumerate(rng.integers(0, 1 << 20, n))
        ]
    lo, hi = info.value_range(col.name)
    if t in ("int2", "int4", "int8"):
        return list(rng.integers(int(lo), int(hi) + 1, n).tolist())
    if t in ("float4", "float8", "numeric"):
        # Strictly inside the bounds: some checks are `> 0` rather than `>= 0`.
        values = np.round(lo + (hi - lo) * rng.uniform(0.01, 0.99, n), 2)
        return [Decimal(str(v)) for v in values] if t == "numeric" else list(values.tolist())
    if t == "bool":
        return list((rng.random(n) < 0.5).tolist())
    if t in ("timestamptz", "timestamp", "date"):
        return [ctx.anchor - timedelta(seconds=int(s)) for s in rng.integers(0, 365 * 86_400, n)]
    if t in ("jsonb", "json"):
        return [jsonb_bytes({})] * n
    if t.startswith("_"):
        return [[] for _ in range(n)]
    if t == "bytea":
        return [rng.bytes(32) for _ in range(n)]
    if t == "inet":
        return ["10.0.0.1"] * n
    raise ConfigError(
        f"{info.name}.{col.name} ({col.type}) is NOT NULL without a default and the generator "
        f"has no model for it; add one in advisoros_db/datagen/tables.py"
    )


def assemble(
    ctx: Context, info: TableInfo, provided: dict[str, list[Any]], org: int, n: int
) -> Batch:
    rng = ctx.rng(info.name + ":fill", org)
    out: dict[str, list[Any]] = {}
    if "id" in info.columns and info.columns["id"].typname == "uuid" and "id" not in provided:
        # Made here rather than by the server's default so children can reference the rows.
        provided = {"id": uuid7(np.full(n, int(ctx.anchor.timestamp() * 1000)), rng), **provided}
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
        values = conform(values, info.allowed_values(name))
        if col.not_null and any(v is None for v in values):
            fill = _generic(ctx, info, col, org, n=n, rng=rng)
            values = [f if v is None else v for v, f in zip(values, fill, strict=True)]
        out[name] = coerce(values, col.typname)
    names = list(out)
    types = [
        copy_type(info.columns[c].typname, info.columns[c].oid, info.columns[c].is_enum)
        for c in names
    ]
    rows = list(zip(*(out[c] for c in names), strict=True)) if names else []
    return Batch(names, types, distinct(info, names, rows))


def distinct(
    info: TableInfo, names: list[str], rows: list[tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    """Drop rows that repeat a unique key: random parents for a generic table can collide."""
    keys = [
        k
        for k in [info.primary_key, *info.unique]
        # A key holding the generated id is unique by construction (time-ordered UUIDs with 74
        # random bits); were two ever equal, re-adding the key after the load would refuse it.
        if k and all(c in names for c in k) and "id" not in k
    ]
    if not keys:
        return rows
    positions = [[names.index(c) for c in key] for key in keys]
    seen: list[set[tuple[Any, ...]]] = [set() for _ in keys]
    kept = []
    for row in rows:
        values = [tuple(row[i] for i in pos) for pos in positions]
        # NULLs never collide in a unique constraint.
        if any(None not in v and v in s for v, s in zip(values, seen, strict=True)):
            continue
        for v, s in zip(values, seen, strict=True):
            s.add(v)
        kept.append(row)
    return kept
