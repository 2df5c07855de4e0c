"""Partition operations registered once on Alembic: install/drop the maintenance functions, build
and drop partitioned twins, swap them in (small tables only) and back out. Importing registers them."""

from __future__ import annotations

from typing import Any

import psycopg
from alembic.operations import MigrateOperation, Operations
from psycopg import sql

from advisoros_db.errors import MigrationError
from advisoros_db.migrations import partition_ddl as ddl
from advisoros_db.migrations.partition_layout import SPECS, TableSpec

# Above this many rows a migration will not copy a table under lock: the online conversion must.
SMALL_TABLE_ROWS = 10_000


_OFFLINE = (
    "DO $$ BEGIN RAISE EXCEPTION '{what} inspects the live tables and runs online only: "
    "advisoros-db migrate'; END $$"
)


def _offline(operations: Operations, what: str) -> bool:
    """In offline (--sql) mode, write a statement that stops the script here with the reason."""
    if not operations.get_context().as_sql:
        return False
    operations.execute(_OFFLINE.format(what=what))
    return True


def _conn(operations: Operations) -> psycopg.Connection[Any]:
    raw = operations.get_bind().connection.driver_connection
    if not isinstance(raw, psycopg.Connection):
        raise MigrationError(
            "the partition revisions need the psycopg driver (postgresql+psycopg://)"
        )
    return raw


def _spec(table: str) -> TableSpec:
    if table not in SPECS:
        raise MigrationError(f"no partition layout for {table!r}; known: {', '.join(SPECS)}")
    return SPECS[table]


@Operations.register_operation("install_partition_functions")
class InstallPartitionFunctionsOp(MigrateOperation):
    """create_next_*_partition(), archive_old_audit_logs_partition(), get_partition_stats(), ..."""

    @classmethod
    def install_partition_functions(cls, operations: Operations) -> Any:
        return operations.invoke(cls())


@Operations.implementation_for(InstallPartitionFunctionsOp)
def _install(operations: Operations, operation: InstallPartitionFunctionsOp) -> None:
    if _offline(operations, "installing the partition functions"):
        return
    conn = _conn(operations)
    ddl.install_functions(conn)
    ddl.ensure_state(conn)


@Operations.register_operation("drop_partition_functions")
class DropPartitionFunctionsOp(MigrateOperation):
    @classmethod
    def drop_partition_functions(cls, operations: Operations) -> Any:
        return operations.invoke(cls())


@Operations.implementation_for(DropPartitionFunctionsOp)
def _drop_functions(operations: Operations, operation: DropPartitionFunctionsOp) -> None:
    if _offline(operations, "dropping the partition functions"):
        return
    conn = _conn(operations)
    ddl.drop_functions(conn)
    conn.execute("DROP SCHEMA IF EXISTS partitioning CASCADE")


@Operations.register_operation("create_partitioned_twin")
class CreatePartitionedTwinOp(MigrateOperation):
    """Build `<table>_partitioned` (partitions, keys with the partition key, indexes on every
    partition, grants, forced RLS) and mirror the live table's writes into it."""

    def __init__(self, table: str) -> None:
        self.table = table

    @classmethod
    def create_partitioned_twin(cls, operations: Operations, table: str) -> Any:
        return operations.invoke(cls(table))


@Operations.implementation_for(CreatePartitionedTwinOp)
def _create_twin(operations: Operations, operation: CreatePartitionedTwinOp) -> None:
    if _offline(operations, "building a partitioned table"):
        return
    conn, spec = _conn(operations), _spec(operation.table)
    ddl.build_partitioned(conn, spec)
    ddl.start_mirror(conn, spec.table, spec.partitioned_name, ddl.primary_key(conn, spec.table)[0])
    ddl.set_phase(conn, spec.table, "syncing")


@Operations.register_operation("drop_partitioned_twin")
class DropPartitionedTwinOp(MigrateOperation):
    def __init__(self, table: str) -> None:
        self.table = table

    @classmethod
    def drop_partitioned_twin(cls, operations: Operations, table: str) -> Any:
        return operations.invoke(cls(table))


@Operations.implementation_for(DropPartitionedTwinOp)
def _drop_twin(operations: Operations, operation: DropPartitionedTwinOp) -> None:
    if _offline(operations, "dropping a partitioned table"):
        return
    conn, spec = _conn(operations), _spec(operation.table)
    if ddl.is_partitioned(conn, spec.table):
        raise MigrationError(
            f"{spec.table} is the partitioned table; downgrade 0005_partition_swap first"
        )
    ddl.stop_mirror(conn, spec.table)
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(spec.partitioned_name)))
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(spec.registry)))
    for fn in ("_register", "_unregister"):
        conn.execute(
            sql.SQL("DROP FUNCTION IF EXISTS {}()").format(
                sql.Identifier(ddl.short(spec.registry, fn))
            )
        )
    if ddl.exists(conn, "partitioning.conversions"):
        conn.execute("DELETE FROM partitioning.conversions WHERE table_name = %s", (spec.table,))


@Operations.register_operation("swap_partitioned")
class SwapPartitionedOp(MigrateOperation):
    """Copy a small table into its twin under lock, check the counts, and swap; a populated table
    is refused with the command to run instead. A table already swapped online is left alone."""

    def __init__(self, table: str, max_rows: int = SMALL_TABLE_ROWS) -> None:
        self.table = table
        self.max_rows = max_rows

    @classmethod
    def swap_partitioned(
        cls, operations: Operations, table: str, max_rows: int = SMALL_TABLE_ROWS
    ) -> Any:
        return operations.invoke(cls(table, max_rows))


@Operations.implementation_for(SwapPartitionedOp)
def _swap(operations: Operations, operation: SwapPartitionedOp) -> None:
    if _offline(operations, "swapping in a partitioned table"):
        return
    conn, spec = _conn(operations), _spec(operation.table)
    if ddl.is_partitioned(conn, spec.table):
        return  # converted online already
    live, twin = sql.Identifier(spec.table), sql.Identifier(spec.partitioned_name)
    conn.execute(sql.SQL("LOCK TABLE {}, {} IN ACCESS EXCLUSIVE MODE").format(live, twin))
    row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(live)).fetchone()
    rows = int(row[0]) if row else 0
    if rows > operation.max_rows:
        raise MigrationError(
            f"{spec.table} holds {rows} rows (more than {operation.max_rows}): a migration will not "
            f"copy it under lock. Run `advisoros-db partitions convert {spec.table}` (online, "
            "resumable), then migrate again"
        )
    conn.execute("SET LOCAL session_replication_role = replica")
    conn.execute(sql.SQL("DELETE FROM {}").format(twin))
    copied = conn.execute(sql.SQL("INSERT INTO {} SELECT * FROM {}").format(twin, live)).rowcount
    conn.execute("SET LOCAL session_replication_role = origin")
    if copied != rows:
        raise MigrationError(f"copied {copied} of {rows} rows of {spec.table}; nothing was swapped")
    ddl.validate(conn, ddl.swap(conn, spec))
    ddl.set_phase(conn, spec.table, "swapped")


@Operations.register_operation("unswap_partitioned")
class UnswapPartitionedOp(MigrateOperation):
    """The rollback: the plain table, kept in sync since the swap, is live again."""

    def __init__(self, table: str) -> None:
        self.table = table

    @classmethod
    def unswap_partitioned(cls, operations: Operations, table: str) -> Any:
        return operations.invoke(cls(table))


@Operations.implementation_for(UnswapPartitionedOp)
def _unswap(operations: Operations, operation: UnswapPartitionedOp) -> None:
    if _offline(operations, "swapping back a plain table"):
        return
    conn, spec = _conn(operations), _spec(operation.table)
    if not ddl.is_partitioned(conn, spec.table):
        return
    if not ddl.exists(conn, spec.old_name):
        raise MigrationError(
            f"{spec.table} was finalized ({spec.old_name} is gone): the plain table cannot come back"
            " by downgrade"
        )
    ddl.validate(conn, ddl.unswap(conn, spec))
    ddl.set_phase(conn, spec.table, "rolled_back")
