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
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateIndex

from advisoros_db import migrations
from advisoros_db.migrations.compare import compare_options
from advisoros_db.migrations.runner import upgrade_sql
from advisoros_db.schema import indexes, metadata
from advisoros_db.urls import to_sqlalchemy
from tests.support import PgDatabase

NAMES = sorted(indexes.by_name())
# What revision 0003 builds: today's declarations and the indexes revisions 0015, 0021 and 0022
# replaced.
REPLACED = sorted(
    [
        *indexes.REPLACED_BY_PAGES,
        *indexes.REPLACED_BY_DOCUMENT_VECTOR,
        *indexes.REPLACED_BY_TENANT_SEARCH,
    ]
)
BUILT_BY_0003 = sorted([*indexes.by_name(), *REPLACED])
_DEFINITIONS = """
SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisvalid
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE c.relname = ANY(%s)
"""


def _definitions(url: str, names: list[str] = NAMES) -> dict[str, tuple[str, bool]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(_DEFINITIONS, [names]).fetchall()
    return {name: (ddl, valid) for name, ddl, valid in rows}


def test_head_has_every_index_valid_and_as_the_models_declare_it(db: PgDatabase) -> None:
    migrated = _definitions(db.admin_url)
    assert sorted(migrated) == NAMES
    assert _definitions(db.admin_url, REPLACED) == {}
    assert all(valid for _, valid in migrated.values())
    # Build each model index again under a scratch name, in a transaction rolled back, and let
    # PostgreSQL render both: predicates, INCLUDE, methods and operator classes must agree.
    dialect = postgresql.dialect()
    different = {}
    with psycopg.connect(db.admin_url) as conn:
        for name, index in indexes.by_name().items():
            ddl = str(CreateIndex(index).compile(dialect=dialect))
            scratch = "scratch_" + name[:50]
            conn.execute(ddl.replace(f" {name} ON ", f" {scratch} ON ", 1))
            [[from_model]] = conn.execute("SELECT pg_get_indexdef(%s::regclass)", [scratch])
            from_model = from_model.replace(f" {scratch} ON ", f" {name} ON ", 1)
            if from_model != migrated[name][0]:
                different[name] = (migrated[name][0], from_model)
        conn.rollback()
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
        conn.execute("DROP INDEX idx_engagements_tenant_fts")
        conn.execute(
            "CREATE INDEX idx_engagements_tenant_fts ON engagements USING gin"
            " (advisoros_tenant_tsvector(organization_id, to_tsvector('simple', name),"
            " to_tsvector('english'::regconfig, description)))"
        )
    lines = migrations.drift(db.admin_url)
    assert any("idx_engagements_tenant_fts" in line for line in lines), lines


def test_downgrade_drops_every_index_and_upgrade_rebuilds_them(db: PgDatabase) -> None:
    migrations.downgrade(db.admin_url, "0002_added_tables")
    assert _definitions(db.admin_url) == {}
    assert migrations.current(db.admin_url) == "0002_added_tables"
    migrations.upgrade(db.admin_url, "0003_performance_indexes")
    assert sorted(_definitions(db.admin_url, BUILT_BY_0003)) == BUILT_BY_0003


def test_offline_sql_builds_each_index_concurrently_outside_a_transaction() -> None:
    sql = upgrade_sql("0003_performance_indexes", start="0002_added_tables")
    built = re.findall(r"CREATE (?:UNIQUE )?INDEX CONCURRENTLY IF NOT EXISTS (\w+)", sql)
    assert sorted(built) == BUILT_BY_0003
    # Each build is preceded by a COMMIT: CONCURRENTLY cannot run inside a transaction block.
    for name in BUILT_BY_0003:
        before = sql[: sql.index(f"IF NOT EXISTS {name} ")]
        assert before.rfind("COMMIT") > before.rfind("BEGIN")
