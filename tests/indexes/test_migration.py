"""Revision 0003 against a real database: the same indexes as the models (including what Alembic
does not compare: predicates, INCLUDE columns, methods and operator classes), no drift and no
warnings at head, a clean downgrade and re-upgrade, and concurrent builds in the offline SQL."""

from __future__ import annotations

import re
import warnings

import psycopg
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, pool

from advisoros_db import migrations
from advisoros_db.migrations.compare import compare_options
from advisoros_db.migrations.runner import upgrade_sql
from advisoros_db.schema import indexes, metadata
from advisoros_db.urls import to_sqlalchemy
from tests.support import PgDatabase

NAMES = sorted(indexes.by_name())
_DEFINITIONS = """
SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisvalid
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE c.relname = ANY(%s)
"""


def _definitions(url: str) -> dict[str, tuple[str, bool]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(_DEFINITIONS, [NAMES]).fetchall()
    return {name: (ddl, valid) for name, ddl, valid in rows}


def test_head_has_every_index_valid_and_as_the_models_declare_it(
    db: PgDatabase, empty_db: PgDatabase
) -> None:
    migrated = _definitions(db.admin_url)
    assert sorted(migrated) == NAMES
    assert all(valid for _, valid in migrated.values())

    engine = create_engine(to_sqlalchemy(empty_db.admin_url), poolclass=pool.NullPool)
    with engine.begin() as conn:
        for extension in ("citext", "pg_trgm", "vector"):
            conn.exec_driver_sql(f"CREATE EXTENSION IF NOT EXISTS {extension}")
        metadata.create_all(conn)
    engine.dispose()
    from_models = _definitions(empty_db.admin_url)
    different = {
        name: (migrated[name][0], from_models[name][0])
        for name in NAMES
        if migrated[name][0] != from_models[name][0]
    }
    assert different == {}


def test_no_drift_and_no_warnings_at_head(db: PgDatabase) -> None:
    assert migrations.drift(db.admin_url) == []
    # Without the drift report's warning filter: the expression indexes compare cleanly.
    engine = create_engine(to_sqlalchemy(db.admin_url), poolclass=pool.NullPool)
    with engine.connect() as conn, warnings.catch_warnings():
        warnings.simplefilter("error")
        context = MigrationContext.configure(
            conn, opts={"target_metadata": metadata, **compare_options(conn)}
        )
        assert compare_metadata(context, metadata) == []
    engine.dispose()


def test_a_changed_full_text_expression_is_reported_as_drift(db: PgDatabase) -> None:
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        conn.execute("DROP INDEX idx_tasks_title_fts")
        conn.execute(
            "CREATE INDEX idx_tasks_title_fts ON tasks USING gin (to_tsvector('simple', title))"
        )
    lines = migrations.drift(db.admin_url)
    assert any("idx_tasks_title_fts" in line for line in lines), lines


def test_downgrade_drops_every_index_and_upgrade_rebuilds_them(db: PgDatabase) -> None:
    migrations.downgrade(db.admin_url, "0002_added_tables")
    assert _definitions(db.admin_url) == {}
    assert migrations.current(db.admin_url) == "0002_added_tables"
    migrations.upgrade(db.admin_url, "0003_performance_indexes")
    assert sorted(_definitions(db.admin_url)) == NAMES


def test_offline_sql_builds_each_index_concurrently_outside_a_transaction() -> None:
    sql = upgrade_sql("0003_performance_indexes", start="0002_added_tables")
    built = re.findall(r"CREATE (?:UNIQUE )?INDEX CONCURRENTLY IF NOT EXISTS (\w+)", sql)
    assert sorted(built) == NAMES
    # Each build is preceded by a COMMIT: CONCURRENTLY cannot run inside a transaction block.
    for name in NAMES:
        before = sql[: sql.index(f"IF NOT EXISTS {name} ")]
        assert before.rfind("COMMIT") > before.rfind("BEGIN")
