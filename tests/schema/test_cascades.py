"""ON DELETE rules behave as docs/schema.md documents them."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from psycopg import sql

from advisoros_db.errors import ForeignKeyViolation, translated
from advisoros_db.schema import metadata, tenant_tables
from advisoros_db.tenancy import tenant_transaction
from tests.schema.conftest import SeededDb


def _count(conn: psycopg.Connection[Any], table: str, where: str, value: object) -> int:
    query = sql.SQL("SELECT count(*) FROM {} WHERE {} = %s").format(
        sql.Identifier(table), sql.Identifier(where)
    )
    row = conn.execute(query, (value,)).fetchone()
    assert row is not None
    return int(row[0])


def _new_client(conn: psycopg.Connection[Any]) -> uuid.UUID:
    row = conn.execute(
        "INSERT INTO clients (organization_id, business_name) "
        "VALUES (current_setting('app.organization_id')::uuid, 'Acme') RETURNING id"
    ).fetchone()
    assert row is not None
    return row[0]


def test_a_client_with_invoices_cannot_be_deleted(seeded_db: SeededDb) -> None:
    s = seeded_db.seed
    client = s.row("clients", 0)
    with psycopg.connect(seeded_db.db.app_url) as conn:
        with (
            pytest.raises(ForeignKeyViolation) as caught,
            tenant_transaction(conn, s.organizations[0]),
        ):
            conn.execute("DELETE FROM clients WHERE id = %s", (client,))
        assert caught.value.constraint == "fk_invoices_organization_id_client_id_clients"
        with tenant_transaction(conn, s.organizations[0]):
            assert _count(conn, "clients", "id", client) == 1
            assert _count(conn, "documents", "client_id", client) == 1


def test_deleting_a_client_removes_its_documents_engagements_tasks_and_notes(
    seeded_db: SeededDb,
) -> None:
    s = seeded_db.seed
    org, user = s.organizations[0], s.row("users", 0)
    with psycopg.connect(seeded_db.db.app_url) as conn:
        with tenant_transaction(conn, org):
            client = _new_client(conn)
            doc = conn.execute(
                "INSERT INTO documents (organization_id, client_id, uploaded_by, file_name, "
                "file_url, file_type) VALUES (%s, %s, %s, 'w2.pdf', 's3://x', 'pdf') RETURNING id",
                (org, client, user),
            ).fetchone()
            engagement = conn.execute(
                "INSERT INTO engagements (organization_id, client_id, name, type) "
                "VALUES (%s, %s, '2025 return', 'tax_preparation') RETURNING id",
                (org, client),
            ).fetchone()
            assert doc is not None and engagement is not None
            conn.execute(
                "INSERT INTO tasks (organization_id, engagement_id, title) VALUES (%s, %s, 'W-2')",
                (org, engagement[0]),
            )
            conn.execute(
                "INSERT INTO notes (organization_id, client_id, author_id, content) "
                "VALUES (%s, %s, %s, 'called')",
                (org, client, user),
            )
            conn.execute(
                "INSERT INTO document_comments (organization_id, document_id, author_id, content) "
                "VALUES (%s, %s, %s, 'blurry')",
                (org, doc[0], user),
            )
        with tenant_transaction(conn, org):
            conn.execute("DELETE FROM clients WHERE id = %s", (client,))
        with tenant_transaction(conn, org):
            assert _count(conn, "documents", "client_id", client) == 0
            assert _count(conn, "document_comments", "document_id", doc[0]) == 0
            assert _count(conn, "engagements", "client_id", client) == 0
            assert _count(conn, "tasks", "engagement_id", engagement[0]) == 0
            assert _count(conn, "notes", "client_id", client) == 0


def test_deleting_a_user_unassigns_their_work_and_keeps_it(seeded_db: SeededDb) -> None:
    s = seeded_db.seed
    org, task = s.organizations[0], s.row("tasks", 0)
    with psycopg.connect(seeded_db.db.app_url) as conn:
        with tenant_transaction(conn, org):
            row = conn.execute(
                "INSERT INTO users (organization_id, email, name) "
                "VALUES (%s, 'temp@example.com', 'Temp') RETURNING id",
                (org,),
            ).fetchone()
            assert row is not None
            conn.execute("UPDATE tasks SET assignee_id = %s WHERE id = %s", (row[0], task))
        with tenant_transaction(conn, org):
            conn.execute("DELETE FROM users WHERE id = %s", (row[0],))
        with tenant_transaction(conn, org):
            kept = conn.execute(
                "SELECT organization_id, assignee_id FROM tasks WHERE id = %s", (task,)
            ).fetchone()
    # SET NULL names the column: the task keeps its organization.
    assert kept == (org, None)


def test_a_user_who_uploaded_documents_cannot_be_deleted(seeded_db: SeededDb) -> None:
    s = seeded_db.seed
    # The owner's maintenance path: no tenant scope (a superuser may not run tenant transactions).
    with psycopg.connect(seeded_db.db.admin_url) as conn:
        with pytest.raises(ForeignKeyViolation) as caught, translated(), conn.transaction():
            conn.execute("DELETE FROM users WHERE id = %s", (s.row("users", 0),))
        assert caught.value.constraint is not None
        assert caught.value.constraint.startswith("fk_")
        assert _count(conn, "users", "id", s.row("users", 0)) == 1


def test_deleting_a_document_removes_its_processing_embeddings_and_shares(
    seeded_db: SeededDb,
) -> None:
    s = seeded_db.seed
    doc = s.row("documents", 0)
    dependents = [
        "document_processing",
        "document_embeddings",
        "document_shares",
        "document_sessions",
        "document_annotations",
        "document_comments",
    ]
    with psycopg.connect(seeded_db.db.app_url) as conn:
        with tenant_transaction(conn, s.organizations[0]):
            assert all(_count(conn, t, "document_id", doc) == 1 for t in dependents)
            conn.execute("DELETE FROM documents WHERE id = %s", (doc,))
        with tenant_transaction(conn, s.organizations[0]):
            assert all(_count(conn, t, "document_id", doc) == 0 for t in dependents)


def test_deleting_an_organization_removes_every_tenant_row_and_only_its_own(
    seeded_db: SeededDb,
) -> None:
    s = seeded_db.seed
    gone, kept = s.organizations
    with psycopg.connect(seeded_db.db.admin_url) as conn:
        conn.execute("DELETE FROM organizations WHERE id = %s", (gone,))
        for table in tenant_tables(metadata):
            assert _count(conn, table.name, "organization_id", gone) == 0, table.name
            assert _count(conn, table.name, "organization_id", kept) == 1, table.name
