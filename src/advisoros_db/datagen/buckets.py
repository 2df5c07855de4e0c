"""The rows of a partitioned table, made bucket by bucket: one bucket per partition key range.

`documents` is partitioned by tax year and `audit_logs` by month. Each organization's rows of such
a table are shared out between buckets first (one draw per organization), then every bucket's rows
come from their own random stream of (seed, table, bucket, organization). The generator processes
make the buckets one after the other, so the loader can COPY each into its leaf partition (which
PostgreSQL allows with FREEZE, unlike the partitioned parent) while the next one is made. The
buckets are the model's, independent of the server: the loader finds the leaf for each (see
`leaves`), and rows go through the parent where there is none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from advisoros_db.datagen.context import Context
from advisoros_db.datagen.values import DAY_US, to_us
from advisoros_db.partitioning.layout import add_months, month_start

# Creation times reach this far back (sampling.created's `days` for audit_logs).
AUDIT_DAYS = 730
# Tax years documents carry (-1 stands for an unknown year: NULL, the default partition).
FIRST_YEAR, LAST_YEAR = 2020, 2030
SEPARATOR = "@"


@dataclass(frozen=True)
class Bucket:
    """One partition key range: every row of the bucket has `key` (a tax year, None for an
    unknown one) or falls in the month starting at `key`."""

    table: str
    index: int
    key: int | datetime | None

    @property
    def label(self) -> str:
        if self.key is None:
            return "none"
        if isinstance(self.key, datetime):
            return f"{self.key:%Y-%m}"
        return str(self.key)

    @property
    def request(self) -> str:
        """The name a generator process is asked to make this bucket by."""
        return f"{self.table}{SEPARATOR}{self.label}"


def audit_months(anchor: datetime) -> list[datetime]:
    first = month_start(anchor - timedelta(days=AUDIT_DAYS))
    months = [first]
    while months[-1] < month_start(anchor):
        months.append(add_months(months[-1], 1))
    return months


def buckets(table: str, anchor: datetime) -> list[Bucket]:
    """The buckets of a bucketed table, in the order they are made and loaded; [] for others."""
    if table == "documents":
        years: list[int | None] = [*range(FIRST_YEAR, LAST_YEAR + 1), None]
        return [Bucket(table, i, y) for i, y in enumerate(years)]
    if table == "audit_logs":
        return [Bucket(table, i, m) for i, m in enumerate(audit_months(anchor))]
    return []


def parse(name: str, anchor: datetime) -> tuple[str, Bucket | None]:
    """The table and bucket a request names (no bucket for a whole table)."""
    table, _, label = name.partition(SEPARATOR)
    if not label:
        return table, None
    for bucket in buckets(table, anchor):
        if bucket.label == label:
            return table, bucket
    raise ValueError(f"{name!r} names no bucket of {table}")


def tax_years(ctx: Context, rng: np.random.Generator, n: int) -> np.ndarray:
    """Mostly recent years within 2020-2030, a few far-future filings, some unknown (-1)."""
    years = np.clip(ctx.anchor.year + 1 - rng.geometric(0.45, n), FIRST_YEAR, LAST_YEAR)
    years = np.where(rng.random(n) < 0.01, rng.integers(2027, LAST_YEAR + 1, n), years)
    return np.where(rng.random(n) < 0.03, -1, years)


def _month_shares(anchor: datetime) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per month: its share of the rows and the range of u (ages are (1 - sqrt(u)) * span)."""
    now, span = to_us(anchor), AUDIT_DAYS * DAY_US
    lo, hi, share = [], [], []
    for start in audit_months(anchor):
        young = min(max(now - to_us(add_months(start, 1)), 0), span)  # age at the month's end
        old = min(max(now - to_us(start), 0), span)
        # P(age <= a) = 1 - (1 - a/span)^2 for the density sampling.created draws.
        u_lo, u_hi = (1 - old / span) ** 2, (1 - young / span) ** 2
        lo.append(u_lo)
        hi.append(u_hi)
        share.append(u_hi - u_lo)
    return np.array(lo), np.array(hi), np.array(share)


def split(ctx: Context, table: str, org: int, n: int) -> np.ndarray:
    """How many of the organization's `n` rows each bucket gets (one draw, kept for its buckets)."""
    key = (f"{table}:split", org)
    known = ctx.memo.get(key)
    if known is not None:
        return known  # type: ignore[no-any-return]
    rng = ctx.rng(f"{table}:buckets", org)
    if table == "documents":
        years = tax_years(ctx, rng, n)
        counts = np.array(
            [
                int(np.count_nonzero(years == (-1 if b.key is None else b.key)))
                for b in buckets(table, ctx.anchor)
            ]
        )
    else:
        share = _month_shares(ctx.anchor)[2]
        counts = rng.multinomial(n, share / share.sum())
    ctx.memo[key] = counts
    return counts


def month_times(ctx: Context, rng: np.random.Generator, bucket: Bucket, n: int) -> np.ndarray:
    """Sorted creation times (µs) in the bucket's month, with the density `sampling.created`
    gives over AUDIT_DAYS (denser towards now)."""
    assert isinstance(bucket.key, datetime)
    lo, hi, _ = _month_shares(ctx.anchor)
    u = rng.uniform(lo[bucket.index], hi[bucket.index], n)
    span = AUDIT_DAYS * DAY_US
    us = to_us(ctx.anchor) - ((1.0 - np.sqrt(u)) * span).astype(np.int64)
    # Truncation may land a value on the month's end, which belongs to the next month.
    first, end = to_us(bucket.key), to_us(add_months(bucket.key, 1))
    return np.sort(np.clip(us, first, end - 1))
