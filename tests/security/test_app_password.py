"""Attack as the application role on its own password: PostgreSQL lets every role change it (a
plain password, or a SCRAM verifier hashed by the client, which no server-side check can inspect),
so revision 0025's login guard makes a password the role set for itself open nothing. Logins fail
closed until a superuser records the password; the role can neither read nor write the record."""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import errors, sql
from typer.testing import CliRunner

from advisoros_db import migrations
from advisoros_db.cli.app import app
from advisoros_db.cluster import Cluster
from advisoros_db.cluster.manager import SERVER_DATABASES
from advisoros_db.errors import MigrationError, PermissionDenied
from advisoros_db.migrations.drift import head_revision
from advisoros_db.tenancy import APP_ROLE
from advisoros_db.tenancy.password_guard import RECORD_COMMAND, record_app_password
from advisoros_db.urls import with_database
from tests.routing.conftest import settle
from tests.security.app_password import (
    login_url,
    new_password,
    password_put_back,
    scram_verifier,
    set_password,
    verifiers,
    with_password,
)
from tests.support import EXTERNAL_URL, PgDatabase, PgServer

REFUSED = "password was changed since an operator recorded it"


def _record_with_cli(
    db: PgDatabase, monkeypatch: pytest.MonkeyPatch, url: str, *options: str
) -> tuple[int, str]:
    monkeypatch.setenv("ADVISOROS_DATABASE_URL", url)
    monkeypatch.setenv("ADVISOROS_APP_DATABASE_URL", db.app_url)
    monkeypatch.setenv("COLUMNS", "400")
    result = CliRunner().invoke(app, ["roles", "record-password", *options])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result.exit_code, result.output


def _refused(url: str) -> str:
    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect(url).close()
    return str(refused.value)


def test_migrating_recorded_the_password_the_application_logs_in_with(db: PgDatabase) -> None:
    recorded, current = verifiers(db)
    assert current is not None and current.startswith("SCRAM-SHA-256$")
    assert recorded == current
    with psycopg.connect(db.app_url) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (APP_ROLE,)


@pytest.mark.parametrize("form", ["plain", "pre-hashed SCRAM verifier"])
def test_a_password_the_app_role_sets_for_itself_opens_nothing_until_an_operator_records_it(
    db: PgDatabase, monkeypatch: pytest.MonkeyPatch, form: str
) -> None:
    password = new_password()
    sent = password if form == "plain" else scram_verifier(password)
    with password_put_back(db):
        with psycopg.connect(db.app_url, autocommit=True) as attacker:
            attacker.execute(
                sql.SQL("ALTER ROLE CURRENT_USER PASSWORD {}").format(sql.Literal(sent))
            )
            # It took: the role's verifier is the attacker's (stored as sent when pre-hashed).
            recorded, current = verifiers(db)
            assert current != recorded
            if form != "plain":
                assert current == sent
            # A new login with the attacker's password authenticates, and the guard refuses it.
            message = _refused(with_password(db.app_url, password))
            assert REFUSED in message and RECORD_COMMAND in message
            # Nor can the login switch event triggers off for itself (a superuser's setting).
            with pytest.raises(psycopg.OperationalError, match="permission denied"):
                psycopg.connect(
                    with_password(db.app_url, password), options="-c event_triggers=off"
                ).close()
            # The application's own password no longer matches: PostgreSQL itself rejects it
            # (the attack locks the application out; it fails closed, visibly).
            assert "password authentication failed" in _refused(db.app_url)
            # The attacker's open session cannot put its password on record either.
            for probe in (
                "SELECT * FROM advisoros_guard.record_app_password()",
                "UPDATE advisoros_guard.role_passwords SET verifier = NULL",
            ):
                with pytest.raises(errors.InsufficientPrivilege):
                    attacker.execute(probe)  # type: ignore[arg-type]

        # The owner's paths do not depend on the application role's login: it logs in (the
        # guard runs for every login) and the models still match the database.
        assert migrations.current(db.admin_url) == head_revision()
        assert migrations.drift(db.admin_url) == []

        # An operator who did set this password records it; then it logs in again.
        code, out = _record_with_cli(db, monkeypatch, db.admin_url)
        assert code == 0, out
        assert "recorded the current password of advisoros_app" in out and "differed" in out
        with psycopg.connect(with_password(db.app_url, password)) as conn:
            assert conn.execute("SELECT current_user").fetchone() == (APP_ROLE,)
        assert verifiers(db)[0] == verifiers(db)[1]


@pytest.mark.skipif(
    EXTERNAL_URL is not None,
    reason="the embedded cluster's provisioning; docs/security.md for others",
)
def test_a_password_the_app_role_sets_for_itself_opens_none_of_the_servers_own_databases(
    db: PgDatabase,
) -> None:
    """The guard lives in the application's database; the server's own databases (which hold no
    guard, and where pg_stat_activity shows every database's query texts) admit no login of the
    application role at all, whatever its password."""
    password = new_password()
    with password_put_back(db):
        with psycopg.connect(db.app_url, autocommit=True) as attacker:
            attacker.execute(
                sql.SQL("ALTER ROLE CURRENT_USER PASSWORD {}").format(sql.Literal(password))
            )
        for other in SERVER_DATABASES:
            url = with_database(with_password(db.app_url, password), other)
            message = _refused(url)
            assert f'permission denied for database "{other}"' in message, message
        # The owner still reaches them (maintenance, CREATE DATABASE).
        with psycopg.connect(with_database(db.admin_url, "postgres")) as owner:
            assert owner.execute("SELECT 1").fetchone() == (1,)


def test_a_recorded_absence_of_password_refuses_a_password_set_later(db: PgDatabase) -> None:
    # With certificate or peer authentication the role has no password (NULL verifier): one the
    # role gives itself later must not open a password login either.
    password = new_password()
    with password_put_back(db), psycopg.connect(db.app_url, autocommit=True) as earlier:
        with psycopg.connect(db.admin_url, autocommit=True) as admin:
            set_password(admin, None)
            recorded = record_app_password(admin)
        assert not recorded.has_password and recorded.changed
        assert verifiers(db) == (None, None)
        earlier.execute(
            sql.SQL("ALTER ROLE CURRENT_USER PASSWORD {}").format(sql.Literal(password))
        )
        assert REFUSED in _refused(with_password(db.app_url, password))


def test_recording_an_unchanged_password_changes_nothing(
    db: PgDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = verifiers(db)
    with psycopg.connect(db.admin_url, autocommit=True) as admin:
        recorded = record_app_password(admin)
    assert recorded.has_password and not recorded.changed
    assert "already the recorded one" in recorded.describe()
    code, out = _record_with_cli(db, monkeypatch, db.admin_url, "--json")
    assert code == 0, out
    assert json.loads(out) == {
        "role": APP_ROLE,
        "database": db.name,
        "has_password": True,
        "changed": False,
    }
    assert verifiers(db) == before
    with psycopg.connect(db.app_url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_the_app_role_can_neither_read_nor_change_the_record_nor_the_guard(
    db: PgDatabase,
) -> None:
    with psycopg.connect(db.admin_url, autocommit=True) as admin:
        admin.execute("ANALYZE advisoros_guard.role_passwords")
        # The statistics exist (a superuser sees them): the probe below is a real one.
        seen = admin.execute(
            "SELECT count(*) FROM pg_stats WHERE schemaname = 'advisoros_guard'"
        ).fetchone()
        assert seen is not None and seen[0] > 0
    with psycopg.connect(db.app_url, autocommit=True) as app_conn:
        for probe in (
            "SELECT verifier FROM advisoros_guard.role_passwords",
            "SELECT * FROM advisoros_guard.record_app_password()",
            "INSERT INTO advisoros_guard.role_passwords (role_name) VALUES ('x')",
            "DELETE FROM advisoros_guard.role_passwords",
            "CREATE TABLE advisoros_guard.planted ()",
            "SELECT rolpassword FROM pg_authid",
            "ALTER FUNCTION advisoros_login_guard() SECURITY INVOKER",
            "DROP FUNCTION advisoros_login_guard() CASCADE",
            "ALTER EVENT TRIGGER advisoros_login_guard DISABLE",
            "DROP EVENT TRIGGER advisoros_login_guard",
            "SET event_triggers = off",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                app_conn.execute(probe)  # type: ignore[arg-type]
        # Nor can it take another name, which the guard would not know.
        with pytest.raises((errors.InsufficientPrivilege, errors.FeatureNotSupported)):
            app_conn.execute("ALTER ROLE advisoros_app RENAME TO advisoros_app_renamed")
        # An event trigger function cannot be called directly (by anyone).
        with pytest.raises(errors.FeatureNotSupported):
            app_conn.execute("SELECT advisoros_login_guard()")
        statistics = app_conn.execute(
            "SELECT count(*) FROM pg_stats WHERE schemaname = 'advisoros_guard'"
        ).fetchone()
        assert statistics == (0,)


def test_only_a_superuser_records_and_is_told_so(
    db: PgDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A role that may log in but is not a superuser, as the owner on a managed service.
    role, password = f"owner_{uuid.uuid4().hex[:10]}", new_password()
    ident = sql.Identifier(role)
    with psycopg.connect(db.admin_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER PASSWORD {}").format(
                ident, sql.Literal(password)
            )
        )
    owner_url = login_url(db.admin_url, role, password)
    before = verifiers(db)
    try:
        with psycopg.connect(owner_url, autocommit=True) as owner:
            with pytest.raises(PermissionDenied, match=f"needs a superuser.*{role} is not one"):
                record_app_password(owner)
            with pytest.raises(errors.InsufficientPrivilege):
                owner.execute("SELECT * FROM advisoros_guard.record_app_password()")
        code, out = _record_with_cli(db, monkeypatch, owner_url)
        assert code == 1 and "needs a superuser" in out and password not in out
        assert verifiers(db) == before
    finally:
        with psycopg.connect(db.admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP ROLE {}").format(ident))


def test_recording_without_the_guard_says_to_migrate(db: PgDatabase) -> None:
    migrations.downgrade(db.admin_url, "0024_search_s4_document_pages")
    with (
        psycopg.connect(db.admin_url, autocommit=True) as admin,
        pytest.raises(MigrationError, match=r"no password guard.*advisoros-db migrate"),
    ):
        record_app_password(admin)


def _on_node(url: str, node_url: str) -> str:
    """`url` (its user, password and database) on the server of `node_url`."""
    node = urlsplit(node_url)
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[0] + f"@{node.hostname}:{node.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def test_a_replica_refuses_it_too(db: PgDatabase, server: PgServer, cluster: Cluster) -> None:
    # Read traffic goes to the streaming replicas: the guard, the record and pg_authid arrive there
    # by replication, so a self-set password opens nothing there either.
    replica = server.replica_urls[0]
    password = new_password()
    with password_put_back(db):
        settle([server.admin_url, replica])
        with psycopg.connect(_on_node(db.app_url, replica)) as conn:
            assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
        with psycopg.connect(db.app_url, autocommit=True) as attacker:
            attacker.execute(
                sql.SQL("ALTER ROLE CURRENT_USER PASSWORD {}").format(sql.Literal(password))
            )
        settle([server.admin_url, replica])
        planted = _on_node(with_password(db.app_url, password), replica)
        assert REFUSED in _refused(planted)
        assert "password authentication failed" in _refused(_on_node(db.app_url, replica))
        with psycopg.connect(db.admin_url, autocommit=True) as admin:
            assert record_app_password(admin).changed
        settle([server.admin_url, replica])
        with psycopg.connect(planted) as conn:
            assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
