"""Revision 0021's document search vector as Alembic operations (`op.install_document_vectors`,
`op.drop_document_vectors`), registered once; the work is
`advisoros_db.migrations.document_vectors`. Importing registers them."""

from __future__ import annotations

from typing import Any

from alembic.operations import MigrateOperation, Operations

from advisoros_db.migrations import document_vectors
from advisoros_db.migrations.partition_ops import driver_connection, stop_offline


@Operations.register_operation("install_document_vectors")
class InstallDocumentVectorsOp(MigrateOperation):
    """Documents (and, in a conversion, their plain copy or twin) get the stored search vector,
    its trigger and tenant-keyed index; the document search functions read it."""

    @classmethod
    def install_document_vectors(cls, operations: Operations) -> Any:
        return operations.invoke(cls())


@Operations.implementation_for(InstallDocumentVectorsOp)
def _install(operations: Operations, operation: InstallDocumentVectorsOp) -> None:
    if stop_offline(operations, "adding the document search vector"):
        return
    document_vectors.install(driver_connection(operations))


@Operations.register_operation("drop_document_vectors")
class DropDocumentVectorsOp(MigrateOperation):
    @classmethod
    def drop_document_vectors(cls, operations: Operations) -> Any:
        return operations.invoke(cls())


@Operations.implementation_for(DropDocumentVectorsOp)
def _drop(operations: Operations, operation: DropDocumentVectorsOp) -> None:
    if stop_offline(operations, "removing the document search vector"):
        return
    document_vectors.uninstall(driver_connection(operations))
