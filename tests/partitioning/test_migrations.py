"""Revisions 0004/0005 on the real schema: partitioned at head with no drift, a populated table
refused with the command to run, the online conversion then the migration, and the downgrades."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from advisoros_db import migrations
from advisoros_db.errors import MigrationError, PermissionDenied, translated
from advisoros_db.migrations.drift import drift
from advisoros_db.partitioning import convert
from advisoros_db.partitioning.layout import AUDIT_LOGS
from advisoros_db.tenancy.context import apply_tenant
from tests.support import PgDatabase

_ORG = "INSERT INTO organizations (name, slug) VALUES ('Acme CPA', %s) RETURNING id"


def _kind(conn: psycopg.Connection, table: str) -> str | None:
    row = conn.execute(
        "SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", (table,)
    ).fetchone()
    return None if row is None else str(row[0])


def test_head_is_partitioned_without_drift(db: PgDatabase) -> None:
    assert drift(db.admin_url) == []
    with psycopg.connect(db.admin_url, autocommit=True) as admin:
        assert _kind(admin, "audit_logs") == "p" and _kind(admin, "documents") == "p"
        parts = {
            r[0]
            for r in admin.execute("SELECT partition_name FROM get_partition_stats('%')").fetchall()
        }
        assert {
            "documents_2020",
            "documents_2030",
            "documents_default",
            "audit_logs_default",
        } <= parts
        org = admin.execute(_ORG, (f"acme-{uuid.uuid4().hex[:6]}",)).fetchone()
        assert org is not None
    with psycopg.connect(db.app_url) as app, app.transaction():
        apply_tenant(app, org[0])
        app.execute(
            "INSERT INTO audit_logs (organization_id, entity_type, action) VALUES (%s, 'client', 'create')",
            (org[0],),
        )
        assert app.execute("SELECT count(*) FROM audit_logs").fetchone() == (1,)
    for statement in ("UPDATE audit_logs SET action = 'delete'", "DELETE FROM audit_logs"):
        with (
            psycopg.connect(db.app_url) as app,
            pytest.raises(PermissionDenied),
            translated(),
            app.transaction(),
        ):
            apply_tenant(app, org[0])
            app.execute(statement)


def test_a_populated_table_is_refused_then_converted_online(empty_db: PgDatabase) -> None:
    migrations.upgrade(empty_db.admin_url, "0004_partitioned_tables")
    with psycopg.connect(empty_db.admin_url, autocommit=True) as admin:
        org = admin.execute(_ORG, ("acme",)).fetchone()
        assert org is not None
        admin.execute(
            "INSERT INTO audit_logs (organization_id, entity_type, action, created_at)"
            " SELECT %s, 'client', 'create', now() - make_interval(hours => g) FROM generate_series(1, 10001) g",
            (org[0],),
        )
    with pytest.raises(MigrationError, match=r"10001 rows.*partitions convert audit_logs"):
        migrations.upgrade(empty_db.admin_url, "head")
    assert migrations.current(empty_db.admin_url) == "0004_partitioned_tables"
    with psycopg.connect(empty_db.admin_url, autocommit=True) as admin:
        assert _kind(admin, "audit_logs") == "r"  # nothing half-done
        convert.run(admin, AUDIT_LOGS, batch_size=4000)
    migrations.upgrade(empty_db.admin_url, "head")
    with psycopg.connect(empty_db.admin_url, autocommit=True) as admin:
        assert _kind(admin, "documents") == "p"
        assert admin.execute("SELECT count(*) FROM audit_logs").fetchone() == (10001,)
    assert drift(empty_db.admin_url) == []
    migrations.downgrade(empty_db.admin_url, "0004_partitioned_tables")
    with psycopg.connect(empty_db.admin_url, autocommit=True) as admin:
        assert _kind(admin, "audit_logs") == "r" and _kind(admin, "documents") == "r"
        assert admin.execute("SELECT count(*) FROM audit_logs").fetchone() == (10001,)
    migrations.downgrade(empty_db.admin_url, "0003_performance_indexes")
    with psycopg.connect(empty_db.admin_url, autocommit=True) as admin:
        assert (
            _kind(admin, "audit_logs_partitioned") is None
            and _kind(admin, "documents_keys") is None
        )
        gone = admin.execute(
            "SELECT to_regprocedure('create_next_audit_logs_partition()')"
        ).fetchone()
        assert gone == (None,)
        fk = admin.execute(
            "SELECT confrelid::regclass::text FROM pg_constraint"
            " WHERE conname = 'fk_document_processing_organization_id_document_id_documents'"
        ).fetchone()
        assert fk == ("documents",)
    assert drift(empty_db.admin_url) != []  # the models describe head, not 0003


def test_downgrade_after_finalize_says_why_it_cannot(empty_db: PgDatabase) -> None:
    migrations.upgrade(empty_db.admin_url, "0004_partitioned_tables")
    with psycopg.connect(empty_db.admin_url, autocommit=True) as admin:
        convert.run(admin, AUDIT_LOGS)  # online: the plain table is kept until finalize
    migrations.upgrade(empty_db.admin_url, "head")
    with psycopg.connect(empty_db.admin_url, autocommit=True) as admin:
        convert.finalize(admin, AUDIT_LOGS)
    with pytest.raises(MigrationError, match="audit_logs was finalized"):
        migrations.downgrade(empty_db.admin_url, "0004_partitioned_tables")
    assert migrations.current(empty_db.admin_url) == "0005_partition_swap"
