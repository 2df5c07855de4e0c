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
    if t in ("text", "varchar", "citext", "bpchar"):
        words = ctx.pools.words
        return [
            f"{words[i % len(words)]}-{org}-{k}" for k, i in enumerate(rng.integers(0, 1 << 20, n))
        ]
    if t in ("int2", "int4", "int8"):
        return list(rng.integers(0, 100, n).tolist())
    if t in ("float4", "float8"):
        return list(rng.random(n).tolist())
    if t == "numeric":
        return [Decimal(int(x)) for x in rng.integers(0, 1000, n)]
    if t == "bool":
        return list((rng.random(n) < 0.5).tolist())
    if t in ("timestamptz", "timestamp", "date"):
        return [ctx.anchor - timedelta(days=int(d)) for d in rng.integers(0, 365, n)]
    if t in ("jsonb", "json"):
        return [jsonb_bytes({})] * n
    if t.startswith("_"):
        return [[] for _ in range(n)]
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
    for name, col in info.columns.items():
        if col.generated:
            continue
        values = provided.get(name)
        if values is None:
            if not col.not_null or col.has_default:
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
    return Batch(names, types, rows)
