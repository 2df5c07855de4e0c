"""Seed one valid row per table for each of two tenants, by walking the models (not a sample)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Connection,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    Uuid,
    inspect,
)
from sqlalchemy.dialects.postgresql import ARRAY, CITEXT, INET, JSONB

from advisoros_db.schema import metadata

VECTOR = [0.1, 0.2, 0.3]


@dataclass
class Seed:
    """Ids of the rows seeded for each tenant: ids[table][tenant_index]."""

    organizations: list[uuid.UUID]
    ids: dict[str, list[uuid.UUID]] = field(default_factory=dict)

    def row(self, table: str, tenant: int) -> uuid.UUID:
        return self.ids[table][tenant]


def _checks(table: Table) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for constraint in table.constraints:
        if isinstance(constraint, CheckConstraint) and "column" in constraint.info:
            out.setdefault(constraint.info["column"], {}).update(constraint.info)
    return out


def _value(table: Table, column: Column[Any], n: int, checks: dict[str, dict[str, Any]]) -> Any:
    info = checks.get(column.name, {})
    if "allowed" in info:
        return info["allowed"][0]
    if "low" in info:
        return max(info["low"], 1) if info["high"] >= 1 else info["low"]
    kind = column.type
    if table.name == "document_embeddings" and column.name == "dimensions":
        return len(VECTOR)
    if isinstance(kind, CITEXT):
        return f"person{n}@example.com"
    if isinstance(kind, Vector):
        return VECTOR
    if isinstance(kind, ARRAY):
        return []
    if isinstance(kind, JSONB):
        return {}
    if isinstance(kind, INET):
        return "10.0.0.1"
    if isinstance(kind, Uuid):
        return uuid.uuid4()
    if isinstance(kind, (Text, String)):
        return f"{column.name}-{n}"
    if isinstance(kind, Boolean):
        return True
    if isinstance(kind, (Integer, SmallInteger, BigInteger, Numeric, Float)):
        return 1
    if isinstance(kind, DateTime):
        return dt.datetime.now(dt.UTC)
    if isinstance(kind, Date):
        return dt.date.today()
    if isinstance(kind, LargeBinary):
        return b"\x00" * 32
    raise AssertionError(f"no sample value for {table.name}.{column.name} ({kind!r})")


# documents_keys is filled by the documents triggers (partitioning): never seeded directly, and a
# foreign key into it stands for one into documents.
REGISTRIES = {"documents_keys": "documents"}


def _order() -> list[Table]:
    """metadata.sorted_tables, except that a table referencing a registry comes after the table the
    registry follows."""
    done: set[str] = set(REGISTRIES)
    pending = [t for t in metadata.sorted_tables if t.name not in REGISTRIES]
    order: list[Table] = []
    while pending:
        for table in pending:
            needs = {
                REGISTRIES.get(fk.referred_table.name, fk.referred_table.name)
                for fk in table.foreign_key_constraints
            } - {table.name}
            if needs <= done:
                break
        else:
            raise AssertionError(f"no seeding order for {[t.name for t in pending]}")
        pending.remove(table)
        order.append(table)
        done.add(table.name)
    return order


def seed(conn: Connection, tenants: int = 2) -> Seed:
    """Insert one row per table per tenant (as a superuser: RLS does not apply) and return ids.
    Tables a later revision adds are skipped on a database migrated to an earlier one."""
    result = Seed(organizations=[])
    n = 0
    present = set(inspect(conn).get_table_names())
    for table in _order():
        if table.name not in present:
            continue
        result.ids[table.name] = []
        checks = _checks(table)
        for tenant in range(tenants):
            n += 1
            values: dict[str, Any] = {}
            if table.name == "organizations":
                values["slug"] = f"firm-{uuid.uuid4().hex[:12]}"
            for column in table.columns:
                if column.name in values or column.name == "id":
                    continue
                if column.name == "organization_id":
                    values[column.name] = result.organizations[tenant]
                    continue
                if column.foreign_keys:
                    continue
                if not column.nullable and column.server_default is None:
                    values[column.name] = _value(table, column, n, checks)
            for fk in table.foreign_key_constraints:
                target = REGISTRIES.get(fk.referred_table.name, fk.referred_table.name)
                own = [c.name for c in fk.columns if c.name != "organization_id"]
                if target == table.name or not own:
                    continue  # self references stay empty; organization_id is set above
                values[own[0]] = result.ids[target][tenant]
            row_id = conn.execute(
                table.insert().values(**values).returning(table.c.id)
            ).scalar_one()
            result.ids[table.name].append(row_id)
            if table.name == "organizations":
                result.organizations.append(row_id)
    for registry, follows in REGISTRIES.items():
        result.ids[registry] = result.ids[follows]
    return result
