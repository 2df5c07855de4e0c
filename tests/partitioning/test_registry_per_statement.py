"""The documents_keys registry in its statement-level design (revision
0017_write_cost_document_keys): every id of a multi-row statement is registered, a duplicate
inside one statement is refused, deletes (direct and cascaded) unregister, a partition created
over rows of the default partition keeps their keys and children, and the downgrade restores the
row-level triggers on a populated database."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from advisoros_db import migrations
from advisoros_db.bench.partition_load import fill
from advisoros_db.errors import ForeignKeyViolation, UniqueViolation, translated
from advisoros_db.partitioning import DOCUMENTS, convert, keys
from advisoros_db.partitioning.convert import ConversionError
from advisoros_db.tenancy import tenant_transaction
from tests.schema.conftest import SeededDb
from tests.schema.rows import Seed
from tests.security.test_document_keys import _seed
from tests.support import PgDatabase

_MANY = (
    "INSERT INTO documents (id, organization_id, client_id, uploaded_by, file_name, file_url,"
    " file_type, tax_year, parent_document_id)"
    " SELECT d.id, %(org)s, %(client)s, %(user)s, 'w2.pdf', 's3://x', 'pdf', d.year, d.parent"
    " FROM unnest(%(ids)s::uuid[], %(years)s::int[], %(parents)s::uuid[]) d(id, year, parent)"
)


@pytest.fixture
def firms(db: PgDatabase) -> SeededDb:
    return SeededDb(db=db, seed=_seed(db.admin_url))


def _many(
    conn: psycopg.Connection[Any],
    s: Seed,
    ids: list[uuid.UUID],
    years: list[int | None],
    parents: list[uuid.UUID | None] | None = None,
) -> None:
    conn.execute(
        _MANY,
        {
            "org": s.organizations[0],
            "client": s.row("clients", 0),
            "user": s.row("users", 0),
            "ids": ids,
            "years": years,
            "parents": parents or [None] * len(ids),
        },
    )


def _registered(admin: psycopg.Connection[Any], ids: list[uuid.UUID]) -> int:
    row = admin.execute("SELECT count(*) FROM documents_keys WHERE id = ANY(%s)", (ids,))
    found = row.fetchone()
    assert found is not None
    return int(found[0])


def _consistent(admin: psycopg.Connection[Any]) -> None:
    """The registry holds exactly the documents' (id, organization_id) pairs."""
    row = admin.execute(
        "SELECT (SELECT count(*) FROM (SELECT id, organization_id FROM documents"
        " EXCEPT SELECT id, organization_id FROM documents_keys) a),"
        " (SELECT count(*) FROM (SELECT id, organization_id FROM documents_keys"
        " EXCEPT SELECT id, organization_id FROM documents) b)"
    ).fetchone()
    assert row == (0, 0)


def test_the_database_runs_the_statement_level_design(db: PgDatabase) -> None:
    with psycopg.connect(db.admin_url) as admin:
        assert keys.per_statement(admin, DOCUMENTS)
        levels = dict(
            admin.execute(
                "SELECT tgname, (tgtype & 1) = 1 FROM pg_trigger"
                " WHERE tgrelid = 'documents'::regclass AND tgname LIKE 'partition\\_%%'"
            ).fetchall()
        )
    # pg_trigger.tgtype bit 0: row-level.
    assert levels == {
        "partition_register": False,
        "partition_unregister": False,
        "partition_keys_fixed": True,
    }


def test_a_multi_row_insert_registers_every_id_and_refuses_a_duplicate_in_itself(
    firms: SeededDb,
) -> None:
    s = firms.seed
    ids = [uuid.uuid4() for _ in range(5)]
    with psycopg.connect(firms.db.app_url) as app:
        with tenant_transaction(app, s.organizations[0]):
            _many(app, s, ids, [2021, 2022, 2023, None, 2024])
        twice, fresh = uuid.uuid4(), uuid.uuid4()
        with (
            pytest.raises(UniqueViolation, match=f"id {twice} is already in use") as caught,
            translated(),
            tenant_transaction(app, s.organizations[0]),
        ):
            _many(app, s, [fresh, twice, twice], [2022, 2022, 2023])
    assert caught.value.constraint == "pk_documents_keys"
    with psycopg.connect(firms.db.admin_url) as admin:
        assert _registered(admin, ids) == 5
        assert _registered(admin, [fresh, twice]) == 0  # the whole statement rolled back
        _consistent(admin)


def test_a_row_referencing_a_document_of_the_same_statement_is_refused(firms: SeededDb) -> None:
    """The one behaviour the statement-level design changes (docs/partitioning.md): the registry
    row is written after the statement's foreign-key checks, so a document and a row that
    references it go in two statements."""
    s = firms.seed
    parent, child = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(firms.db.app_url) as app:
        with (
            pytest.raises(ForeignKeyViolation),
            translated(),
            tenant_transaction(app, s.organizations[0]),
        ):
            _many(app, s, [parent, child], [2024, 2024], [None, parent])
        with tenant_transaction(app, s.organizations[0]):
            _many(app, s, [parent], [2024])
            _many(app, s, [child], [2024], [parent])
    with psycopg.connect(firms.db.admin_url) as admin:
        assert _registered(admin, [parent, child]) == 2


def test_deletes_direct_and_cascaded_unregister_and_cascade_to_children(
    firms: SeededDb,
) -> None:
    s = firms.seed
    doc = s.row("documents", 0)
    with psycopg.connect(firms.db.admin_url) as admin:
        children = admin.execute(
            "SELECT count(*) FROM document_comments WHERE document_id = %s", (doc,)
        ).fetchone()
        assert children is not None and children[0] > 0
    mine = uuid.uuid4()
    with psycopg.connect(firms.db.app_url) as app:
        with tenant_transaction(app, s.organizations[0]):
            _many(app, s, [mine], [2023])
        with tenant_transaction(app, s.organizations[0]):
            app.execute("DELETE FROM documents WHERE id = %s", (mine,))
    with psycopg.connect(firms.db.admin_url) as admin:
        assert _registered(admin, [mine]) == 0
        # An organization's deletion cascades to its documents (a DELETE run by the foreign key).
        admin.execute("DELETE FROM organizations WHERE id = %s", (s.organizations[0],))
        assert _registered(admin, [doc]) == 0
        gone = admin.execute(
            "SELECT count(*) FROM document_comments WHERE document_id = %s", (doc,)
        ).fetchone()
        assert gone == (0,)
        assert _registered(admin, [s.row("documents", 1)]) == 1  # the other firm's stays
        _consistent(admin)


def test_a_partition_created_over_default_rows_keeps_their_keys_and_children(
    firms: SeededDb,
) -> None:
    """partition_create moves a new tax year's rows out of the default partition; the row-level
    design's AFTER DELETE trigger took their registry rows (and, by cascade, their comments) with
    them. Statement-level triggers do not fire for a partition written directly."""
    s = firms.seed
    doc = uuid.uuid4()
    with psycopg.connect(firms.db.app_url) as app, tenant_transaction(app, s.organizations[0]):
        _many(app, s, [doc], [2150])  # no partition for 2150 yet: the default one
        app.execute(
            "INSERT INTO document_comments (organization_id, document_id, author_id, content)"
            " VALUES (%s, %s, %s, 'keep me')",
            (s.organizations[0], doc, s.row("users", 0)),
        )
    with psycopg.connect(firms.db.admin_url, autocommit=True) as admin:
        assert admin.execute(
            "SELECT partition_create('documents', 'documents_2150', '2150', '2151')"
        ).fetchone() == (True,)
        where = admin.execute(
            "SELECT tableoid::regclass::text FROM documents WHERE id = %s", (doc,)
        )
        assert where.fetchone() == ("documents_2150",)
        assert _registered(admin, [doc]) == 1
        kept = admin.execute(
            "SELECT count(*) FROM document_comments WHERE document_id = %s", (doc,)
        ).fetchone()
        assert kept == (1,)
        _consistent(admin)


def test_revision_0017_downgrades_and_upgrades_on_a_populated_database(firms: SeededDb) -> None:
    s, url = firms.seed, firms.db.admin_url
    ids = [uuid.uuid4() for _ in range(3)]
    with psycopg.connect(firms.db.app_url) as app, tenant_transaction(app, s.organizations[0]):
        _many(app, s, ids, [2022, 2023, None])
    migrations.downgrade(url, "0016_bench_app_prefix_indexes")
    with psycopg.connect(url) as admin:
        assert not keys.per_statement(admin, DOCUMENTS)
        timing = admin.execute(
            "SELECT tgtype & 1 FROM pg_trigger WHERE tgrelid = 'documents'::regclass"
            " AND tgname = 'partition_register'"
        ).fetchone()
        assert timing == (1,)  # row-level again
        _consistent(admin)
    # The row-level design still refuses a taken id, and registers new ones.
    again, new = ids[0], uuid.uuid4()
    with psycopg.connect(firms.db.app_url) as app:
        with (
            pytest.raises(UniqueViolation, match=f"id {again} is already in use"),
            translated(),
            tenant_transaction(app, s.organizations[0]),
        ):
            _many(app, s, [again], [2025])
        with tenant_transaction(app, s.organizations[0]):
            _many(app, s, [new], [2025])
    migrations.upgrade(url, "head")
    with psycopg.connect(url) as admin:
        assert keys.per_statement(admin, DOCUMENTS)
        assert _registered(admin, [*ids, new]) == 4
        _consistent(admin)


def test_a_repair_registers_the_ids_it_copies_into_a_partition(admin: psycopg.Connection) -> None:
    """`partitions convert`'s repair writes into the twin's partitions directly, which the
    statement-level triggers do not see: it registers the ids itself."""
    fill(admin, audit=0, documents=200)
    convert.prepare(admin, DOCUMENTS)
    keys.set_design(admin, DOCUMENTS, True)
    convert.backfill(admin, DOCUMENTS, batch_size=50)
    with admin.transaction():
        admin.execute("SET LOCAL session_replication_role = replica")  # lose rows and their keys
        lost = [
            r[0]
            for r in admin.execute(
                "DELETE FROM documents_partitioned WHERE id IN"
                " (SELECT id FROM documents ORDER BY id LIMIT 4 OFFSET 20) RETURNING id"
            ).fetchall()
        ]
        admin.execute("DELETE FROM documents_keys WHERE id = ANY(%s)", (lost,))
    with pytest.raises(ConversionError, match="differ"):
        convert.verify(admin, DOCUMENTS)
    assert convert.repair(admin, DOCUMENTS) >= 4
    assert convert.verify(admin, DOCUMENTS).ok
    assert _registered(admin, lost) == 4
    _consistent_with(admin, "documents_partitioned")


def _consistent_with(admin: psycopg.Connection[Any], table: str) -> None:
    row = admin.execute(
        f"SELECT (SELECT count(*) FROM (SELECT id FROM {table} EXCEPT SELECT id FROM documents_keys) a),"
        f" (SELECT count(*) FROM (SELECT id FROM documents_keys EXCEPT SELECT id FROM {table}) b)"
    ).fetchone()
    assert row == (0, 0)
