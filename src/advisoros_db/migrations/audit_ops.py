"""The audit chain as Alembic operations (`op.install_audit_chain`, `op.drop_audit_chain`),
registered once; the work is `advisoros_db.audit.chain`. Importing registers them."""

from __future__ import annotations

from typing import Any

from alembic.operations import MigrateOperation, Operations

from advisoros_db.audit import chain
from advisoros_db.migrations.partition_ops import driver_connection, stop_offline


@Operations.register_operation("install_audit_chain")
class InstallAuditChainOp(MigrateOperation):
    """The database stamps audit rows with time and acting user, and chains them per organization."""

    @classmethod
    def install_audit_chain(cls, operations: Operations) -> Any:
        return operations.invoke(cls())


@Operations.implementation_for(InstallAuditChainOp)
def _install(operations: Operations, operation: InstallAuditChainOp) -> None:
    if stop_offline(operations, "chaining the audit trail"):
        return
    chain.install(driver_connection(operations))


@Operations.register_operation("drop_audit_chain")
class DropAuditChainOp(MigrateOperation):
    @classmethod
    def drop_audit_chain(cls, operations: Operations) -> Any:
        return operations.invoke(cls())


@Operations.implementation_for(DropAuditChainOp)
def _drop(operations: Operations, operation: DropAuditChainOp) -> None:
    if stop_offline(operations, "removing the audit chain"):
        return
    chain.uninstall(driver_connection(operations))
