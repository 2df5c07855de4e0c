"""Document ids are unique across tax years and firms, enforced by the database (issue 13.2).
Every attack runs as the application role inside a tenant transaction, the way a tenant could."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine, pool

from advisoros_db import migrations
from advisoros_db.errors import CheckViolation, MigrationError, UniqueViolation, translated
from advisoros_db.partitioning import DOCUMENTS, convert
from advisoros_db.tenancy import tenant_transaction
from advisoros_db.urls import to_sqlalchemy
from tests.schema.conftest import SeededDb
from tests.schema.rows import Seed, seed
from tests.support import PgDatabase

_INSERT = (
    "INSERT INTO documents (id, organization_id, client_id, uploaded_by, file_name, file_url,"
    " file_type, tax_year) VALUES (%s, %s, %s, %s, 'w2.pdf', 's3://x', 'pdf', %s) RETURNING id"
)
_CHILDREN = ("document_comments", "document_annotations", "document_sessions", "document_shares")


def _seed(url: str) -> Seed:
    """Two firms, each with one row in every table (documents with comments, annotations, ...)."""
    engine = create_engine(to_sqlalchemy(url), poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            return seed(conn)
    finally:
        engine.dispose()


@pytest.fixture
def firms(db: PgDatabase) -> SeededDb:
    return SeededDb(db=db, seed=_seed(db.admin_url))


def _insert(
    conn: psycopg.Connection[Any], s: Seed, tenant: int, doc: uuid.UUID, year: int | None
) -> None:
    conn.execute(
        _INSERT,
        (doc, s.organizations[tenant], s.row("clients", tenant), s.row("users", tenant), year),
    )


def _rows(admin: psycopg.Connection[Any], table: str, column: str, value: object) -> int:
    row = admin.execute(
        f"SELECT count(*) FROM {table} WHERE {column} = %s",
        (value,),
    ).fetchone()
    assert row is not None
    return int(row[0])


def _children(admin: psycopg.Connection[Any], doc: uuid.UUID) -> dict[str, int]:
    return {t: _rows(admin, t, "document_id", doc) for t in _CHILDREN}


def test_an_id_cannot_be_used_again_in_another_tax_year(firms: SeededDb) -> None:
    s, doc = firms.seed, uuid.uuid4()
    with psycopg.connect(firms.db.app_url) as app:
        with tenant_transaction(app, s.organizations[0]):
            _insert(app, s, 0, doc, 2023)
        with (
            pytest.raises(UniqueViolation, match=f"id {doc} is already in use") as caught,
            translated(),
            tenant_transaction(app, s.organizations[0]),
        ):
            _insert(app, s, 0, doc, 2024)
    assert caught.value.constraint == "pk_documents_keys"
    with psycopg.connect(firms.db.admin_url) as admin:
        assert _rows(admin, "documents", "id", doc) == 1
        assert admin.execute("SELECT tax_year FROM documents WHERE id = %s", (doc,)).fetchone() == (
            2023,
        )


def test_another_firms_id_is_refused_and_their_delete_still_cascades(firms: SeededDb) -> None:
    s = firms.seed
    victim = s.row("documents", 0)  # firm 0's document, with comments, annotations, ...
    with psycopg.connect(firms.db.admin_url) as admin:
        before = _children(admin, victim)
        year = admin.execute("SELECT tax_year FROM documents WHERE id = %s", (victim,)).fetchone()
    assert year is not None and sum(before.values()) > 0
    # Firm 1 learned the id: in the same tax year, in another one, and in the catch-all partition.
    for attempt_year in (year[0], 2021, None):
        with (
            psycopg.connect(firms.db.app_url) as app,
            pytest.raises(UniqueViolation) as caught,
            translated(),
            tenant_transaction(app, s.organizations[1]),
        ):
            _insert(app, s, 1, victim, attempt_year)
        assert str(s.organizations[0]) not in str(caught.value)  # nothing about the owner
    with psycopg.connect(firms.db.admin_url) as admin:
        assert _rows(admin, "documents", "id", victim) == 1
        owner = admin.execute("SELECT organization_id FROM documents_keys WHERE id = %s", (victim,))
        assert owner.fetchone() == (s.organizations[0],)
    with psycopg.connect(firms.db.app_url) as app, tenant_transaction(app, s.organizations[0]):
        app.execute("DELETE FROM documents WHERE id = %s", (victim,))
    with psycopg.connect(firms.db.admin_url) as admin:
        assert _children(admin, victim) == dict.fromkeys(_CHILDREN, 0)
        assert _rows(admin, "documents_keys", "id", victim) == 0


def test_an_id_and_tenant_cannot_change_but_the_tax_year_can(firms: SeededDb) -> None:
    s = firms.seed
    victim, mine = s.row("documents", 0), uuid.uuid4()
    with psycopg.connect(firms.db.app_url) as app:
        with tenant_transaction(app, s.organizations[1]):
            _insert(app, s, 1, mine, 2022)
        # Take over firm 0's id by renaming one's own document to it.
        with (
            pytest.raises(CheckViolation, match="cannot change"),
            translated(),
            tenant_transaction(app, s.organizations[1]),
        ):
            app.execute("UPDATE documents SET id = %s WHERE id = %s", (victim, mine))
        with tenant_transaction(app, s.organizations[1]):
            # A move to another partition keeps the id and everything that references it.
            app.execute(
                "INSERT INTO document_comments (organization_id, document_id, author_id, content)"
                " VALUES (%s, %s, %s, 'see p. 2')",
                (s.organizations[1], mine, s.row("users", 1)),
            )
            app.execute("UPDATE documents SET tax_year = 2027 WHERE id = %s", (mine,))
            part = app.execute(
                "SELECT tableoid::regclass::text FROM documents WHERE id = %s", (mine,)
            )
            assert part.fetchone() == ("documents_2027",)
    with psycopg.connect(firms.db.admin_url) as admin:
        assert _rows(admin, "documents", "id", victim) == 1
        assert _rows(admin, "documents_keys", "id", mine) == 1
        assert _rows(admin, "document_comments", "document_id", mine) == 1


def _waiting_on_lock(admin: psycopg.Connection[Any], pid: int, deadline_s: float = 60.0) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        row = admin.execute(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)
        ).fetchone()
        if row == ("Lock",):
            return
        time.sleep(0.02)
    raise AssertionError(f"backend {pid} never waited on a lock")


def test_two_firms_racing_for_one_new_id_leave_one_row(firms: SeededDb) -> None:
    s, doc = firms.seed, uuid.uuid4()
    errors: list[BaseException] = []
    with (
        psycopg.connect(firms.db.admin_url, autocommit=True) as admin,
        psycopg.connect(firms.db.app_url) as first,
        psycopg.connect(firms.db.app_url) as second,
    ):
        pid = second.info.backend_pid

        def race() -> None:
            try:
                with translated(), tenant_transaction(second, s.organizations[1]):
                    _insert(second, s, 1, doc, 2025)
            except BaseException as exc:
                errors.append(exc)

        with tenant_transaction(first, s.organizations[0]):
            _insert(first, s, 0, doc, 2024)
            thread = threading.Thread(target=race)
            thread.start()
            _waiting_on_lock(admin, pid)  # the second insert queues behind the first's entry
        thread.join(timeout=60)
        assert not thread.is_alive()
        assert len(errors) == 1 and isinstance(errors[0], UniqueViolation)
        assert _rows(admin, "documents", "id", doc) == 1
        owner = admin.execute("SELECT organization_id FROM documents WHERE id = %s", (doc,))
        assert owner.fetchone() == (s.organizations[0],)


@pytest.fixture
def rollback_window(empty_db: PgDatabase) -> Iterator[tuple[PgDatabase, Seed]]:
    """A populated documents table converted online (its rollback copy documents_old open)."""
    migrations.upgrade(empty_db.admin_url, "0004_partitioned_tables")
    rows = _seed(empty_db.admin_url)
    with psycopg.connect(empty_db.admin_url, autocommit=True) as admin:
        convert.run(admin, DOCUMENTS)
    migrations.upgrade(empty_db.admin_url, "head")
    yield empty_db, rows


def test_rollback_and_downgrade_refuse_rather_than_drop_a_duplicate(
    rollback_window: tuple[PgDatabase, Seed],
) -> None:
    db, s = rollback_window
    victim = s.row("documents", 0)
    head = migrations.current(db.admin_url)
    # Before 0011 the registry skipped a taken id: firm 1 could plant a second row with it.
    migrations.downgrade(db.admin_url, "0010_iso_plans_tenant_search")
    with psycopg.connect(db.app_url) as app, tenant_transaction(app, s.organizations[1]):
        _insert(app, s, 1, victim, 2029)
    with pytest.raises(MigrationError, match=f"used by more than one row: {victim}"):
        migrations.upgrade(db.admin_url, "head")
    assert migrations.current(db.admin_url) == "0010_iso_plans_tenant_search"

    def both_rows_there() -> None:
        with psycopg.connect(db.admin_url) as admin:
            assert _rows(admin, "documents", "id", victim) == 2
            kind = admin.execute("SELECT relkind FROM pg_class WHERE relname = 'documents'")
            assert kind.fetchone() == ("p",)

    with (
        psycopg.connect(db.admin_url, autocommit=True) as admin,
        pytest.raises(
            MigrationError, match=f"would drop rows of documents.*{victim}, tax_year 2029"
        ),
    ):
        convert.rollback(admin, DOCUMENTS)
    both_rows_there()
    with pytest.raises(MigrationError, match="would drop rows of documents"):
        migrations.downgrade(db.admin_url, "0004_partitioned_tables")
    assert migrations.current(db.admin_url) == "0005_partition_swap"
    both_rows_there()
    # Once the planted row is gone, the upgrade enforces unique ids. Its delete, mirrored by id,
    # also took firm 0's row out of documents_old: the rollback still refuses, naming that row.
    with psycopg.connect(db.admin_url) as admin:
        admin.execute("DELETE FROM documents WHERE id = %s AND tax_year = 2029", (victim,))
    migrations.upgrade(db.admin_url, "head")
    assert migrations.current(db.admin_url) == head
    with (
        psycopg.connect(db.admin_url, autocommit=True) as admin,
        pytest.raises(MigrationError, match=f"would drop rows of documents.*{victim}"),
    ):
        convert.rollback(admin, DOCUMENTS)
    with psycopg.connect(db.admin_url) as admin:
        assert _rows(admin, "documents", "id", victim) == 1
