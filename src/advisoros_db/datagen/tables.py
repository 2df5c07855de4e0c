"""Which row model fills which table, and how many rows a scale asks of it in total."""

from __future__ import annotations

from collections.abc import Callable

from advisoros_db.datagen import firm, records
from advisoros_db.datagen.buckets import Bucket
from advisoros_db.datagen.context import Context
from advisoros_db.datagen.sampling import Columns

Model = Callable[[Context, int, int], Columns]
# A partitioned table's model makes one bucket of an organization's rows (see `buckets`): the
# rows, the bucket, and how many of the organization's rows earlier buckets held.
BucketModel = Callable[[Context, int, int, Bucket, int], Columns]
Count = Callable[[Context], int]

MODELS: dict[str, tuple[Model, Count]] = {
    "organizations": (firm.organizations, lambda c: c.scale.organizations),
    "users": (firm.users, lambda c: c.scale.users),
    "clients": (firm.clients, lambda c: c.scale.clients),
    "engagements": (firm.engagements, lambda c: c.scale.engagements),
    "tasks": (firm.tasks, lambda c: c.scale.tasks),
    "invoices": (firm.invoices, lambda c: c.scale.invoices),
    "notes": (firm.notes, lambda c: c.scale.notes),
    "advisor_profiles": (firm.advisor_profiles, lambda c: c.scale.users // 3),
    "document_processing": (records.document_processing, lambda c: c.scale.documents),
}

BUCKETED: dict[str, tuple[BucketModel, Count]] = {
    "documents": (records.documents, lambda c: c.scale.documents),
    "audit_logs": (records.audit_logs, lambda c: c.scale.audit_logs),
}


def total(ctx: Context, table: str) -> int | None:
    """The rows a scale asks of a modelled table in all; None for tables with no model."""
    entry = MODELS.get(table) or BUCKETED.get(table)
    return entry[1](ctx) if entry else None
