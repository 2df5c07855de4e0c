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
from advisoros_db.datagen.binary import Chunk, Encoder, Pooled
from advisoros_db.datagen.buckets import Bucket, buckets, parse, split
from advisoros_db.datagen.context import Context, org_weights
from advisoros_db.datagen.introspect import TableInfo
from advisoros_db.datagen.pools import Pools
from advisoros_db.datagen.scales import Scale
from advisoros_db.datagen.tables import BUCKETED, MODELS, total

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
    wanted = total(ctx, table)
    return ctx.split(
        table, ctx.scale.other if wanted is None else wanted, minimum=int(table in AT_LEAST_ONE)
    )


def has_required_parents(ctx: Context, info: TableInfo, org: int) -> bool:
    """Whether every NOT NULL foreign key of a table has a parent row in this organization."""
    for fk in info.foreign_keys:
        if fk.parent in ("organizations", info.name):
            continue
        required = all(info.columns[c].not_null for c in fk.columns)
        if required and not ctx.count(fk.parent, org):
            return False
    return True


def bucket_frames(
    ctx: Context, info: TableInfo, orgs: list[int], bucket: Bucket, *, remember: bool = True
) -> Iterator[Frame]:
    """One bucket of a partitioned table's rows for these organizations."""
    model = BUCKETED[info.name][0]
    wanted = counts(ctx, info.name)
    for org in orgs:
        shares = split(ctx, info.name, org, wanted[org])
        n = int(shares[bucket.index])
        if n:
            cols = model(ctx, org, n, bucket, int(shares[: bucket.index].sum()))
            frame = assemble(ctx, info, cols, org, n)
            if remember and "id" in frame.columns:
                ctx.remember(info.name, org, frame.column("id"))
            yield frame


def frames(
    ctx: Context, info: TableInfo, orgs: list[int], *, remember: bool = True
) -> Iterator[Frame]:
    """The rows of `info`'s table for these organizations (organizations itself: org 0's owner)."""
    if info.name in BUCKETED:
        for bucket in buckets(info.name, ctx.anchor):
            yield from bucket_frames(ctx, info, orgs, bucket, remember=remember)
        return
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
            cols = {"organization_id": Pooled(np.zeros(wanted[org], np.int64), [ctx.org_ids[org]])}
            n = wanted[org] if has_required_parents(ctx, info, org) else 0
        if n:
            frame = assemble(ctx, info, cols, org, n)
            if remember and "id" in frame.columns:
                ctx.remember(info.name, org, frame.column("id"))
            yield frame


def chunks(ctx: Context, plan: Plan, orgs: list[int], name: str) -> Iterator[Chunk]:
    """The encoded rows of a table, or of one bucket of it (`documents@2024`), for `orgs`."""
    table, bucket = parse(name, plan.anchor)
    info = plan.infos[table]
    remember = table in plan.referenced
    made = (
        frames(ctx, info, orgs, remember=remember)
        if bucket is None
        else bucket_frames(ctx, info, orgs, bucket, remember=remember)
    )
    encoder: Encoder | None = None
    for frame in made:
        if encoder is None:
            encoder = Encoder(frame.types, frame.typnames)
        for data, rows in encoder.encode(frame.values):
            yield Chunk(tuple(frame.columns), data, rows)


def producer(plan: Plan, index: int, workers: int) -> partial[Iterator[Chunk]]:
    """Run in a generator process: its context, and the maker of its share of each table."""
    ctx = context(plan)
    mine = shares(ctx.org_weights, workers)[index]
    return partial(chunks, ctx, plan, mine)
