"""Pure partition planning: which partitions a table has, their names and bounds (no I/O)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

Granularity = Literal["month", "year"]


@dataclass(frozen=True)
class TableSpec:
    """How one table is partitioned.

    `key` is the partition column; `granularity` says whether partitions hold one month of a
    timestamptz or one value range of an integer year. `runway` is how many partitions past the
    current one maintenance keeps ready; `first_year`/`last_year` are the years created up front.
    `key_registry` keeps a plain `<table>_keys` table of ids so foreign keys can point at the
    partitioned table whatever the partition key of a row (see docs/partitioning.md).
    """

    table: str
    key: str
    granularity: Granularity
    runway: int
    first_year: int | None = None
    last_year: int | None = None
    key_registry: bool = False
    append_only: bool = False

    @property
    def default_partition(self) -> str:
        return f"{self.table}_default"

    @property
    def partitioned_name(self) -> str:
        """The table the conversion builds before it swaps it in."""
        return f"{self.table}_partitioned"

    @property
    def old_name(self) -> str:
        """The plain table kept after the swap, for the rollback window."""
        return f"{self.table}_old"

    @property
    def registry(self) -> str:
        return f"{self.table}_keys"


AUDIT_LOGS = TableSpec(
    table="audit_logs", key="created_at", granularity="month", runway=3, append_only=True
)
DOCUMENTS = TableSpec(
    table="documents",
    key="tax_year",
    granularity="year",
    runway=2,
    first_year=2020,
    last_year=2030,
    key_registry=True,
)
SPECS: dict[str, TableSpec] = {AUDIT_LOGS.table: AUDIT_LOGS, DOCUMENTS.table: DOCUMENTS}

Bound = dt.datetime | int


def kept_tables() -> set[str]:
    """Tables the conversion keeps next to the models' ones (a twin before its swap, the plain
    table during the rollback window): not part of the models, never drift."""
    return {name for spec in SPECS.values() for name in (spec.partitioned_name, spec.old_name)}


@dataclass(frozen=True, order=True)
class Partition:
    """One range partition: rows with lower <= key < upper."""

    lower: Bound
    upper: Bound
    name: str


def month_start(moment: dt.date | dt.datetime) -> dt.datetime:
    return dt.datetime(moment.year, moment.month, 1, tzinfo=dt.UTC)


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    index = moment.year * 12 + moment.month - 1 + months
    return dt.datetime(index // 12, index % 12 + 1, 1, tzinfo=dt.UTC)


def months_between(earlier: dt.datetime, later: dt.datetime) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def partition_for(
    spec: TableSpec, value: dt.datetime | int, *, table: str | None = None
) -> Partition:
    """The partition a key value belongs to (month partitions are in UTC)."""
    base = table or spec.table
    if spec.granularity == "month":
        if not isinstance(value, dt.datetime):
            raise TypeError(f"{spec.table}.{spec.key} partitions by month; got {value!r}")
        lower = month_start(value.astimezone(dt.UTC))
        return Partition(lower, add_months(lower, 1), f"{base}_{lower:%Y_%m}")
    if isinstance(value, dt.datetime):
        raise TypeError(f"{spec.table}.{spec.key} partitions by year; got {value!r}")
    return Partition(value, value + 1, f"{base}_{value:04d}")


def runway(spec: TableSpec, today: dt.date, *, table: str | None = None) -> list[Partition]:
    """The partitions maintenance keeps: the current period and `spec.runway` after it.

    Documents also keep every year from `first_year` to `last_year`, and the runway carries on past
    `last_year` when the calendar gets there.
    """
    if spec.granularity == "month":
        start = month_start(today)
        return [
            partition_for(spec, add_months(start, i), table=table) for i in range(spec.runway + 1)
        ]
    first = spec.first_year if spec.first_year is not None else today.year
    last = max(spec.last_year or today.year, today.year + spec.runway)
    return [partition_for(spec, year, table=table) for year in range(first, last + 1)]


def initial(
    spec: TableSpec,
    today: dt.date,
    *,
    oldest: dt.datetime | int | None = None,
    table: str | None = None,
) -> list[Partition]:
    """The partitions a new partitioned table starts with: the runway, extended back to `oldest`."""
    parts = runway(spec, today, table=table)
    if oldest is None:
        return parts
    if spec.granularity == "month" and isinstance(oldest, dt.datetime):
        first = month_start(oldest.astimezone(dt.UTC))
        back = months_between(first, month_start(today))
        earlier = [
            partition_for(spec, add_months(first, i), table=table) for i in range(max(back, 0))
        ]
        return sorted({*earlier, *parts})
    # Years outside first_year..last_year go to the default partition by design.
    return parts


def older_than(
    partitions: list[Partition], spec: TableSpec, today: dt.date, keep_months: int
) -> list[Partition]:
    """Month partitions wholly before the current month minus `keep_months` (archive candidates)."""
    if spec.granularity != "month":
        raise ValueError(f"{spec.table} is partitioned by {spec.granularity}; archive keeps months")
    if keep_months < 0:
        raise ValueError("keep_months must be 0 or more")
    cutoff = add_months(month_start(today), -keep_months)
    return sorted(p for p in partitions if isinstance(p.upper, dt.datetime) and p.upper <= cutoff)


def parse_name(spec: TableSpec, name: str, *, table: str | None = None) -> Partition | None:
    """The partition a name stands for, or None for the default and foreign names."""
    base = table or spec.table
    suffix = name.removeprefix(base + "_")
    if suffix == name:
        return None
    parts = suffix.split("_")
    try:
        if (
            spec.granularity == "month"
            and len(parts) == 2
            and len(parts[0]) == 4
            and len(parts[1]) == 2
        ):
            return partition_for(
                spec, dt.datetime(int(parts[0]), int(parts[1]), 1, tzinfo=dt.UTC), table=base
            )
        if spec.granularity == "year" and len(parts) == 1 and len(parts[0]) == 4:
            return partition_for(spec, int(parts[0]), table=base)
    except ValueError:
        return None
    return None
