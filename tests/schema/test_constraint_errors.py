"""Constraint violations arrive as the package's own errors, naming the constraint, and change
nothing."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from advisoros_db.errors import (
    CheckViolation,
    ForeignKeyViolation,
    NotNullViolation,
    UniqueViolation,
    translated,
)
from advisoros_db.tenancy import tenant_transaction
from tests.schema.conftest import Seeded, SeededDb


def test_email_is_unique_per_organization_ignoring_case(seeded_db: SeededDb) -> None:
    org = seeded_db.seed.organizations[0]
    with psycopg.connect(seeded_db.db.app_url) as conn:
        with tenant_transaction(conn, org):
            conn.execute(
                "INSERT INTO users (organization_id, email, name) VALUES (%s, 'Ann@Firm.com', 'A')",
                (org,),
            )
        with (
            pytest.raises(UniqueViolation) as caught,
            tenant_transaction(conn, org),
        ):
            conn.execute(
                "INSERT INTO users (organization_id, email, name) VALUES (%s, 'ann@firm.com', 'B')",
                (org,),
            )
        assert caught.value.constraint == "uq_users_organization_id_email"
        assert "uq_users_organization_id_email" in str(caught.value)
        # Another firm may have a user with the same address.
        other = seeded_db.seed.organizations[1]
        with tenant_transaction(conn, other):
            conn.execute(
                "INSERT INTO users (organization_id, email, name) VALUES (%s, 'ann@firm.com', 'C')",
                (other,),
            )


@pytest.mark.parametrize(
    ("statement", "constraint"),
    [
        ("UPDATE invoices SET status = 'lost'", "ck_invoices_status"),
        ("UPDATE invoices SET due_date = issue_date - 1", "ck_invoices_due_after_issue"),
        ("UPDATE invoices SET currency = 'usd'", "ck_invoices_currency_iso4217"),
        ("UPDATE invoices SET amount = -1", "ck_invoices_amount_non_negative"),
        ("UPDATE documents SET tax_year = 1066", "ck_documents_tax_year_range"),
        ("UPDATE documents SET ocr_confidence = 1.5", "ck_documents_ocr_confidence_range"),
        ("UPDATE clients SET risk_level = 'extreme'", "ck_clients_risk_level"),
        ("UPDATE tasks SET priority = 'whenever'", "ck_tasks_priority"),
        (
            "UPDATE document_embeddings SET dimensions = 4",
            "ck_document_embeddings_dimensions_match",
        ),
    ],
)
def test_check_violations_name_the_constraint(
    seeded: Seeded, statement: str, constraint: str
) -> None:
    org = seeded.seed.organizations[0]
    with psycopg.connect(seeded.db.app_url) as conn:
        with pytest.raises(CheckViolation) as caught, tenant_transaction(conn, org):
            conn.execute(statement)  # type: ignore[arg-type]
        assert caught.value.constraint == constraint
        with tenant_transaction(conn, org):
            row = conn.execute("SELECT status, amount FROM invoices").fetchone()
    assert row is not None and row[0] == "draft" and row[1] == 1


def test_missing_required_value_is_a_not_null_violation(seeded: Seeded) -> None:
    org = seeded.seed.organizations[0]
    with (
        psycopg.connect(seeded.db.app_url) as conn,
        pytest.raises(NotNullViolation) as caught,
        tenant_transaction(conn, org),
    ):
        conn.execute(
            "INSERT INTO invoices (organization_id, client_id, invoice_number, issue_date, "
            "due_date) VALUES (%s, %s, 'INV-9', %s, %s)",
            (org, seeded.seed.row("clients", 0), dt.date.today(), dt.date.today()),
        )
    assert caught.value.table == "invoices"
    assert "amount" in str(caught.value)


def test_on_delete_restrict_is_reported_as_a_foreign_key_violation(seeded_db: SeededDb) -> None:
    # Regression: restrict_violation (23001) had no mapping and escaped as a raw driver error.
    with psycopg.connect(seeded_db.db.admin_url) as conn:
        conn.execute("CREATE TABLE parent_t (id int PRIMARY KEY)")
        conn.execute(
            "CREATE TABLE child_t (parent_id int "
            "CONSTRAINT child_parent REFERENCES parent_t ON DELETE RESTRICT)"
        )
        conn.execute("INSERT INTO parent_t VALUES (1); INSERT INTO child_t VALUES (1)")
        conn.commit()
        with pytest.raises(ForeignKeyViolation) as caught, translated():
            conn.execute("DELETE FROM parent_t")
    assert caught.value.constraint == "child_parent"
    assert caught.value.sqlstate == "23001"
