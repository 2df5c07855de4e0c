"""Named data-set sizes: how many organizations, and how many rows of each table they share."""

from __future__ import annotations

from dataclasses import dataclass

from advisoros_db.errors import ConfigError


@dataclass(frozen=True)
class Scale:
    """Totals across all organizations; the generator splits them unevenly between firms."""

    name: str
    organizations: int
    documents: int
    audit_logs: int

    @property
    def users(self) -> int:
        return max(self.organizations * 3, self.documents // 250)

    @property
    def clients(self) -> int:
        return max(self.organizations * 4, self.documents // 12)

    @property
    def engagements(self) -> int:
        return self.clients * 3 // 2

    @property
    def tasks(self) -> int:
        return self.engagements * 4

    @property
    def invoices(self) -> int:
        return self.engagements * 6 // 5

    @property
    def notes(self) -> int:
        return self.clients * 2

    @property
    def other(self) -> int:
        """Rows for tables the generator has no dedicated model of (sessions, metrics, jobs)."""
        return max(self.organizations * 5, self.documents // 20)


SCALES: dict[str, Scale] = {
    s.name: s
    for s in (
        Scale("tiny", organizations=6, documents=1_200, audit_logs=6_000),
        Scale("small", organizations=25, documents=20_000, audit_logs=200_000),
        Scale("medium", organizations=80, documents=200_000, audit_logs=2_000_000),
        Scale("large", organizations=200, documents=1_000_000, audit_logs=10_000_000),
    )
}


def get_scale(name: str, organizations: int | None = None) -> Scale:
    try:
        scale = SCALES[name]
    except KeyError:
        raise ConfigError(f"unknown scale {name!r}: choose one of {', '.join(SCALES)}") from None
    if organizations is not None:
        if organizations < 1:
            raise ConfigError(f"--orgs must be at least 1, got {organizations}")
        scale = Scale(scale.name, organizations, scale.documents, scale.audit_logs)
    return scale
