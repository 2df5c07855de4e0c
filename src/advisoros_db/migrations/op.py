"""Alembic's `op` with the project's own operations registered and typed.

Revisions write `from advisoros_db.migrations import op`: importing this module registers every
custom operation (`op.create_index_safely`, `op.swap_partitioned`, ...), and attribute access goes
to Alembic's own proxy, which Alembic binds to the running migration. Type checkers read `op.pyi`
instead, generated from the operations' signatures by `python -m advisoros_db.migrations.op_stubs`
(a test fails when it is out of date), so revisions need no `attr-defined` exemption."""

from __future__ import annotations

from typing import Any

from alembic import op as _alembic_op

# Importing it registered every operation on Alembic's `Operations`.
from advisoros_db.migrations.op_stubs import OPERATION_MODULES

__all__ = ["OPERATION_MODULES"]


def __getattr__(name: str) -> Any:
    return getattr(_alembic_op, name)
