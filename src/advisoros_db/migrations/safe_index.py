"""Alembic operations that build and drop indexes CONCURRENTLY, outside a transaction, under a
lock_timeout, and never leave an INVALID index behind: `op.create_index_safely` and
`op.drop_index_safely` (registered once, on import of this module)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, LiteralString

import psycopg
from alembic import op
from alembic.operations import MigrateOperation, Operations
from sqlalchemy import Column, TextClause, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import CreateIndex
from sqlalchemy.types import NULLTYPE

from advisoros_db import pooler
from advisoros_db.errors import MigrationError, translate

LOCK_TIMEOUT = "5s"
"""How long an index build waits for a lock (or for older transactions) before it gives up."""

_INDEX_STATE: LiteralString = """
SELECT i.indisvalid
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
WHERE c.relname = :name AND c.relnamespace = to_regnamespace(current_schema())
"""
_CURRENT_LOCK_TIMEOUT: LiteralString = "SELECT current_setting('lock_timeout')"
_SET_LOCK_TIMEOUT: LiteralString = "SELECT set_config('lock_timeout', :value, false)"


@Operations.register_operation("create_index_safely")
class CreateIndexSafelyOp(MigrateOperation):
    """CREATE INDEX CONCURRENTLY IF NOT EXISTS, after dropping an INVALID leftover of the same name."""

    def __init__(
        self,
        index_name: str,
        table_name: str,
        columns: Sequence[str | TextClause],
        *,
        unique: bool = False,
        where: str | None = None,
        include: Sequence[str] = (),
        using: str | None = None,
        ops: Mapping[str, str] | None = None,
        lock_timeout: str = LOCK_TIMEOUT,
    ) -> None:
        self.index_name = index_name
        self.table_name = table_name
        self.columns = list(columns)
        self.unique = unique
        self.where = where
        self.include = list(include)
        self.using = using
        self.ops = dict(ops or {})
        self.lock_timeout = lock_timeout

    @classmethod
    def create_index_safely(
        cls,
        operations: Operations,
        index_name: str,
        table_name: str,
        columns: Sequence[str | TextClause],
        **kw: Any,
    ) -> None:
        operations.invoke(cls(index_name, table_name, columns, **kw))

    def reverse(self) -> DropIndexSafelyOp:
        return DropIndexSafelyOp(self.index_name, lock_timeout=self.lock_timeout)


@Operations.register_operation("drop_index_safely")
class DropIndexSafelyOp(MigrateOperation):
    """DROP INDEX CONCURRENTLY IF EXISTS, outside a transaction."""

    def __init__(self, index_name: str, *, lock_timeout: str = LOCK_TIMEOUT) -> None:
        self.index_name = index_name
        self.lock_timeout = lock_timeout

    @classmethod
    def drop_index_safely(cls, operations: Operations, index_name: str, **kw: Any) -> None:
        operations.invoke(cls(index_name, **kw))


def _index_state(conn: Connection, name: str) -> bool | None:
    """True: a valid index exists; False: an INVALID one (a failed build); None: none."""
    row = conn.execute(text(_INDEX_STATE), {"name": name}).first()
    return None if row is None else bool(row[0])


def _drop_concurrently(operations: Operations, name: str) -> None:
    preparer = operations.get_context().dialect.identifier_preparer
    operations.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {preparer.quote(name)}")


class _LockTimeout:
    """Sets the session's lock_timeout (the block runs in autocommit) and restores it after."""

    def __init__(self, operations: Operations, value: str) -> None:
        self.operations = operations
        self.value = value
        self.previous: str | None = None

    def __enter__(self) -> None:
        if self.operations.get_context().as_sql:
            self.operations.execute(f"SET lock_timeout = '{_checked_timeout(self.value)}'")
            return
        conn = self.operations.get_bind()
        raw = conn.connection.driver_connection
        if isinstance(raw, psycopg.Connection) and pooler.uses_pooler(raw):
            # Each autocommit statement may reach another server through the pooler: a SET would
            # stay behind on one of them and the build could run on another without it.
            return
        self.previous = conn.execute(text(_CURRENT_LOCK_TIMEOUT)).scalar_one()
        conn.execute(text(_SET_LOCK_TIMEOUT), {"value": self.value})

    def __exit__(self, *exc: object) -> None:
        if self.operations.get_context().as_sql:
            self.operations.execute("RESET lock_timeout")
        elif self.previous is not None:
            self.operations.get_bind().execute(text(_SET_LOCK_TIMEOUT), {"value": self.previous})


def _checked_timeout(value: str) -> str:
    # Offline SQL cannot bind parameters; accept only what a duration looks like.
    if not value.replace(" ", "").isalnum():
        raise MigrationError(f"lock_timeout {value!r} is not a duration such as '5s' or '500ms'")
    return value


@Operations.implementation_for(CreateIndexSafelyOp)
def _create_index_safely(operations: Operations, operation: CreateIndexSafelyOp) -> None:
    kw: dict[str, Any] = {"postgresql_concurrently": True}
    if operation.where is not None:
        kw["postgresql_where"] = text(operation.where)
    if operation.include:
        kw["postgresql_include"] = operation.include
    if operation.using is not None:
        kw["postgresql_using"] = operation.using
    if operation.ops:
        kw["postgresql_ops"] = operation.ops
    index = operations.schema_obj.index(
        operation.index_name,
        operation.table_name,
        operation.columns,
        unique=operation.unique,
        **kw,
    )
    assert index.table is not None
    for column in operation.include:
        # INCLUDE names are looked up on the placeholder table the index is built against.
        if column not in index.table.c:
            index.table.append_column(Column(column, NULLTYPE))
    context = operations.get_context()
    with context.autocommit_block(), _LockTimeout(operations, operation.lock_timeout):
        if context.as_sql:
            operations.execute(CreateIndex(index, if_not_exists=True))
            return
        conn = operations.get_bind()
        if _index_state(conn, operation.index_name) is False:
            # A build that failed or was interrupted earlier left this behind: it costs writes
            # and answers no query, and IF NOT EXISTS would keep it forever.
            _drop_concurrently(operations, operation.index_name)
        try:
            operations.execute(CreateIndex(index, if_not_exists=True))
        except DBAPIError as exc:
            cleanup = _cleanup_after_failure(operations, operation.index_name)
            cause = translate(exc) or exc.orig or exc
            raise MigrationError(
                f"building index {operation.index_name} on {operation.table_name} failed: "
                f"{cause}. {cleanup} Fix the cause and run the migration again."
            ) from exc


def _cleanup_after_failure(operations: Operations, name: str) -> str:
    conn = operations.get_bind()
    try:
        if _index_state(conn, name) is not False:
            return "No invalid index was left behind."
        _drop_concurrently(operations, name)
    except DBAPIError:
        # Typically the same old transaction that made the build time out; the next run drops it.
        return "The invalid index it left could not be dropped now; the next run drops it first."
    return "The invalid index it left was dropped."


@Operations.implementation_for(DropIndexSafelyOp)
def _drop_index_safely(operations: Operations, operation: DropIndexSafelyOp) -> None:
    with (
        operations.get_context().autocommit_block(),
        _LockTimeout(operations, operation.lock_timeout),
    ):
        try:
            _drop_concurrently(operations, operation.index_name)
        except DBAPIError as exc:
            cause = translate(exc) or exc.orig or exc
            raise MigrationError(
                f"dropping index {operation.index_name} failed: {cause}. "
                "Retry when the transactions holding the table have finished."
            ) from exc


def create_index_safely(
    index_name: str,
    table_name: str,
    columns: Sequence[str | TextClause],
    *,
    unique: bool = False,
    where: str | None = None,
    include: Sequence[str] = (),
    using: str | None = None,
    ops: Mapping[str, str] | None = None,
    lock_timeout: str = LOCK_TIMEOUT,
) -> None:
    """Typed spelling of `op.create_index_safely(...)` for revision scripts."""
    op.invoke(
        CreateIndexSafelyOp(
            index_name,
            table_name,
            columns,
            unique=unique,
            where=where,
            include=include,
            using=using,
            ops=ops,
            lock_timeout=lock_timeout,
        )
    )


def drop_index_safely(index_name: str, *, lock_timeout: str = LOCK_TIMEOUT) -> None:
    """Typed spelling of `op.drop_index_safely(...)` for revision scripts."""
    op.invoke(DropIndexSafelyOp(index_name, lock_timeout=lock_timeout))
