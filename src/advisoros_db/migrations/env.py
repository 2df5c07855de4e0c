"""Alembic environment: the URL comes from the caller, or from ADVISOROS_* settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from advisoros_db.migrations import access_ops as _access_ops  # registers op.* extensions
from advisoros_db.migrations import (
    audit_ops,  # noqa: F401 - registers op.*_audit_chain
    partition_ops,  # noqa: F401 - registers op.* partition operations
)
from advisoros_db.migrations import safe_index as _safe_index  # noqa: F401  (op.create_index_safely)
from advisoros_db.migrations.compare import compare_options, quiet_expression_indexes
from advisoros_db.settings import get_settings
from advisoros_db.urls import to_sqlalchemy

target_metadata = None
try:  # the models arrive with the schema; the environment works before them too
    from advisoros_db.schema import metadata as _metadata

    target_metadata = _metadata
except ImportError:  # pragma: no cover
    pass


def _url() -> str:
    url = context.config.attributes.get("url") or context.config.get_main_option("sqlalchemy.url")
    if url:
        return str(url)
    from advisoros_db import embedded

    # The configured server, or an embedded cluster already running: never started from here.
    return to_sqlalchemy(embedded.resolve(get_settings()).admin_url)


def run_offline() -> None:
    context.configure(
        url=context.config.attributes.get("url") or "postgresql+psycopg://",
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        # A session-wide floor for statements outside a revision's own SET LOCAL (for example
        # CREATE INDEX CONCURRENTLY in an autocommit block): never queue behind a long lock.
        connection.exec_driver_sql(f"SET lock_timeout = '{_access_ops.DEFAULT_LOCK_TIMEOUT}'")
        options = compare_options(connection)
        # Alembic leaves an already-open transaction to its caller and would never commit it.
        connection.commit()
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            transaction_per_migration=True,
            **options,
        )
        with quiet_expression_indexes(), context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
