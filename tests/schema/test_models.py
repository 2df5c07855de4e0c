"""The models keep the schema's promises: 48 tables, uuidv7 keys, tenant keys, explicit ON DELETE."""

from __future__ import annotations

import pytest
from sqlalchemy import ForeignKeyConstraint, UniqueConstraint

from advisoros_db.schema import (
    ADDED_TABLES,
    GLOBAL_TABLES,
    INTERNAL_TABLES,
    LATER_TABLES,
    metadata,
    tenant_tables,
)

TABLES = sorted(metadata.tables)


def _partition_key(name: str) -> list[str]:
    """The partition key columns of a partitioned table ('RANGE (created_at)'), else []."""
    spec = metadata.tables[name].dialect_options["postgresql"].get("partition_by") or ""
    return [c.strip() for c in spec.partition("(")[2].rstrip(")").split(",") if c.strip()]


def test_there_are_42_initial_and_6_added_tables() -> None:
    # Plus the internal id registry of the partitioned documents table, and later revisions' tables.
    assert len(TABLES) == 48 + len(INTERNAL_TABLES) + len(LATER_TABLES)
    assert len(set(TABLES) - set(ADDED_TABLES) - set(INTERNAL_TABLES) - set(LATER_TABLES)) == 42
    assert set(ADDED_TABLES) <= set(TABLES)


@pytest.mark.parametrize("name", TABLES)
def test_every_table_has_a_uuidv7_primary_key(name: str) -> None:
    table = metadata.tables[name]
    # A partitioned table's key includes its partition key (documents: in the ORM only, see model).
    expected = ["id", *_partition_key(name)] if name != "documents" else ["id"]
    assert [c.name for c in table.primary_key.columns] == expected
    if name in INTERNAL_TABLES:
        assert table.c.id.server_default is None  # copies the id of the row it registers
        return
    default = table.c.id.server_default
    assert default is not None and "uuidv7()" in str(default.arg)  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", [t.name for t in tenant_tables(metadata)])
def test_every_tenant_table_has_the_composite_key_others_reference(name: str) -> None:
    table = metadata.tables[name]
    keys = [
        tuple(c.name for c in u.columns)
        for u in table.constraints
        if isinstance(u, UniqueConstraint)
    ]
    assert ("organization_id", "id", *_partition_key(name)) in keys
    # Every unique key includes the tenant, so the table can be distributed by organization.
    assert all("organization_id" in key for key in keys)


@pytest.mark.parametrize("name", TABLES)
def test_every_foreign_key_has_an_explicit_on_delete(name: str) -> None:
    for fk in metadata.tables[name].constraints:
        if isinstance(fk, ForeignKeyConstraint):
            assert fk.ondelete, f"{fk.name} has no ON DELETE rule"
            if fk.referred_table.name not in GLOBAL_TABLES:
                # Tenant-to-tenant references carry the organization in the key.
                assert next(c.name for c in fk.columns) == "organization_id", fk.name


def test_timestamps_are_timezone_aware() -> None:
    for table in metadata.tables.values():
        for column in table.columns:
            if column.name.endswith("_at"):
                assert getattr(column.type, "timezone", False), f"{table.name}.{column.name}"
