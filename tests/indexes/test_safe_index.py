"""create_index_safely / drop_index_safely against a real server: concurrent builds, failures, and
the recovery of INVALID indexes that failed or interrupted builds leave behind."""

from __future__ import annotations

import io
from collections.abc import Iterator

import psycopg
import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import create_engine, text

from advisoros_db.errors import MigrationError
from advisoros_db.migrations import safe_index
from advisoros_db.urls import to_sqlalchemy
from tests.support import PgDatabase


@pytest.fixture
def ops(empty_db: PgDatabase) -> Iterator[Operations]:
    with psycopg.connect(empty_db.admin_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE items (id int PRIMARY KEY, code text, deleted boolean)")
        conn.execute("INSERT INTO items SELECT g, 'c' || g, false FROM generate_series(1, 200) g")
    engine = create_engine(to_sqlalchemy(empty_db.admin_url))
    with engine.connect() as conn:
        yield Operations(MigrationContext.configure(conn))
    engine.dispose()


def _indexes(url: str, name: str) -> list[tuple[bool, str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT i.indisvalid, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = %s",
            [name],
        ).fetchall()
    return [(bool(valid), ddl) for valid, ddl in rows]


def test_builds_a_partial_unique_index_with_include(ops: Operations, empty_db: PgDatabase) -> None:
    safe_index.CreateIndexSafelyOp.create_index_safely(
        ops, "ix_items_code", "items", ["code"], unique=True, where="NOT deleted", include=["id"]
    )
    [(valid, ddl)] = _indexes(empty_db.admin_url, "ix_items_code")
    assert valid
    assert "UNIQUE" in ddl and "INCLUDE (id)" in ddl and "WHERE (NOT deleted)" in ddl


def test_failed_build_leaves_no_invalid_index_and_retry_succeeds(
    ops: Operations, empty_db: PgDatabase
) -> None:
    with psycopg.connect(empty_db.admin_url, autocommit=True) as conn:
        conn.execute("UPDATE items SET code = 'dup' WHERE id IN (1, 2)")
    with pytest.raises(MigrationError, match=r"ix_items_code on items failed.*(unique|duplicate)"):
        safe_index.CreateIndexSafelyOp.create_index_safely(
            ops, "ix_items_code", "items", ["code"], unique=True
        )
    assert _indexes(empty_db.admin_url, "ix_items_code") == []

    with psycopg.connect(empty_db.admin_url, autocommit=True) as conn:
        conn.execute("UPDATE items SET code = 'c2' WHERE id = 2")
    safe_index.CreateIndexSafelyOp.create_index_safely(
        ops, "ix_items_code", "items", ["code"], unique=True
    )
    [(valid, _)] = _indexes(empty_db.admin_url, "ix_items_code")
    assert valid


def test_interrupted_build_is_dropped_and_rebuilt_on_retry(
    ops: Operations, empty_db: PgDatabase
) -> None:
    # An open writer makes the concurrent build wait past its lock_timeout after it has already
    # created the catalog entry: exactly what an interrupted build leaves behind.
    with psycopg.connect(empty_db.admin_url) as writer:
        writer.execute("INSERT INTO items VALUES (1000, 'w', false)")
        with pytest.raises(MigrationError, match="next run drops it first"):
            safe_index.CreateIndexSafelyOp.create_index_safely(
                ops, "ix_items_code", "items", ["code"], lock_timeout="300ms"
            )
        assert _indexes(empty_db.admin_url, "ix_items_code")[0][0] is False
        writer.rollback()

    safe_index.CreateIndexSafelyOp.create_index_safely(ops, "ix_items_code", "items", ["code"])
    [(valid, _)] = _indexes(empty_db.admin_url, "ix_items_code")
    assert valid


def test_retry_after_success_is_a_no_op_and_drop_is_idempotent(
    ops: Operations, empty_db: PgDatabase
) -> None:
    for _ in range(2):
        safe_index.CreateIndexSafelyOp.create_index_safely(ops, "ix_items_code", "items", ["code"])
    assert len(_indexes(empty_db.admin_url, "ix_items_code")) == 1
    for _ in range(2):
        safe_index.DropIndexSafelyOp.drop_index_safely(ops, "ix_items_code")
    assert _indexes(empty_db.admin_url, "ix_items_code") == []


def test_restores_the_session_lock_timeout(ops: Operations) -> None:
    bind = ops.get_bind()
    bind.execute(text("SET lock_timeout = '7s'"))
    bind.commit()
    safe_index.CreateIndexSafelyOp.create_index_safely(
        ops, "ix_items_code", "items", ["code"], lock_timeout="1s"
    )
    assert bind.execute(text("SHOW lock_timeout")).scalar_one() == "7s"


def test_offline_sql_builds_concurrently_outside_a_transaction() -> None:
    buf = io.StringIO()
    context = MigrationContext.configure(
        dialect_name="postgresql", opts={"as_sql": True, "output_buffer": buf}
    )
    ops = Operations(context)
    safe_index.CreateIndexSafelyOp.create_index_safely(
        ops, "ix_items_code", "items", [text("lower(code)")], where="NOT deleted"
    )
    safe_index.DropIndexSafelyOp.drop_index_safely(ops, "ix_items_code")
    out = buf.getvalue()
    assert "SET lock_timeout = '5s'" in out
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_items_code ON items (lower(code))" in out
    assert "WHERE NOT deleted" in out
    assert "DROP INDEX CONCURRENTLY IF EXISTS ix_items_code" in out


def test_rejects_a_lock_timeout_that_is_not_a_duration() -> None:
    context = MigrationContext.configure(
        dialect_name="postgresql", opts={"as_sql": True, "output_buffer": io.StringIO()}
    )
    with pytest.raises(MigrationError, match="not a duration"):
        safe_index.DropIndexSafelyOp.drop_index_safely(
            Operations(context), "x", lock_timeout="1s'; DROP TABLE items; --"
        )
