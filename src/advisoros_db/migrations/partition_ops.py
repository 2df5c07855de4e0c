"""Partition operations registered once on Alembic (`op.create_partitioned_twin`,
`op.swap_partitioned`, ...). The work is done by `advisoros_db.partitioning.revision_steps`; this
module only adapts Alembic's connection and offline mode. Importing registers them."""

from __future__ import annotations

from typing import Any

import psycopg
from alembic.operations import MigrateOperation, Operations

from advisoros_db.errors import MigrationError
from advisoros_db.partitioning import revision_steps as steps
from advisoros_db.partitioning.revision_steps import SMALL_TABLE_ROWS

_OFFLINE = (
    "DO $$ BEGIN RAISE EXCEPTION '{what} inspects the live tables and runs online only: "
    "advisoros-db migrate'; END $$"
)


def stop_offline(operations: Operations, what: str) -> bool:
    """In offline (--sql) mode, write a statement that stops the script here with the reason."""
    if not operations.get_context().as_sql:
        return False
    operations.execute(_OFFLINE.format(what=what))
    return True


def driver_connection(operations: Operations) -> psycopg.Connection[Any]:
    raw = operations.get_bind().connection.driver_connection
    if not isinstance(raw, psycopg.Connection):
        raise MigrationError(
            "the partition revisions need the psycopg driver (postgresql+psycopg://)"
        )
    return raw


@Operations.register_operation("install_partition_functions")
class InstallPartitionFunctionsOp(MigrateOperation):
    """create_next_*_partition(), archive_old_audit_logs_partition(), get_partition_stats(), ..."""

    @classmethod
    def install_partition_functions(cls, operations: Operations) -> Any:
        return operations.invoke(cls())


@Operations.implementation_for(InstallPartitionFunctionsOp)
def _install(operations: Operations, operation: InstallPartitionFunctionsOp) -> None:
    if stop_offline(operations, "installing the partition functions"):
        return
    steps.install_functions(driver_connection(operations))


@Operations.register_operation("drop_partition_functions")
class DropPartitionFunctionsOp(MigrateOperation):
    @classmethod
    def drop_partition_functions(cls, operations: Operations) -> Any:
        return operations.invoke(cls())


@Operations.implementation_for(DropPartitionFunctionsOp)
def _drop_functions(operations: Operations, operation: DropPartitionFunctionsOp) -> None:
    if stop_offline(operations, "dropping the partition functions"):
        return
    steps.drop_functions(driver_connection(operations))


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
    if stop_offline(operations, "building a partitioned table"):
        return
    steps.create_twin(driver_connection(operations), operation.table)


@Operations.register_operation("drop_partitioned_twin")
class DropPartitionedTwinOp(MigrateOperation):
    def __init__(self, table: str) -> None:
        self.table = table

    @classmethod
    def drop_partitioned_twin(cls, operations: Operations, table: str) -> Any:
        return operations.invoke(cls(table))


@Operations.implementation_for(DropPartitionedTwinOp)
def _drop_twin(operations: Operations, operation: DropPartitionedTwinOp) -> None:
    if stop_offline(operations, "dropping a partitioned table"):
        return
    steps.drop_twin(driver_connection(operations), operation.table)


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
    if stop_offline(operations, "swapping in a partitioned table"):
        return
    steps.swap_small(driver_connection(operations), operation.table, operation.max_rows)


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
    if stop_offline(operations, "swapping back a plain table"):
        return
    steps.unswap(driver_connection(operations), operation.table)


@Operations.register_operation("enforce_unique_keys")
class EnforceUniqueKeysOp(MigrateOperation):
    """Ids of a partitioned table with a key registry become unique across every partition and
    organization (refused, naming them, while duplicates exist)."""

    def __init__(self, table: str) -> None:
        self.table = table

    @classmethod
    def enforce_unique_keys(cls, operations: Operations, table: str) -> Any:
        return operations.invoke(cls(table))


@Operations.implementation_for(EnforceUniqueKeysOp)
def _enforce_unique_keys(operations: Operations, operation: EnforceUniqueKeysOp) -> None:
    if stop_offline(operations, "making ids unique"):
        return
    steps.enforce_unique_keys(driver_connection(operations), operation.table)


@Operations.register_operation("registry_per_statement")
class RegistryPerStatementOp(MigrateOperation):
    """The id registry of a partitioned table follows it once per statement (on) or per row."""

    def __init__(self, table: str, on: bool) -> None:
        self.table = table
        self.on = on

    @classmethod
    def registry_per_statement(cls, operations: Operations, table: str, on: bool) -> Any:
        return operations.invoke(cls(table, on))


@Operations.implementation_for(RegistryPerStatementOp)
def _registry_per_statement(operations: Operations, operation: RegistryPerStatementOp) -> None:
    if stop_offline(operations, "changing the id registry's triggers"):
        return
    steps.registry_per_statement(driver_connection(operations), operation.table, operation.on)
