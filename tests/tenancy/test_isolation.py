"""Row-level security as the application role, for EVERY tenant table: tenant A cannot read,
update, delete, insert into, or reference tenant B's rows; no tenant is an error."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

from advisoros_db.errors import ForeignKeyViolation, PermissionDenied
from advisoros_db.schema import (
    GLOBAL_TABLES,
    INTERNAL_TABLES,
    LATER_TABLES,
    metadata,
    tenant_tables,
)
from advisoros_db.tenancy import tenant_transaction
from tests.tenancy.conftest import Seeded

TENANT_TABLES = [t.name for t in tenant_tables(metadata) if t.name not in INTERNAL_TABLES]
APPEND_ONLY = {"audit_logs"}
# Written only by the owner's maintenance (audit month rollups): the application role may read them.
READ_ONLY = {"audit_log_rollups"}

# Every composite tenant foreign key: (table, referencing column, referenced table, its name).
TENANT_FKS = [
    (
        t.name,
        next(c.name for c in fk.columns if c.name != "organization_id"),
        fk.referred_table.name,
        str(fk.name),
    )
    for t in tenant_tables(metadata)
    for fk in t.foreign_key_constraints
    if len(fk.columns) == 2
]


def test_the_walk_covers_every_table() -> None:
    # 48 tables and later revisions': all but the tenant root and the permission catalog are
    # tenant tables.
    assert len(metadata.tables) == 48 + len(LATER_TABLES) + len(INTERNAL_TABLES)
    assert sorted(set(metadata.tables) - set(TENANT_TABLES)) == sorted(
        GLOBAL_TABLES + INTERNAL_TABLES
    )
    assert len(TENANT_FKS) > 60


def _ids(conn: psycopg.Connection[Any], table: str) -> set[uuid.UUID]:
    query = sql.SQL("SELECT id FROM {}").format(sql.Identifier(table))
    return {row[0] for row in conn.execute(query)}


@pytest.mark.parametrize("table", TENANT_TABLES)
def test_tenant_reads_only_its_own_rows(seeded: Seeded, table: str) -> None:
    a, b = seeded.seed.row(table, 0), seeded.seed.row(table, 1)
    with psycopg.connect(seeded.db.app_url) as conn:
        with tenant_transaction(conn, seeded.seed.organizations[0]):
            assert _ids(conn, table) == {a}
        with tenant_transaction(conn, seeded.seed.organizations[1]):
            assert _ids(conn, table) == {b}


@pytest.mark.parametrize("table", TENANT_TABLES)
def test_no_tenant_is_an_error_naming_the_setting(seeded: Seeded, table: str) -> None:
    with psycopg.connect(seeded.db.app_url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match=r"app\.organization_id"):
            _ids(conn, table)
        # A scoped transaction on the same connection leaves nothing behind.
        with tenant_transaction(conn, seeded.seed.organizations[0]):
            assert _ids(conn, table)
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="no tenant is set"):
            _ids(conn, table)


@pytest.mark.parametrize("table", sorted(READ_ONLY))
def test_a_read_only_tenant_table_refuses_every_write(seeded: Seeded, table: str) -> None:
    mine = seeded.seed.row(table, 0)
    ident = sql.Identifier(table)
    writes = [
        (sql.SQL("UPDATE {} SET organization_id = organization_id WHERE id = %s"), (mine,)),
        (sql.SQL("DELETE FROM {} WHERE id = %s"), (mine,)),
    ]
    with psycopg.connect(seeded.db.app_url) as conn:
        for statement, params in writes:
            with (
                pytest.raises(PermissionDenied, match="permission denied"),
                tenant_transaction(conn, seeded.seed.organizations[0]),
            ):
                conn.execute(statement.format(ident), params)
        with (
            pytest.raises(PermissionDenied, match="permission denied"),
            tenant_transaction(conn, seeded.seed.organizations[0]),
        ):
            _insert(conn, table, _copy_of(seeded, table, 0))


@pytest.mark.parametrize(
    "table", [t for t in TENANT_TABLES if t not in APPEND_ONLY and t not in READ_ONLY]
)
def test_tenant_cannot_update_or_delete_another_tenants_rows(seeded: Seeded, table: str) -> None:
    theirs = seeded.seed.row(table, 1)
    ident = sql.Identifier(table)
    with (
        psycopg.connect(seeded.db.app_url) as conn,
        tenant_transaction(conn, seeded.seed.organizations[0]),
    ):
        updated = conn.execute(
            sql.SQL("UPDATE {} SET organization_id = organization_id WHERE id = %s").format(ident),
            (theirs,),
        )
        assert updated.rowcount == 0
        deleted = conn.execute(sql.SQL("DELETE FROM {} WHERE id = %s").format(ident), (theirs,))
        assert deleted.rowcount == 0
    with psycopg.connect(seeded.db.admin_url) as admin:
        assert admin.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE id = %s").format(ident), (theirs,)
        ).fetchone() == (1,)


def _copy_of(seeded: Seeded, table: str, tenant: int) -> dict[str, Any]:
    """A tenant's row of `table` as JSON, with a fresh id."""
    with psycopg.connect(seeded.db.admin_url) as admin:
        row = admin.execute(
            sql.SQL("SELECT to_jsonb(t) FROM {} t WHERE id = %s").format(sql.Identifier(table)),
            (seeded.seed.row(table, tenant),),
        ).fetchone()
    assert row is not None
    values: dict[str, Any] = row[0]
    values["id"] = str(uuid.uuid4())
    return values


def _insert(conn: psycopg.Connection[Any], table: str, values: dict[str, Any]) -> None:
    ident = sql.Identifier(table)
    # Generated columns (the stored search vectors) take no value of their own.
    names = [
        name
        for (name,) in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
            "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
            (table,),
        )
    ]
    columns = sql.SQL(", ").join(map(sql.Identifier, names))
    conn.execute(
        sql.SQL("INSERT INTO {} ({}) SELECT {} FROM jsonb_populate_record(NULL::{}, %s)").format(
            ident, columns, columns, ident
        ),
        (Jsonb(values),),
    )


@pytest.mark.parametrize("table", [t for t in TENANT_TABLES if t not in READ_ONLY])
def test_tenant_cannot_insert_rows_of_another_tenant(seeded: Seeded, table: str) -> None:
    # A copy of B's row, written while scoped to A: the policy's WITH CHECK refuses it.
    values = _copy_of(seeded, table, 1)
    with (
        psycopg.connect(seeded.db.app_url) as conn,
        pytest.raises(PermissionDenied, match="row-level security"),
        tenant_transaction(conn, seeded.seed.organizations[0]),
    ):
        _insert(conn, table, values)


@pytest.mark.parametrize(("table", "column", "target", "name"), TENANT_FKS)
def test_tenant_cannot_reference_another_tenants_row(
    seeded: Seeded, table: str, column: str, target: str, name: str
) -> None:
    mine = seeded.seed.row(table, 0)
    theirs = seeded.seed.row(target, 1)
    with (
        psycopg.connect(seeded.db.app_url) as conn,
        pytest.raises(ForeignKeyViolation) as caught,
        tenant_transaction(conn, seeded.seed.organizations[0]),
    ):
        conn.execute(
            sql.SQL("UPDATE {} SET {} = %s WHERE id = %s").format(
                sql.Identifier(table), sql.Identifier(column)
            ),
            (theirs, mine),
        )
    # On a partitioned table PostgreSQL names the partition the row is in.
    assert caught.value.table is not None
    assert caught.value.table == table or caught.value.table.startswith(f"{table}_")
    # Names past PostgreSQL's 63 characters are truncated (with a hash suffix) by SQLAlchemy.
    assert caught.value.constraint is not None
    assert caught.value.constraint == name or caught.value.constraint[:40] == name[:40]


def test_organizations_show_a_tenant_only_its_own_row(seeded: Seeded) -> None:
    a, b = seeded.seed.organizations
    with psycopg.connect(seeded.db.app_url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="no tenant is set"):
            _ids(conn, "organizations")
        with tenant_transaction(conn, a):
            assert _ids(conn, "organizations") == {a}
            updated = conn.execute("UPDATE organizations SET name = 'x' WHERE id = %s", (b,))
            assert updated.rowcount == 0


def test_global_permission_catalog_is_read_only_for_the_app(seeded: Seeded) -> None:
    with psycopg.connect(seeded.db.app_url, autocommit=True) as conn:
        assert len(_ids(conn, "permissions")) == 2
        with (
            pytest.raises(PermissionDenied, match="permission denied"),
            tenant_transaction(conn, seeded.seed.organizations[0]),
        ):
            conn.execute("DELETE FROM permissions")


def test_app_role_is_not_privileged_and_owns_nothing(seeded: Seeded) -> None:
    with psycopg.connect(seeded.db.admin_url) as admin:
        row = admin.execute(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'advisoros_app'"
        ).fetchone()
        assert row == (False, False)
        owned = admin.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
            "WHERE r.rolname = 'advisoros_app'"
        ).fetchone()
        assert owned == (0,)
        forced = admin.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
            "AND relkind IN ('r', 'p') AND NOT (relrowsecurity AND relforcerowsecurity)"
        ).fetchall()
        assert sorted(r[0] for r in forced) == ["alembic_version", "permissions"]
