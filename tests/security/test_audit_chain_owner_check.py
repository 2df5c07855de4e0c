"""The audit chain's stamping trigger of revision 0020_writes_audit_stamp checks whether the caller
acts as the table's owner once per caller and partition in a transaction, and remembers a
restricted caller in a transaction-local setting that anyone can write. Forging that setting must
not let the application role set what the database sets; a role switch inside the transaction
must be checked again; `audit verify` judges every chain."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import psycopg
import pytest
from psycopg import sql

from advisoros_db import migrations
from advisoros_db.audit import act_as, verify
from advisoros_db.errors import PermissionDenied, translated
from advisoros_db.tenancy import APP_ROLE, tenant_transaction
from tests.schema.conftest import SeededDb
from tests.security.test_document_keys import _seed
from tests.support import PgDatabase

_ENTRY = "INSERT INTO audit_logs (organization_id, entity_type, action) VALUES (%s, 'client', %s)"
_RESTRICTED = "audit_chain.restricted"


@pytest.fixture
def firms(db: PgDatabase) -> SeededDb:
    return SeededDb(db=db, seed=_seed(db.admin_url))


def _verified(url: str) -> None:
    with psycopg.connect(url) as admin:
        report = verify(admin)
    assert report.ok, report.as_dict()


def _partition_of_now(app: psycopg.Connection[Any]) -> str:
    row = app.execute(
        "SELECT tableoid FROM audit_logs WHERE created_at = now() ORDER BY chain_seq DESC LIMIT 1"
    ).fetchone()
    assert row is not None
    return str(row[0])


@pytest.mark.parametrize("forged", ["mine", "empty", "superuser", "garbage"])
def test_a_forged_restriction_setting_never_lets_the_application_set_time_or_user(
    firms: SeededDb, forged: str
) -> None:
    org, me, colleague = firms.seed.organizations[0], firms.seed.row("users", 0), uuid.uuid4()
    with psycopg.connect(firms.db.app_url) as app:
        for column, value, pattern in (
            ("created_at", dt.datetime.now(dt.UTC) - dt.timedelta(days=400), "set by the database"),
            ("user_id", colleague, "acting user"),
        ):
            with (
                pytest.raises(PermissionDenied, match=pattern),
                translated(),
                tenant_transaction(app, org),
            ):
                act_as(app, me)
                app.execute(_ENTRY, (org, "view"))  # a first row: the caller is remembered
                partition = _partition_of_now(app)
                value_of = {
                    "mine": f"{APP_ROLE}/{partition}",
                    "empty": "",
                    "superuser": f"postgres/{partition}",
                    "garbage": "'); --",
                }
                app.execute("SELECT set_config(%s, %s, true)", (_RESTRICTED, value_of[forged]))
                # Two rows in one statement: the second takes the remembered path.
                app.execute(
                    sql.SQL(
                        "INSERT INTO audit_logs (organization_id, entity_type, action, {})"
                        " VALUES (%s, 'client', 'view', DEFAULT), (%s, 'client', 'delete', %s)"
                    ).format(sql.Identifier(column)),
                    (org, org, value),
                )
    with psycopg.connect(firms.db.admin_url) as admin:
        deletes = admin.execute(
            "SELECT count(*) FROM audit_logs WHERE organization_id = %s AND action = 'delete'",
            (org,),
        ).fetchone()
    assert deletes == (0,)
    _verified(firms.db.admin_url)


def test_a_role_switch_in_the_transaction_is_checked_again(firms: SeededDb) -> None:
    """The restricted application role first, then the owner in the same transaction: the owner's
    backdated row is its to write (an import of a historical trail), and the other way round the
    application role is restricted after the owner's rows."""
    org = firms.seed.organizations[0]
    backdated = dt.datetime(2025, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
    as_app = sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(APP_ROLE))
    with psycopg.connect(firms.db.admin_url) as owner:
        owner.execute("SELECT set_config('app.organization_id', %s, true)", (str(org),))
        owner.execute(as_app)
        owner.execute(_ENTRY, (org, "view"))  # remembered: restricted in this month's partition
        owner.execute("RESET ROLE")
        row = owner.execute(
            "INSERT INTO audit_logs (organization_id, entity_type, action, created_at)"
            " VALUES (%s, 'client', 'create', %s) RETURNING created_at",
            (org, backdated),
        ).fetchone()
        assert row == (backdated,)
        owner.execute(as_app)
        # The same partition as the remembered row: the restricted path without the check.
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="set by the database"):
            owner.execute(
                "INSERT INTO audit_logs (organization_id, entity_type, action, created_at)"
                " VALUES (%s, 'client', 'delete', now() + interval '1 microsecond')",
                (org,),
            )
        owner.rollback()
    # Committed this time: the import stays, and the chain through it verifies.
    with psycopg.connect(firms.db.admin_url) as owner:
        owner.execute("SELECT set_config('app.organization_id', %s, true)", (str(org),))
        owner.execute(as_app)
        owner.execute(_ENTRY, (org, "view"))
        owner.execute("RESET ROLE")
        owner.execute(
            "INSERT INTO audit_logs (organization_id, entity_type, action, created_at)"
            " VALUES (%s, 'client', 'create', %s)",
            (org, backdated),
        )
    with psycopg.connect(firms.db.admin_url) as admin:
        imported = admin.execute(
            "SELECT count(*) FROM audit_logs WHERE organization_id = %s AND created_at = %s",
            (org, backdated),
        ).fetchone()
        deletes = admin.execute(
            "SELECT count(*) FROM audit_logs WHERE organization_id = %s AND action = 'delete'",
            (org,),
        ).fetchone()
    assert imported == (1,) and deletes == (0,)
    _verified(firms.db.admin_url)


def test_revision_0020_downgrades_and_upgrades_on_a_populated_database(firms: SeededDb) -> None:
    url, org = firms.db.admin_url, firms.seed.organizations[0]

    def write(rows: int) -> None:
        with psycopg.connect(firms.db.app_url) as app, tenant_transaction(app, org):
            app.execute(
                "INSERT INTO audit_logs (organization_id, entity_type, action)"
                " SELECT %s, 'client', 'view' FROM generate_series(1, %s)",
                (org, rows),
            )

    def stamp_source() -> str:
        with psycopg.connect(url) as admin:
            row = admin.execute(
                "SELECT prosrc FROM pg_proc WHERE proname = 'audit_chain_stamp'"
            ).fetchone()
        assert row is not None
        return str(row[0])

    write(20)
    assert _RESTRICTED in stamp_source()
    migrations.downgrade(url, "0019_write_cost_audit_chain")
    assert _RESTRICTED not in stamp_source() and "PERFORM set_config" in stamp_source()
    write(7)  # the chain goes on under 0019's function
    _verified(url)
    migrations.upgrade(url, "head")
    write(9)
    _verified(url)
    with psycopg.connect(url) as admin:
        count = admin.execute(
            "SELECT count(*), max(chain_seq) FROM audit_logs WHERE organization_id = %s", (org,)
        ).fetchone()
    assert count is not None and count[0] == count[1]
