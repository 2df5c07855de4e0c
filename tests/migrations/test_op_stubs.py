"""The typed `op` stub matches the operations the project registers, and the runtime module
reaches each of them through Alembic's proxy."""

from __future__ import annotations

import inspect

import pytest
from alembic.operations import Operations

from advisoros_db.migrations import op, op_stubs


def test_the_committed_stub_is_what_the_generator_writes() -> None:
    assert op_stubs.STUB_PATH.read_text() == op_stubs.render(), (
        "op.pyi is out of date: run `python -m advisoros_db.migrations.op_stubs`"
    )


def test_every_registered_operation_is_typed() -> None:
    typed = {name for name, _ in op_stubs.registered_operations(op_stubs.OPERATION_MODULES)}
    assert {"create_index_safely", "swap_partitioned", "install_audit_chain"} <= typed
    for name in typed:
        assert callable(getattr(Operations, name)), name
        assert callable(getattr(op, name)), name


def test_the_stub_keeps_each_operations_parameters() -> None:
    signatures = dict(op_stubs.registered_operations(op_stubs.OPERATION_MODULES))
    assert list(signatures["grant_app"].parameters) == ["table", "privileges"]
    assert signatures["create_index_safely"].parameters["kw"].kind is inspect.Parameter.VAR_KEYWORD


def test_an_unknown_annotation_names_the_fix() -> None:
    import types

    from alembic.operations import MigrateOperation

    module = types.ModuleType("fake_ops")

    class _Op(MigrateOperation):
        @classmethod
        def create_index_safely(cls, operations: Operations, when: Decimal) -> None:  # type: ignore[name-defined]  # noqa: F821
            raise AssertionError

    _Op.__module__ = module.__name__
    module._Op = _Op  # type: ignore[attr-defined]
    with pytest.raises(LookupError, match="add them to _IMPORTS"):
        op_stubs.render((module,))
