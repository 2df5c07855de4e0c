"""Which row model fills which table, and how many rows a scale asks of it in total."""

from __future__ import annotations

from collections.abc import Callable

from advisoros_db.datagen import firm, records
from advisoros_db.datagen.context import Context
from advisoros_db.datagen.sampling import Columns

Model = Callable[[Context, int, int], Columns]

MODELS: dict[str, tuple[Model, Callable[[Context], int]]] = {
    "organizations": (firm.organizations, lambda c: c.scale.organizations),
    "users": (firm.users, lambda c: c.scale.users),
    "clients": (firm.clients, lambda c: c.scale.clients),
    "engagements": (firm.engagements, lambda c: c.scale.engagements),
    "tasks": (firm.tasks, lambda c: c.scale.tasks),
    "invoices": (firm.invoices, lambda c: c.scale.invoices),
    "notes": (firm.notes, lambda c: c.scale.notes),
    "advisor_profiles": (firm.advisor_profiles, lambda c: c.scale.users // 3),
    "documents": (records.documents, lambda c: c.scale.documents),
    "document_processing": (records.document_processing, lambda c: c.scale.documents),
    "audit_logs": (records.audit_logs, lambda c: c.scale.audit_logs),
}
