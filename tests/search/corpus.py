"""Test data for search: tenants with a client and a user, documents with text, the labelled set."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import psycopg

from advisoros_db.search.labelled_set import DOCUMENTS, LabelledDocument


@dataclass
class Tenant:
    org: uuid.UUID
    user: uuid.UUID
    client: uuid.UUID
    engagement: uuid.UUID
    documents: dict[str, uuid.UUID] = field(default_factory=dict)


def make_tenant(admin_url: str, name: str, client_name: str = "Harbor Logistics LLC") -> Tenant:
    """An organization with one user, one client and one engagement (as the admin role)."""
    with psycopg.connect(admin_url) as conn:
        org = conn.execute(
            "INSERT INTO organizations (name, slug) VALUES (%s, %s) RETURNING id",
            (name, f"{name.lower().replace(' ', '-')}-{uuid.uuid4().hex[:6]}"),
        ).fetchone()[0]  # type: ignore[index]
        user = conn.execute(
            "INSERT INTO users (organization_id, email, name) VALUES (%s, %s, %s) RETURNING id",
            (org, f"cpa-{uuid.uuid4().hex[:6]}@example.com", "Dana Whitfield"),
        ).fetchone()[0]  # type: ignore[index]
        client = conn.execute(
            "INSERT INTO clients (organization_id, business_name, legal_name, tax_id)"
            " VALUES (%s, %s, %s, '84-2210937') RETURNING id",
            (org, client_name, client_name + " Holdings"),
        ).fetchone()[0]  # type: ignore[index]
        engagement = conn.execute(
            "INSERT INTO engagements (organization_id, client_id, name, type)"
            " VALUES (%s, %s, '2023 tax return', 'tax_preparation') RETURNING id",
            (org, client),
        ).fetchone()[0]  # type: ignore[index]
    return Tenant(org, user, client, engagement)


def add_document(admin_url: str, tenant: Tenant, doc: LabelledDocument) -> uuid.UUID:
    with psycopg.connect(admin_url) as conn:
        row = conn.execute(
            "INSERT INTO documents (organization_id, client_id, uploaded_by, file_name, file_url,"
            " file_type, category, extracted_text)"
            " VALUES (%s, %s, %s, %s, %s, 'pdf', %s, %s) RETURNING id",
            (
                tenant.org,
                tenant.client,
                tenant.user,
                doc.file_name,
                f"s3://docs/{uuid.uuid4()}",
                doc.category,
                doc.text,
            ),
        ).fetchone()
    assert row is not None
    tenant.documents[doc.key] = row[0]
    return row[0]  # type: ignore[no-any-return]


def add_labelled_set(admin_url: str, tenant: Tenant, limit: int | None = None) -> None:
    for doc in DOCUMENTS[:limit]:
        add_document(admin_url, tenant, doc)
