"""audit_logs is append-only for the application role: the database refuses UPDATE, DELETE and
TRUNCATE, by grants and, should grants ever widen, by a trigger."""

from __future__ import annotations

import psycopg
import pytest

from advisoros_db.errors import PermissionDenied
from advisoros_db.tenancy import tenant_transaction
from tests.schema.conftest import Seeded, SeededDb

WRITES = [
    "UPDATE audit_logs SET action = 'delete'",
    "DELETE FROM audit_logs",
    "TRUNCATE audit_logs",
]


def _count(url: str) -> int:
    with psycopg.connect(url) as admin:
        row = admin.execute("SELECT count(*) FROM audit_logs").fetchone()
    assert row is not None
    return int(row[0])


def test_the_app_appends_and_reads_its_audit_trail(seeded_db: SeededDb) -> None:
    org = seeded_db.seed.organizations[0]
    with psycopg.connect(seeded_db.db.app_url) as conn, tenant_transaction(conn, org):
        conn.execute(
            "INSERT INTO audit_logs (organization_id, entity_type, entity_id, action, "
            "ip_address) VALUES (%s, 'client', %s, 'update', '192.0.2.1')",
            (org, seeded_db.seed.row("clients", 0)),
        )
        row = conn.execute("SELECT count(*) FROM audit_logs").fetchone()
    assert row == (2,)


@pytest.mark.parametrize("statement", WRITES)
def test_the_app_role_may_not_change_or_remove_audit_rows(seeded: Seeded, statement: str) -> None:
    before = _count(seeded.db.admin_url)
    org = seeded.seed.organizations[0]
    with (
        psycopg.connect(seeded.db.app_url) as conn,
        pytest.raises(PermissionDenied, match="permission denied"),
        tenant_transaction(conn, org),
    ):
        conn.execute(statement)  # type: ignore[arg-type]
    assert _count(seeded.db.admin_url) == before


def test_the_trigger_refuses_even_when_grants_are_widened(seeded_db: SeededDb) -> None:
    with psycopg.connect(seeded_db.db.admin_url) as admin:
        admin.execute("GRANT UPDATE, DELETE, TRUNCATE ON audit_logs TO advisoros_app")
    before = _count(seeded_db.db.admin_url)
    org = seeded_db.seed.organizations[0]
    with psycopg.connect(seeded_db.db.app_url) as conn:
        for statement in WRITES:
            with (
                pytest.raises(PermissionDenied, match="append-only"),
                tenant_transaction(conn, org),
            ):
                conn.execute(statement)  # type: ignore[arg-type]
    assert _count(seeded_db.db.admin_url) == before


def test_the_owner_may_still_purge_for_retention(seeded_db: SeededDb) -> None:
    with psycopg.connect(seeded_db.db.admin_url) as admin:
        deleted = admin.execute("DELETE FROM audit_logs WHERE action = 'create'")
    assert deleted.rowcount == 2
