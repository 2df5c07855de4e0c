"""Revision 0021's stored document vector through a conversion's rollback window: documents
converted online before the upgrade, so the plain copy (`documents_old`) is still mirrored when
0021 runs. Both sides get the column, the trigger (firing always) and the tenant-keyed index; a
write reaches the plain side with its vector; rollback puts the plain table back with a working
search; converting again and finalizing leaves the models' schema."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from advisoros_db import migrations
from advisoros_db.migrations import document_vectors
from advisoros_db.migrations.drift import drift
from advisoros_db.partitioning import DOCUMENTS, convert
from tests.security.test_document_keys import _seed
from tests.support import PgDatabase

WORD = "qzwindowzq"
_STALE = (
    "SELECT count(*) FROM {} WHERE search_vector IS DISTINCT FROM"
    " advisoros_document_vector(file_name, description, extracted_text)"
)


def _carries(admin: psycopg.Connection[Any], table: str, index: str) -> tuple[Any, ...]:
    row = admin.execute(
        "SELECT (SELECT tgenabled FROM pg_trigger WHERE tgrelid = %s::regclass AND tgname = %s),"
        " to_regclass(%s) IS NOT NULL",
        (table, document_vectors.TRIGGER, index),
    ).fetchone()
    stale = admin.execute(_STALE.format(table)).fetchone()  # type: ignore[arg-type]
    assert row is not None and stale is not None
    return (*row, stale[0])


def _found(admin: psycopg.Connection[Any], org: uuid.UUID) -> set[uuid.UUID]:
    with admin.transaction():
        admin.execute("SELECT set_config('app.organization_id', %s, true)", (str(org),))
        rows = admin.execute(
            "SELECT id FROM search_tenant_document_field('description', to_tsquery('english', %s), 10)",
            (WORD,),
        ).fetchall()
    return {r[0] for r in rows}


def _insert(admin: psycopg.Connection[Any], org: uuid.UUID, client: Any, user: Any) -> uuid.UUID:
    row = admin.execute(
        "INSERT INTO documents (organization_id, client_id, uploaded_by, file_name, file_url,"
        " file_type, tax_year, description) VALUES (%s, %s, %s, 'letter.pdf', 's3://x', 'pdf',"
        " 2024, %s) RETURNING id",
        (org, client, user, f"{WORD} engagement"),
    ).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


def test_a_conversion_window_carries_the_vector_both_ways(empty_db: PgDatabase) -> None:
    url = empty_db.admin_url
    migrations.upgrade(url, "0004_partitioned_tables")
    seeded = _seed(url)
    org, client, user = (
        seeded.organizations[0],
        seeded.row("clients", 0),
        seeded.row("users", 0),
    )
    with psycopg.connect(url, autocommit=True) as admin:
        convert.run(admin, DOCUMENTS)  # online: documents_old stays, mirrored, until finalize
    migrations.upgrade(url)
    with psycopg.connect(url, autocommit=True) as admin:
        assert _carries(admin, "documents", "idx_documents_tenant_fts") == ("A", True, 0)
        assert _carries(admin, "documents_old", "idx_documents_tenant_fts_old") == ("A", True, 0)
        during = _insert(admin, org, client, user)
        copies = admin.execute(
            "SELECT (SELECT search_vector FROM documents WHERE id = %s)"
            " = (SELECT search_vector FROM documents_old WHERE id = %s)",
            (during, during),
        ).fetchone()
        assert copies == (True,)  # the mirror carried the vector to the plain side
        assert _found(admin, org) == {during}

        convert.rollback(admin, DOCUMENTS)
        kind = admin.execute("SELECT relkind FROM pg_class WHERE relname = 'documents'").fetchone()
        assert kind == ("r",)
        assert _carries(admin, "documents", "idx_documents_tenant_fts") == ("A", True, 0)
        after = _insert(admin, org, client, user)
        assert _found(admin, org) == {during, after}

        convert.run(admin, DOCUMENTS)  # swap once more: the twin followed every write
        convert.finalize(admin, DOCUMENTS)
        assert _carries(admin, "documents", "idx_documents_tenant_fts") == ("A", True, 0)
        assert _found(admin, org) == {during, after}
        # Partitions made now (the clone of a row trigger) fire always too.
        states = admin.execute(
            "SELECT DISTINCT t.tgenabled FROM pg_trigger t JOIN pg_inherits i"
            " ON i.inhrelid = t.tgrelid AND i.inhparent = 'documents'::regclass"
            " WHERE t.tgname = %s",
            (document_vectors.TRIGGER,),
        ).fetchall()
        assert states == [("A",)]
    assert drift(url) == []
