"""An application's own revisions on top of the library's: migrate, current, history, check and
rollback over both branches, with a real revision folder (tests/migrations/app_revisions)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from advisoros_db import migrations
from advisoros_db.cli.app import app
from advisoros_db.errors import MigrationError
from advisoros_db.migrations.drift import head_revision
from tests.support import PgDatabase

APP_DIR = Path(__file__).parent / "app_revisions"
APP_METADATA = "tests.migrations.app_models:metadata"
DEPENDENCY = "0014_search_hnsw_graph"  # a1_client_flags.depends_on
runner = CliRunner()


def _run(db: PgDatabase, *args: str, **env: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"ADVISOROS_DATABASE_URL": db.admin_url, **env})
    return result.exit_code, result.output


def app_heads(url: str) -> tuple[str, ...]:
    """The version table's application revisions. Beside them it lists the library's head
    unless that is the revision the application depends on (Alembic keeps only the newest
    revision of each line)."""
    library = {rev for rev, _down, _message in migrations.history()}
    return tuple(head for head in migrations.current_heads(url) if head not in library)


def _columns(db: PgDatabase) -> list[str]:
    with psycopg.connect(db.admin_url) as conn:
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'app_client_flags' ORDER BY ordinal_position"
        ).fetchall()
    return [r[0] for r in rows]


def _flag_row(db: PgDatabase) -> tuple[uuid.UUID, uuid.UUID]:
    """One organization, client and flag, written as the owner (populated database)."""
    with psycopg.connect(db.admin_url) as conn:
        org = conn.execute(
            "INSERT INTO organizations (name, slug) VALUES ('Flags LLP', %s) RETURNING id",
            (f"flags-{uuid.uuid4().hex[:8]}",),
        ).fetchone()
        assert org is not None
        client = conn.execute(
            "INSERT INTO clients (organization_id, business_name) VALUES (%s, 'Acme') RETURNING id",
            (org[0],),
        ).fetchone()
        assert client is not None
        conn.execute(
            "INSERT INTO app_client_flags (organization_id, client_id, flag) "
            "VALUES (%s, %s, 'vip')",
            (org[0], client[0]),
        )
    return org[0], client[0]


def test_migrate_and_check_see_both_branches(db: PgDatabase) -> None:
    library = head_revision()
    assert library is not None
    code, output = _run(db, "migrate", "--app-migrations", str(APP_DIR))
    assert code == 0, output
    assert app_heads(db.admin_url) == ("a2_client_flag_note",)
    assert _columns(db) == ["id", "organization_id", "client_id", "flag", "note"]

    code, output = _run(
        db, "check", "--json", "--app-migrations", str(APP_DIR), "--app-metadata", APP_METADATA
    )
    assert (code, json.loads(output)) == (0, {"drift": []})
    # The same through the settings instead of options.
    code, output = _run(
        db,
        "check",
        ADVISOROS_APP_MIGRATIONS=str(APP_DIR),
        ADVISOROS_APP_METADATA=APP_METADATA,
    )
    assert code == 0, output
    assert "no drift" in output
    # Without the application's models its table is reported, not silently ignored.
    code, output = _run(db, "check", "--json", "--app-migrations", str(APP_DIR))
    assert code == 1
    assert json.loads(output)["drift"] == ["table app_client_flags: in the database only"]

    code, output = _run(db, "current", "--json")
    assert "a2_client_flag_note" in json.loads(output)["revision"]
    code, output = _run(db, "history", "--json", "--app-migrations", str(APP_DIR))
    listed = [row["revision"] for row in json.loads(output)]
    assert listed.index("a1_client_flags") < listed.index("a2_client_flag_note")
    assert listed.index(DEPENDENCY) < listed.index("a1_client_flags")


def test_check_reports_an_application_revision_not_applied(db: PgDatabase) -> None:
    migrations.upgrade(db.admin_url, "a1_client_flags", app_migrations=APP_DIR)
    lines = migrations.drift(
        db.admin_url,
        app_migrations=APP_DIR,
        app_metadata=migrations.load_metadata(APP_METADATA),
    )
    assert "a2_client_flag_note" in lines[0]
    assert "run `advisoros-db migrate`" in lines[0]
    assert "column app_client_flags.note: in the models only" in lines


def test_rollback_steps_undo_the_application_first_on_a_populated_database(
    db: PgDatabase,
) -> None:
    library = head_revision()
    migrations.upgrade(db.admin_url, app_migrations=APP_DIR)
    org, client = _flag_row(db)

    code, output = _run(db, "rollback", "--steps", "1", "--app-migrations", str(APP_DIR))
    assert code == 0, output
    assert app_heads(db.admin_url) == ("a1_client_flags",)
    assert _columns(db) == ["id", "organization_id", "client_id", "flag"]
    with psycopg.connect(db.admin_url) as conn:
        kept = conn.execute(
            "SELECT organization_id, client_id, flag FROM app_client_flags"
        ).fetchall()
    assert kept == [(org, client, "vip")]

    # Undoing the application's first revision drops its table, which holds a row: refused
    # (naming only that table, not the library's it depends on) until --yes.
    code, output = _run(db, "rollback", "--steps", "1", "--app-migrations", str(APP_DIR))
    assert code == 1, output
    assert "app_client_flags (1)" in output
    assert "clients" not in output.replace("app_client_flags", "")
    assert app_heads(db.admin_url) == ("a1_client_flags",)
    code, output = _run(db, "rollback", "--steps", "1", "--yes", "--app-migrations", str(APP_DIR))
    assert code == 0, output
    assert migrations.current_heads(db.admin_url) == (library,)
    assert _columns(db) == []

    # The next step is the library's own newest revision; then everything comes back.
    migrations.downgrade_steps(db.admin_url, 1, confirm=True, app_migrations=APP_DIR)
    assert migrations.current_heads(db.admin_url) != (library,)
    migrations.upgrade(db.admin_url, app_migrations=APP_DIR)
    assert (
        migrations.drift(
            db.admin_url,
            app_migrations=APP_DIR,
            app_metadata=migrations.load_metadata(APP_METADATA),
        )
        == []
    )


def test_rollback_below_the_dependency_takes_the_application_down_too(db: PgDatabase) -> None:
    migrations.upgrade(db.admin_url, app_migrations=APP_DIR)
    # The revision below the one the application depends on.
    below = next(down for rev, down, _msg in migrations.history() if rev == DEPENDENCY)
    assert below is not None
    code, output = _run(db, "rollback", "--to", below, "--app-migrations", str(APP_DIR))
    assert code == 0, output
    assert migrations.current_heads(db.admin_url) == (below,)
    assert _columns(db) == []


def test_without_the_folder_the_application_revision_is_named(db: PgDatabase) -> None:
    migrations.upgrade(db.admin_url, app_migrations=APP_DIR)
    code, output = _run(db, "rollback", "--steps", "1")
    assert code == 1
    assert "a2_client_flag_note" in output
    assert "history" in output


def test_a_missing_folder_or_bad_metadata_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MigrationError, match="does not exist or is not a folder"):
        migrations.history(app_migrations=tmp_path / "nope")
    with pytest.raises(MigrationError, match=r"must look like package\.module:metadata"):
        migrations.load_metadata("tests.migrations.app_models")
    with pytest.raises(MigrationError, match="not a SQLAlchemy MetaData"):
        migrations.load_metadata("tests.migrations.app_models:Table")
    with pytest.raises(MigrationError, match="cannot import"):
        migrations.load_metadata("no_such_app.models:metadata")


def test_offline_sql_includes_the_application_revisions() -> None:
    sql = migrations.upgrade_sql(app_migrations=APP_DIR)
    assert "CREATE TABLE app_client_flags" in sql
    assert sql.index("CREATE TABLE clients") < sql.index("CREATE TABLE app_client_flags")
