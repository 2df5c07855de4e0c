"""Values for the catalog queries' parameters, drawn from a populated database: the busiest
organization and, in it, the rows with the most dependants, so every query has work to do."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any, LiteralString

import psycopg

from advisoros_db.errors import AdvisorOSError
from advisoros_db.schema.catalog import PAGE_START


@dataclass(frozen=True)
class Sample(Mapping[str, Any]):
    """Real ids from a populated database that make the catalog's queries return rows.

    A mapping from the names a query's `-- params:` lists to their values, so
    `query.bind(sample)` gives its parameters; `before` is the first page."""

    organization_id: uuid.UUID
    client_id: uuid.UUID
    user_id: uuid.UUID
    engagement_id: uuid.UUID
    document_id: uuid.UUID
    entity_type: str
    entity_id: uuid.UUID
    queue: str

    def _values(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)} | {"before": PAGE_START}

    def __getitem__(self, name: str) -> Any:
        return self._values()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values())

    def __len__(self) -> int:
        return len(self._values())


# Picks, in the busiest organization, the rows with the most dependants, so every query has work.
_SAMPLE_SQL: LiteralString = """
WITH org AS (
    SELECT organization_id FROM documents GROUP BY organization_id ORDER BY count(*) DESC LIMIT 1
)
SELECT
    org.organization_id,
    (SELECT client_id FROM documents d WHERE d.organization_id = org.organization_id
     GROUP BY client_id ORDER BY count(*) DESC LIMIT 1),
    (SELECT assignee_id FROM tasks t WHERE t.organization_id = org.organization_id
     AND assignee_id IS NOT NULL GROUP BY assignee_id ORDER BY count(*) DESC LIMIT 1),
    (SELECT engagement_id FROM tasks t WHERE t.organization_id = org.organization_id
     GROUP BY engagement_id ORDER BY count(*) DESC LIMIT 1),
    (SELECT document_id FROM document_sessions s WHERE s.organization_id = org.organization_id
     GROUP BY document_id ORDER BY count(*) DESC LIMIT 1),
    (SELECT entity_type FROM audit_logs a WHERE a.organization_id = org.organization_id
     AND entity_id IS NOT NULL GROUP BY entity_type, entity_id ORDER BY count(*) DESC LIMIT 1),
    (SELECT entity_id FROM audit_logs a WHERE a.organization_id = org.organization_id
     AND entity_id IS NOT NULL GROUP BY entity_type, entity_id ORDER BY count(*) DESC LIMIT 1),
    (SELECT queue FROM job_executions GROUP BY queue ORDER BY count(*) DESC LIMIT 1)
FROM org
"""


class EmptyDatabase(AdvisorOSError):
    """The database has too little data to draw a sample from."""


def sample(conn: psycopg.Connection[Any]) -> Sample:
    """Draw ids from a populated database (run as a role that sees every tenant)."""
    row = conn.execute(_SAMPLE_SQL).fetchone()
    if row is None or any(value is None for value in row):
        raise EmptyDatabase(
            "cannot sample the catalog's parameters: documents, tasks, document_sessions, "
            "audit_logs or job_executions are empty; seed the database first "
            "(for example with the benchmark's data generator)"
        )
    return Sample(*row)
