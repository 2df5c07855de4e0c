"""What one generator process makes: the rows of its organizations, table by table, encoded.

Every table's rows of one organization come from a random stream of (seed, table, organization)
and from that organization's earlier rows only, so a process that owns whole organizations makes
exactly the rows a single process would, whatever the number of processes. Organizations are
shared out by size (largest first, to the least loaded process).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import numpy as np

from advisoros_db.datagen import firm
from advisoros_db.datagen.assemble import Frame, assemble
from advisoros_db.datagen.binary import Chunk, Encoder, tolist
from advisoros_db.datagen.context import Context, org_weights
from advisoros_db.datagen.introspect import TableInfo
from advisoros_db.datagen.pools import Pools
from advisoros_db.datagen.scales import Scale
from advisoros_db.datagen.tables import MODELS

# Every firm has at least one of these, so every child table has parents in every firm.
AT_LEAST_ONE = frozenset({"users", "clients", "engagements", "advisor_profiles", "documents"})


@dataclass(frozen=True)
class Plan:
    """What every generator process is told: the data set, and the tables as the server has them."""

    seed: int
    scale: Scale
    anchor: datetime
    infos: dict[str, TableInfo]
    # Tables whose ids later tables use (foreign keys, audit entities): only these are kept.
    referenced: frozenset[str]


def context(plan: Plan) -> Context:
    ctx = Context(plan.seed, plan.scale, plan.anchor, Pools.build(plan.seed))
    ctx.org_weights = org_weights(plan.scale.organizations, ctx.rng("organizations:size"))
    firm.organizations(ctx, 0, plan.scale.organizations)  # sets ctx.org_ids
    return ctx


def shares(weights: np.ndarray, workers: int) -> list[list[int]]:
    """Organizations per process: largest first to the least loaded; each share in org order."""
    load = [0.0] * workers
    owned: list[list[int]] = [[] for _ in range(workers)]
    for org in sorted(range(len(weights)), key=lambda o: (-float(weights[o]), o)):
        w = min(range(workers), key=lambda i: (load[i], i))
        load[w] += float(weights[org])
        owned[w].append(org)
    return [sorted(o) for o in owned]


def counts(ctx: Context, table: str) -> list[int]:
    entry = MODELS.get(table)
    total = entry[1](ctx) if entry else ctx.scale.other
    return ctx.split(table, total, minimum=1 if table in AT_LEAST_ONE else 0)


def has_required_parents(ctx: Context, info: TableInfo, org: int) -> bool:
    """Whether every NOT NULL foreign key of a table has a parent row in this organization."""
    for fk in info.foreign_keys:
        if fk.parent in ("organizations", info.name):
            continue
        required = all(info.columns[c].not_null for c in fk.columns)
        if required and not ctx.parents(fk.parent, org):
            return False
    return True


def frames(
    ctx: Context, info: TableInfo, orgs: list[int], *, remember: bool = True
) -> Iterator[Frame]:
    """The rows of `info`'s table for these organizations (organizations itself: org 0's owner)."""
    model = MODELS.get(info.name, (None, None))[0]
    if info.name == "organizations":
        if 0 in orgs:
            assert model is not None
            cols = model(ctx, 0, ctx.scale.organizations)
            yield assemble(ctx, info, cols, 0, len(cols["id"]))
        return
    wanted = counts(ctx, info.name)
    for org in orgs:
        if model is not None:
            cols = model(ctx, org, wanted[org])
            n = len(next(iter(cols.values()))) if cols else 0
        else:
            cols = {"organization_id": [ctx.org_ids[org]] * wanted[org]}
            n = wanted[org] if has_required_parents(ctx, info, org) else 0
        if n:
            frame = assemble(ctx, info, cols, org, n)
            if remember and "id" in frame.columns:
                ctx.remember(info.name, org, tolist(frame.column("id")))
            yield frame


def chunks(ctx: Context, plan: Plan, orgs: list[int], name: str) -> Iterator[Chunk]:
    info = plan.infos[name]
    encoder: Encoder | None = None
    for frame in frames(ctx, info, orgs, remember=name in plan.referenced):
        if encoder is None:
            encoder = Encoder(frame.types, frame.typnames)
        for data, rows in encoder.encode(frame.values):
            yield Chunk(tuple(frame.columns), data, rows)


def producer(plan: Plan, index: int, workers: int) -> partial[Iterator[Chunk]]:
    """Run in a generator process: its context, and the maker of its share of each table."""
    ctx = context(plan)
    mine = shares(ctx.org_weights, workers)[index]
    return partial(chunks, ctx, plan, mine)
