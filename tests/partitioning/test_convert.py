"""Online conversion: under concurrent writes, killed and resumed, rolled back, and a verifier that
catches divergence."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from advisoros_db.bench.partition_load import ORG, Writers, fill
from advisoros_db.errors import ForeignKeyViolation, PermissionDenied, translated
from advisoros_db.partitioning import convert
from advisoros_db.partitioning.convert import ConversionError
from advisoros_db.partitioning.layout import AUDIT_LOGS, DOCUMENTS
from advisoros_db.partitioning.verify import compare
from advisoros_db.tenancy.context import apply_tenant
from tests.support import PgDatabase


def _agree(admin: psycopg.Connection, spec_old: str, spec_live: str, key: str) -> tuple[int, bool]:
    result = compare(admin, spec_old, spec_live, key=key)
    return result.rows, result.ok


def test_conversion_under_concurrent_writes_loses_nothing(
    plain: PgDatabase, admin: psycopg.Connection
) -> None:
    fill(admin, audit=3000, documents=3000)
    admin.execute("ANALYZE")
    with Writers(plain.app_url, threads=4) as load:
        convert.prepare(admin, DOCUMENTS)
        convert.backfill(admin, DOCUMENTS, batch_size=200, pause_s=0.005)
        convert.verify(admin, DOCUMENTS)
        convert.swap(admin, DOCUMENTS)
        convert.run(admin, AUDIT_LOGS, batch_size=300)
        # Writes after the swap go through the reverse mirror: wait for some, not for a time.
        swapped_at = load.ops
        deadline = time.monotonic() + 120
        while load.ops < swapped_at + 50 and not load.failures:
            assert time.monotonic() < deadline, "no writes after the swap within 120 s"
            time.sleep(0.05)
    assert load.failures == []
    assert load.ops > 50
    assert admin.execute("SELECT relkind FROM pg_class WHERE relname = 'documents'").fetchone() == (
        "p",
    )
    rows, ok = _agree(admin, DOCUMENTS.old_name, DOCUMENTS.table, DOCUMENTS.key)
    assert ok and rows >= 3000
    rows, ok = _agree(admin, AUDIT_LOGS.old_name, AUDIT_LOGS.table, AUDIT_LOGS.key)
    assert ok and rows >= 3000
    # Every processing row still points at a registered document, whatever its tax year.
    orphans = admin.execute(
        "SELECT count(*) FROM document_processing p WHERE NOT EXISTS"
        " (SELECT 1 FROM documents d WHERE d.id = p.document_id)"
    ).fetchone()
    assert orphans == (0,)


def test_killed_backfill_resumes_to_the_same_result(
    plain: PgDatabase, admin: psycopg.Connection, tmp_path: Path
) -> None:
    fill(admin, audit=4000)
    env = {**os.environ, "ADVISOROS_DATABASE_URL": plain.admin_url}
    log = tmp_path / "convert.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "advisoros_db.cli.app",
                "partitions",
                "convert",
                "audit_logs",
                "--batch-size",
                "100",
                "--pause-ms",
                "20",
                "--json",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        try:
            deadline = time.monotonic() + 300
            copied = 0
            while time.monotonic() < deadline and copied < 500:
                time.sleep(0.05)
                state = convert.state(admin, "audit_logs")
                copied = state.rows_copied if state else 0
                assert proc.poll() is None, log.read_text()
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait(timeout=30)
    state = convert.state(admin, "audit_logs")
    assert state is not None and state.phase == "syncing" and 0 < state.rows_copied < 4000
    admin.execute(
        "INSERT INTO audit_logs (organization_id, entity_type, action) VALUES (%s, 'client', 'create')",
        (ORG,),
    )
    result = convert.run(admin, AUDIT_LOGS, batch_size=500)
    assert result is not None
    rows, ok = _agree(admin, AUDIT_LOGS.old_name, AUDIT_LOGS.table, AUDIT_LOGS.key)
    assert ok and rows == 4001


def test_rollback_after_swap_keeps_writes_from_both_sides(
    plain: PgDatabase, admin: psycopg.Connection
) -> None:
    fill(admin, documents=500)
    convert.run(admin, DOCUMENTS)
    admin.execute(
        "INSERT INTO documents (organization_id, file_name, tax_year) VALUES (%s, 'after-swap', NULL)",
        (ORG,),
    )
    admin.execute("DELETE FROM documents WHERE file_name = 'f1'")
    convert.rollback(admin, DOCUMENTS)
    assert admin.execute("SELECT relkind FROM pg_class WHERE relname = 'documents'").fetchone() == (
        "r",
    )
    names = {r[0] for r in admin.execute("SELECT file_name FROM documents").fetchall()}
    assert "after-swap" in names and "f1" not in names and len(names) == 500
    admin.execute(
        "INSERT INTO documents (organization_id, file_name, tax_year) VALUES (%s, 'after-rollback', 2024)",
        (ORG,),
    )
    # The foreign key points at the plain table again and still holds.
    fk = admin.execute(
        "SELECT confrelid::regclass::text FROM pg_constraint WHERE conname = 'fk_document_processing_document'"
    ).fetchone()
    assert fk == ("documents",)
    convert.run(admin, DOCUMENTS)  # swap once more: the twin followed every write
    live = {r[0] for r in admin.execute("SELECT file_name FROM documents").fetchall()}
    assert live == names | {"after-rollback"}
    convert.finalize(admin, DOCUMENTS)
    assert admin.execute("SELECT to_regclass('documents_old')").fetchone() == (None,)
    with pytest.raises(ConversionError, match="phase finalized"):
        convert.rollback(admin, DOCUMENTS)


def test_verify_reports_the_id_ranges_that_differ_and_refuses_to_swap(
    admin: psycopg.Connection,
) -> None:
    fill(admin, audit=1000)
    convert.prepare(admin, AUDIT_LOGS)
    convert.backfill(admin, AUDIT_LOGS, batch_size=250)
    with admin.transaction():
        admin.execute("SET LOCAL session_replication_role = replica")  # bypass the mirror
        admin.execute(
            "DELETE FROM audit_logs_partitioned WHERE id IN"
            " (SELECT id FROM audit_logs ORDER BY created_at LIMIT 3 OFFSET 10)"
        )
    with pytest.raises(ConversionError, match=r"(?s)differ in 1 partitions.*\(3 rows\)"):
        convert.verify(admin, AUDIT_LOGS)
    with pytest.raises(ConversionError, match="cannot swap"):
        convert.swap(admin, AUDIT_LOGS)
    assert admin.execute(
        "SELECT relkind FROM pg_class WHERE relname = 'audit_logs'"
    ).fetchone() == ("r",)
    assert convert.repair(admin, AUDIT_LOGS) == 3
    assert convert.verify(admin, AUDIT_LOGS).ok


def test_application_role_after_the_swap(plain: PgDatabase, admin: psycopg.Connection) -> None:
    fill(admin, audit=50, documents=50)
    other = uuid.uuid4()
    admin.execute(
        "INSERT INTO documents (organization_id, file_name) VALUES (%s, 'theirs')", (other,)
    )
    convert.run(admin, AUDIT_LOGS)
    convert.run(admin, DOCUMENTS)
    convert.finalize(admin, AUDIT_LOGS)
    convert.finalize(admin, DOCUMENTS)
    with psycopg.connect(plain.app_url) as app:
        with app.transaction():
            apply_tenant(app, ORG)
            assert app.execute("SELECT count(*) FROM documents").fetchone() == (50,)
            doc = app.execute(
                "INSERT INTO documents (organization_id, file_name) VALUES (%s, 'mine') RETURNING id",
                (ORG,),
            ).fetchone()
            assert doc is not None
            app.execute(
                "INSERT INTO document_processing (organization_id, document_id) VALUES (%s, %s)",
                (ORG, doc[0]),
            )
        with pytest.raises(ForeignKeyViolation), translated(), app.transaction():
            apply_tenant(app, ORG)
            app.execute(
                "INSERT INTO document_processing (organization_id, document_id) VALUES (%s, %s)",
                (ORG, uuid.uuid4()),
            )
        for statement in ("UPDATE audit_logs SET action = 'delete'", "DELETE FROM audit_logs"):
            with pytest.raises(PermissionDenied), translated(), app.transaction():
                apply_tenant(app, ORG)
                app.execute(statement)
        with pytest.raises(PermissionDenied), translated(), app.transaction():
            apply_tenant(app, ORG)
            app.execute("SELECT count(*) FROM documents_default")
    # Row-level security is forced on every partition, with the parent's policy.
    unsecured = admin.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent IN ('audit_logs'::regclass, 'documents'::regclass)"
        " AND NOT (c.relrowsecurity AND c.relforcerowsecurity"
        "          AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid))"
    ).fetchall()
    assert unsecured == []
    # Deleting a document without a tax year cascades through the registry to its processing rows.
    target = admin.execute(
        "SELECT id FROM documents WHERE tax_year IS NULL AND organization_id = %s LIMIT 1", (ORG,)
    ).fetchone()
    assert target is not None
    admin.execute("DELETE FROM documents WHERE id = %s", target)
    assert admin.execute(
        "SELECT count(*) FROM document_processing WHERE document_id = %s", target
    ).fetchone() == (0,)
    assert admin.execute(
        "SELECT count(*) FROM documents_keys WHERE id = %s", target
    ).fetchone() == (0,)


def test_convert_refuses_an_unknown_table_and_a_partitioned_one(admin: psycopg.Connection) -> None:
    with pytest.raises(ConversionError, match="choose one of audit_logs, documents"):
        convert.spec_for("clients")
    convert.run(admin, AUDIT_LOGS)
    convert.finalize(admin, AUDIT_LOGS)
    assert convert.run(admin, AUDIT_LOGS) is None
