"""Attack as the application role on its own role and on other sessions: it cannot give itself
privileges, per-role settings it plants never reach a session, and it cannot read another
session's query text (every tenant shares the role, so that would be another firm's query)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import errors, sql

from advisoros_db.errors import TenantError
from advisoros_db.tenancy import APP_ROLE, tenant_transaction
from tests.support import PgDatabase

PRIVILEGES = (
    "SUPERUSER",
    "BYPASSRLS",
    "CREATEROLE",
    "CREATEDB",
    "REPLICATION",
    "CONNECTION LIMIT 1000",
    "VALID UNTIL 'infinity'",
    "NOINHERIT",
)


@pytest.mark.parametrize("attribute", PRIVILEGES)
def test_the_app_role_cannot_alter_its_own_attributes(db: PgDatabase, attribute: str) -> None:
    with psycopg.connect(db.app_url, autocommit=True) as conn:
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(f"ALTER ROLE {APP_ROLE} {attribute}")  # type: ignore[arg-type]
        for escalation in (
            "SET ROLE postgres",
            "SET SESSION AUTHORIZATION postgres",
            f"GRANT pg_read_all_stats TO {APP_ROLE}",
            "ALTER ROLE postgres SET statement_timeout = '1ms'",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(escalation)  # type: ignore[arg-type]


@contextmanager
def _reset_role_afterwards(db: PgDatabase) -> Iterator[None]:
    try:
        yield
    finally:
        with psycopg.connect(db.admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("ALTER ROLE {} RESET ALL").format(sql.Identifier(APP_ROLE)))
            admin.execute(
                sql.SQL("ALTER ROLE {} IN DATABASE {} RESET ALL").format(
                    sql.Identifier(APP_ROLE), sql.Identifier(db.name)
                )
            )


def test_the_app_role_cannot_plant_a_tenant_as_its_own_default(db: PgDatabase) -> None:
    # PostgreSQL itself refuses a non-superuser's per-role default for a custom parameter.
    with (
        _reset_role_afterwards(db),
        psycopg.connect(db.app_url, autocommit=True) as attacker,
        pytest.raises(errors.InsufficientPrivilege, match=r"app\.organization_id"),
    ):
        attacker.execute(
            sql.SQL("ALTER ROLE {} SET app.organization_id = {}").format(
                sql.Identifier(APP_ROLE), sql.Literal(str(uuid.uuid4()))
            )
        )


SETTINGS = (
    "ALTER ROLE {role} SET statement_timeout = '1ms'",
    "ALTER ROLE {role} IN DATABASE {db} SET search_path = attacker, public",
)


@pytest.mark.parametrize("statement", SETTINGS)
def test_per_role_settings_the_app_role_plants_never_reach_a_session(
    db: PgDatabase, statement: str
) -> None:
    # PostgreSQL lets every role set its own defaults for ordinary parameters; no privilege removes
    # that. What must hold: no session ever starts with them (revision 0013's login guard refuses
    # logins until the owner resets them), and a connection opened before the change cannot start
    # a tenant transaction either.
    with (
        _reset_role_afterwards(db),
        psycopg.connect(db.app_url, autocommit=True) as attacker,
        psycopg.connect(db.app_url) as earlier,
    ):
        attacker.execute(statement.format(role=APP_ROLE, db=db.name))  # type: ignore[arg-type]
        with pytest.raises(psycopg.OperationalError, match="per-role settings") as refused:
            psycopg.connect(db.app_url).close()
        assert "RESET ALL" in str(refused.value)
        with (
            pytest.raises(TenantError, match="per-role settings"),
            tenant_transaction(earlier, uuid.uuid4()),
        ):
            pass
    # Once the owner has reset the role, the application logs in again.
    with psycopg.connect(db.app_url) as conn:
        assert conn.execute("SELECT current_setting('statement_timeout')").fetchone() == ("0",)


def test_other_sessions_query_texts_are_invisible_to_the_app_role(db: PgDatabase) -> None:
    secret = f"victim-secret-{uuid.uuid4().hex}"
    with (
        psycopg.connect(db.app_url, autocommit=True) as victim,
        psycopg.connect(db.app_url, autocommit=True) as attacker,
        psycopg.connect(db.admin_url, autocommit=True) as admin,
    ):
        victim.execute(f"SELECT '{secret}'")  # type: ignore[arg-type]
        # The text is there to be seen (a monitoring role sees it): the attack below is real.
        seen = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE %s", (f"%{secret}%",)
        ).fetchone()
        assert seen == (1,)
        for probe in (
            "SELECT query FROM pg_stat_activity",
            "SELECT query FROM pg_catalog.pg_stat_get_activity(NULL)",
            "SELECT pg_stat_get_backend_activity(b) FROM pg_stat_get_backend_idset() b",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                attacker.execute(probe)  # type: ignore[arg-type]
