"""An external server configured the way the README once said (only ADVISOROS_DATABASE_URL, the
owner): tenant sessions refuse to start instead of running as a role that bypasses row-level
security. The test server's admin URL stands in for the external owner."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from advisoros_db.cli.app import app as cli
from advisoros_db.errors import ConfigError, TenantError
from advisoros_db.routing import Router
from advisoros_db.settings import Settings
from advisoros_db.targets import resolve
from advisoros_db.tenancy import require_tenant_role, tenant_session, tenant_transaction
from advisoros_db.urls import to_sqlalchemy
from tests.support import PgDatabase


def test_only_an_owner_url_refuses_tenant_sessions_at_start(db: PgDatabase, tmp_path: Path) -> None:
    target = resolve(Settings(home=tmp_path / "unused", database_url=db.admin_url))
    assert target.app_url is None
    with pytest.raises(ConfigError, match="ADVISOROS_APP_DATABASE_URL is not set"):
        Router.for_target(target, monitor=False)
    result = CliRunner().invoke(
        cli,
        ["health"],
        env={"ADVISOROS_HOME": str(tmp_path / "unused"), "ADVISOROS_DATABASE_URL": db.admin_url},
    )
    assert result.exit_code == 1
    assert "ADVISOROS_APP_DATABASE_URL is not set" in result.output


def test_an_owner_configured_as_the_app_url_is_refused(db: PgDatabase, tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path / "unused", database_url=db.admin_url, app_database_url=db.admin_url
    )
    with pytest.raises(TenantError, match="superuser"):
        Router.for_target(resolve(settings), monitor=False)
    org = uuid.uuid4()
    with (
        psycopg.connect(db.admin_url) as conn,
        pytest.raises(TenantError, match="superuser"),
        tenant_transaction(conn, org),
    ):
        pass
    engine = create_engine(to_sqlalchemy(db.admin_url))
    try:
        with pytest.raises(TenantError, match="superuser"), tenant_session(engine, org) as s:
            s.execute(text("SELECT 1"))
    finally:
        engine.dispose()


@pytest.fixture
def login(db: PgDatabase) -> Iterator[tuple[str, str]]:
    """A fresh login role (name, URL) on the test server, dropped afterwards."""
    name = f"ext_{uuid.uuid4().hex[:12]}"
    password = uuid.uuid4().hex
    with psycopg.connect(db.admin_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(name), sql.Literal(password)
            )
        )
        admin.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(db.name), sql.Identifier(name)
            )
        )
    url = db.app_url.replace(f"advisoros_app:{_password(db.app_url)}@", f"{name}:{password}@")
    try:
        yield name, url
    finally:
        with psycopg.connect(db.admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("REASSIGN OWNED BY {} TO postgres").format(sql.Identifier(name)))
            admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


def _password(url: str) -> str:
    from urllib.parse import unquote, urlsplit

    return unquote(urlsplit(url).password or "")


@pytest.mark.parametrize(
    ("grant", "reason"),
    [
        ("ALTER ROLE {role} BYPASSRLS", "BYPASSRLS"),
        ("ALTER TABLE clients OWNER TO {role}", "owns tenant table clients"),
        ("GRANT postgres TO {role}", "member of a superuser or BYPASSRLS role"),
    ],
)
def test_an_app_role_that_bypasses_row_level_security_is_refused(
    db: PgDatabase, login: tuple[str, str], tmp_path: Path, grant: str, reason: str
) -> None:
    name, url = login
    with psycopg.connect(db.admin_url, autocommit=True) as admin:
        admin.execute(grant.format(role=sql.Identifier(name).as_string(admin)))  # type: ignore[arg-type]
    with pytest.raises(TenantError, match=reason):
        require_tenant_role(url)
    settings = Settings(home=tmp_path / "unused", database_url=db.admin_url, app_database_url=url)
    with pytest.raises(TenantError, match=reason):
        Router.for_target(resolve(settings), monitor=False)
    with (
        psycopg.connect(url) as conn,
        pytest.raises(TenantError, match=reason),
        tenant_transaction(conn, uuid.uuid4()),
    ):
        pass


def test_the_real_app_role_passes_the_check(db: PgDatabase) -> None:
    require_tenant_role(db.app_url)
