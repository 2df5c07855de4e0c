"""Revision 0025_keys_guard_app_password on a populated database: down to 0013's guard exactly
(and with it the old weakness, shown), up again recording the password, no row touched; run by a
role that is not a superuser, or without 0013's guard, it warns and changes nothing."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql

from advisoros_db import migrations
from advisoros_db.errors import MigrationError
from advisoros_db.migrations.drift import head_revision
from advisoros_db.migrations.login_guard import GUARD, settings_guard
from advisoros_db.tenancy import APP_ROLE
from tests.security.app_password import (
    login_url,
    new_password,
    password_put_back,
    verifiers,
    with_password,
)
from tests.support import PgDatabase, PgServer, create_database, database_on, drop_database

REVISION = "0025_keys_guard_app_password"
BEFORE = "0024_search_s4_document_pages"

_FUNCTION = f"""
SELECT p.prosrc, p.prosecdef, p.proconfig, p.provolatile, p.proowner::regrole::text,
       p.proacl::text, (SELECT count(*) FROM pg_event_trigger e
                        WHERE e.evtname = '{GUARD}' AND e.evtfoid = p.oid AND e.evtenabled = 'O')
FROM pg_proc p WHERE p.oid = to_regprocedure('{GUARD}()')
"""
_ROWS = (
    "SELECT (SELECT count(*) FROM organizations), (SELECT count(*) FROM clients),"
    " (SELECT count(*) FROM documents), (SELECT count(*) FROM audit_logs)"
)
_RECORD = "SELECT to_regnamespace('advisoros_guard') IS NOT NULL"


@pytest.fixture
def populated(server: PgServer, dataset_template: str) -> Iterator[PgDatabase]:
    name = f"pw_{uuid.uuid4().hex[:12]}"
    create_database(server, name, template=dataset_template)
    try:
        yield database_on(server, name)
    finally:
        drop_database(server, name)


def _one(url: str, query: str) -> tuple[Any, ...]:
    with psycopg.connect(url) as conn:
        row = conn.execute(query).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return tuple(row)


def _body(function_sql: str) -> str:
    return function_sql.split("$guard$")[1]


def _app_sets_own_password(db: PgDatabase) -> str:
    password = new_password()
    with psycopg.connect(db.app_url, autocommit=True) as attacker:
        attacker.execute(
            sql.SQL("ALTER ROLE CURRENT_USER PASSWORD {}").format(sql.Literal(password))
        )
    return with_password(db.app_url, password)


def test_down_to_0013s_guard_exactly_and_up_again_on_a_populated_database(
    populated: PgDatabase,
) -> None:
    db = populated
    rows = _one(db.admin_url, _ROWS)
    assert rows[0] > 1000 and rows[1] > 0  # the data set's firms and their clients
    head = _one(db.admin_url, _FUNCTION)
    assert head[1] is True and head[2] == ["search_path=pg_catalog, pg_temp"] and head[6] == 1

    migrations.downgrade(db.admin_url, BEFORE)
    old = _one(db.admin_url, _FUNCTION)
    # 0013's function: its body, the caller's rights, its search_path; same owner, grants and
    # enabled trigger as before.
    assert old[0] == _body(settings_guard())
    assert old[1:4] == (False, ["search_path=pg_catalog"], "v")
    assert old[4:] == head[4:]
    assert _one(db.admin_url, _RECORD) == (False,)
    assert _one(db.admin_url, _ROWS) == rows
    # And 0013's weakness is back, which shows what 0025 is for: a password the application
    # role gives itself logs in.
    with password_put_back(db):
        planted = _app_sets_own_password(db)
        with psycopg.connect(planted) as conn:
            assert conn.execute("SELECT current_user").fetchone() == (APP_ROLE,)

    migrations.upgrade(db.admin_url)
    assert migrations.current(db.admin_url) == head_revision()
    assert _one(db.admin_url, _FUNCTION) == head
    assert _one(db.admin_url, _ROWS) == rows
    recorded, current = verifiers(db)
    assert recorded == current is not None
    assert migrations.drift(db.admin_url) == []
    with password_put_back(db):
        planted = _app_sets_own_password(db)
        with pytest.raises(psycopg.OperationalError, match="changed since an operator recorded"):
            psycopg.connect(planted).close()


@pytest.fixture
def migrator_url(db: PgDatabase) -> Iterator[str]:
    """A role that is not a superuser but may run 0025's step: it owns Alembic's version table."""
    role, password = f"migrator_{uuid.uuid4().hex[:10]}", new_password()
    ident = sql.Identifier(role)
    with psycopg.connect(db.admin_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER PASSWORD {}").format(
                ident, sql.Literal(password)
            )
        )
    try:
        yield login_url(db.admin_url, role, password)
    finally:
        with psycopg.connect(db.admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("REASSIGN OWNED BY {} TO CURRENT_USER").format(ident))
            admin.execute(sql.SQL("DROP OWNED BY {}").format(ident))
            admin.execute(sql.SQL("DROP ROLE {}").format(ident))


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_a_role_that_is_not_a_superuser_changes_nothing_and_is_warned(
    db: PgDatabase, migrator_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with psycopg.connect(db.admin_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("ALTER TABLE alembic_version OWNER TO {}").format(
                sql.Identifier(str(urlsplit(migrator_url).username))
            )
        )
    head = _one(db.admin_url, _FUNCTION)
    with pytest.raises(MigrationError, match="stepping down needs a superuser"):
        migrations.downgrade(migrator_url, BEFORE)
    assert migrations.current(db.admin_url) == REVISION
    assert _one(db.admin_url, _FUNCTION) == head and _one(db.admin_url, _RECORD) == (True,)

    migrations.downgrade(db.admin_url, BEFORE)
    old = _one(db.admin_url, _FUNCTION)
    with caplog.at_level(logging.WARNING, logger="alembic"):
        migrations.upgrade(migrator_url)
    assert any("0025" in w and "not a superuser" in w for w in _warnings(caplog))
    assert migrations.current(db.admin_url) == REVISION
    assert _one(db.admin_url, _FUNCTION) == old
    assert _one(db.admin_url, _RECORD) == (False,)
    # Stepping down over the step that changed nothing changes nothing either.
    migrations.downgrade(migrator_url, BEFORE)
    assert _one(db.admin_url, _FUNCTION) == old


def test_without_0013s_guard_it_warns_and_changes_nothing(
    db: PgDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    # What a database whose 0013 ran as a role that is not a superuser looks like.
    migrations.downgrade(db.admin_url, BEFORE)
    with psycopg.connect(db.admin_url, autocommit=True) as admin:
        admin.execute(f"DROP EVENT TRIGGER {GUARD}")  # type: ignore[arg-type]
        admin.execute(f"DROP FUNCTION {GUARD}()")  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING, logger="alembic"):
        migrations.upgrade(db.admin_url)
    assert any("0025" in w and "0013" in w for w in _warnings(caplog))
    assert migrations.current(db.admin_url) == head_revision()
    with psycopg.connect(db.admin_url) as admin:
        row = admin.execute(
            f"SELECT to_regprocedure('{GUARD}()'), to_regnamespace('advisoros_guard')"  # type: ignore[arg-type]
        ).fetchone()
    assert row == (None, None)


def test_the_offline_script_installs_the_guard_and_records_the_password() -> None:
    script = migrations.upgrade_sql(REVISION, start=BEFORE)
    assert "SECURITY DEFINER" in script and "record_app_password()" in script
    assert "PERFORM * FROM advisoros_guard.record_app_password()" in script
