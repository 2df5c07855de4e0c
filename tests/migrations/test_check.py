"""`check`: no drift at head; a readable report of drift we create; what the comparison ignores."""

from __future__ import annotations

import json

import psycopg
import pytest
from sqlalchemy import Index, MetaData, func
from typer.testing import CliRunner

from advisoros_db import migrations
from advisoros_db.cli.app import app
from advisoros_db.schema import metadata
from tests.support import PgDatabase

runner = CliRunner()


def _run(db: PgDatabase, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"ADVISOROS_DATABASE_URL": db.admin_url})
    return result.exit_code, result.output


def test_no_drift_at_head(db: PgDatabase) -> None:
    assert migrations.drift(db.admin_url) == []
    code, output = _run(db, "check")
    assert code == 0
    assert "no drift" in output
    code, output = _run(db, "check", "--json")
    assert (code, json.loads(output)) == (0, {"drift": []})


def test_check_reports_drift_readably_and_exits_non_zero(db: PgDatabase) -> None:
    with psycopg.connect(db.admin_url) as conn:
        conn.execute("ALTER TABLE clients ADD COLUMN nickname text")
        conn.execute("ALTER TABLE invoices DROP COLUMN terms")
        conn.execute("ALTER TABLE notes ALTER COLUMN note_type TYPE varchar(20)")
        conn.execute("DROP INDEX ix_tasks_organization_id_workflow_id")
        conn.execute("CREATE TABLE stray (id int)")
    lines = migrations.drift(db.admin_url)
    assert "column clients.nickname: in the database only" in lines
    assert "column invoices.terms: in the models only" in lines
    assert "table stray: in the database only" in lines
    assert any(line.startswith("index ix_tasks_organization_id_workflow_id") for line in lines)
    assert any("notes.note_type" in line and "type" in line for line in lines)
    code, output = _run(db, "check")
    assert code == 1
    assert "models and database disagree" in output
    assert "clients.nickname" in output


def test_check_reports_a_database_behind_head(db: PgDatabase) -> None:
    # Back to the first revision, however many follow it.
    migrations.downgrade_steps(db.admin_url, len(migrations.history()) - 1)
    lines = migrations.drift(db.admin_url)
    assert lines[0].startswith("database is at 0001_initial_schema")
    assert "table document_embeddings: in the models only" in lines


def test_compare_ignores_partitions_other_schemas_and_expression_indexes(db: PgDatabase) -> None:
    with psycopg.connect(db.admin_url) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS archive")  # 0004 creates it
        conn.execute("CREATE TABLE archive.documents_2019 (id uuid)")
        conn.execute(
            "CREATE TABLE stray_parent (id int, at date) PARTITION BY RANGE (at);"
            "CREATE TABLE stray_parent_2024 PARTITION OF stray_parent "
            "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')"
        )
    lines = migrations.drift(db.admin_url)
    assert lines == ["table stray_parent: in the database only"]


def test_expression_indexes_compare_without_warnings(db: PgDatabase) -> None:
    # pytest turns warnings into errors: comparing expression indexes must not warn, must report
    # one the models lack, and must match one the models declare.
    with psycopg.connect(db.admin_url) as conn:
        conn.execute("CREATE INDEX ix_clients_lower_name ON clients (lower(business_name))")
    assert migrations.drift(db.admin_url) == [
        "index ix_clients_lower_name on clients: in the database only"
    ]
    declared = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.tables.values():
        table.to_metadata(declared)
    clients = declared.tables["clients"]
    Index("ix_clients_lower_name", func.lower(clients.c.business_name))
    assert migrations.drift(db.admin_url, declared) == []


def test_migrate_sql_prints_the_upgrade_without_connecting() -> None:
    result = runner.invoke(
        app,
        ["migrate", "--sql"],
        env={"ADVISOROS_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"},
    )
    assert result.exit_code == 0, result.output
    assert "CREATE POLICY tenant_isolation ON organizations" in result.output
    assert "CREATE TABLE document_embeddings" in result.output


def test_rollback_needs_exactly_one_target(db: PgDatabase) -> None:
    code, output = _run(db, "rollback")
    assert code == 1
    assert "exactly one of --to REV or --steps N" in output
    code, output = _run(db, "rollback", "--steps", str(len(migrations.history()) - 1))
    assert code == 0
    assert "0001_initial_schema" in output
    code, output = _run(db, "current")
    assert output.strip() == "0001_initial_schema"
    code, output = _run(db, "migrate", "--to", "head")
    assert code == 0
    code, output = _run(db, "rollback", "--to", "nope")
    assert code == 1
    assert "Can't locate revision" in output


@pytest.mark.parametrize("args", [["history"], ["history", "--json"]])
def test_history_lists_the_chain_without_a_database(args: list[str]) -> None:
    result = runner.invoke(
        app, args, env={"ADVISOROS_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    )
    assert result.exit_code == 0
    assert result.output.index("0001_initial_schema") < result.output.index("0002_added_tables")
