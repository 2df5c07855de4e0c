"""Custom Alembic operations, registered once: lock timeout, app role and grants, tenant RLS,
append-only tables. Revisions call them as `op.<name>(...)`; importing this module registers them."""

from __future__ import annotations

import re
from typing import Any

from alembic.operations import MigrateOperation, Operations
from sqlalchemy import text

from advisoros_db.errors import MigrationError
from advisoros_db.tenancy import APP_ROLE, TENANT_SETTING

POLICY = "tenant_isolation"

# current_setting(..., true) returns NULL when never set in the session but '' after a
# transaction-local set_config has ended; NULLIF makes both mean "no tenant", which matches no row.
CURRENT_TENANT = f"NULLIF(current_setting('{TENANT_SETTING}', true), '')::uuid"

DEFAULT_LOCK_TIMEOUT = "5s"
_TIMEOUT = re.compile(r"^\d+(ms|s|min)?$")
_PRIVILEGES = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES"})

APPEND_ONLY_FUNCTION = "advisoros_refuse_change"

# Only the table owner (migrations, retention jobs) may change or remove rows: foreign-key cascades
# also run as the owner, so deleting an organization still removes its trail.
_APPEND_ONLY_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION advisoros_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT pg_has_role(current_user,
                       (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE') THEN
        RAISE EXCEPTION '% is append-only: % refused for role %',
            TG_TABLE_NAME, TG_OP, current_user
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'write a new row instead of changing or deleting one';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$$
"""


def _quote(operations: Operations, name: str) -> str:
    return str(operations.get_context().dialect.identifier_preparer.quote(name))


def _run(operations: Operations, statement: str) -> None:
    operations.execute(text(statement))


@Operations.register_operation("set_lock_timeout")
class SetLockTimeoutOp(MigrateOperation):
    """SET LOCAL lock_timeout: a migration waits at most this long for a lock, then fails."""

    def __init__(self, timeout: str = DEFAULT_LOCK_TIMEOUT) -> None:
        if not _TIMEOUT.match(timeout):
            raise MigrationError(f"lock timeout {timeout!r} is not like '5s', '500ms' or '1min'")
        self.timeout = timeout

    @classmethod
    def set_lock_timeout(cls, operations: Operations, timeout: str = DEFAULT_LOCK_TIMEOUT) -> Any:
        return operations.invoke(cls(timeout))


@Operations.implementation_for(SetLockTimeoutOp)
def _set_lock_timeout(operations: Operations, operation: SetLockTimeoutOp) -> None:
    _run(operations, f"SET LOCAL lock_timeout = '{operation.timeout}'")


@Operations.register_operation("ensure_app_role")
class EnsureAppRoleOp(MigrateOperation):
    """Create the application role (NOLOGIN) when the server does not have it yet.

    The embedded cluster creates it with LOGIN; on an external server the operator gives it a
    password and LOGIN. It is never dropped on downgrade: roles are shared by every database.
    """

    @classmethod
    def ensure_app_role(cls, operations: Operations) -> Any:
        return operations.invoke(cls())


@Operations.implementation_for(EnsureAppRoleOp)
def _ensure_app_role(operations: Operations, operation: EnsureAppRoleOp) -> None:
    role = _quote(operations, APP_ROLE)
    _run(
        operations,
        f"DO $$ BEGIN "
        f"IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN "
        f"CREATE ROLE {role} NOLOGIN NOSUPERUSER NOBYPASSRLS; END IF; END $$",
    )
    _run(operations, f"GRANT USAGE ON SCHEMA public TO {role}")


@Operations.register_operation("grant_app")
class GrantAppOp(MigrateOperation):
    """GRANT privileges on a table to the application role."""

    def __init__(self, table: str, privileges: tuple[str, ...]) -> None:
        unknown = set(privileges) - _PRIVILEGES
        if unknown or not privileges:
            raise MigrationError(f"unknown privileges {sorted(unknown)} for {table}")
        self.table = table
        self.privileges = privileges

    @classmethod
    def grant_app(
        cls,
        operations: Operations,
        table: str,
        privileges: tuple[str, ...] = ("SELECT", "INSERT", "UPDATE", "DELETE"),
    ) -> Any:
        return operations.invoke(cls(table, privileges))


@Operations.implementation_for(GrantAppOp)
def _grant_app(operations: Operations, operation: GrantAppOp) -> None:
    _run(
        operations,
        f"GRANT {', '.join(operation.privileges)} ON {_quote(operations, operation.table)} "
        f"TO {_quote(operations, APP_ROLE)}",
    )


@Operations.register_operation("revoke_app")
class RevokeAppOp(MigrateOperation):
    """REVOKE every privilege the application role has on a table."""

    def __init__(self, table: str) -> None:
        self.table = table

    @classmethod
    def revoke_app(cls, operations: Operations, table: str) -> Any:
        return operations.invoke(cls(table))


@Operations.implementation_for(RevokeAppOp)
def _revoke_app(operations: Operations, operation: RevokeAppOp) -> None:
    _run(
        operations,
        f"REVOKE ALL ON {_quote(operations, operation.table)} FROM {_quote(operations, APP_ROLE)}",
    )


@Operations.register_operation("enable_tenant_isolation")
class EnableTenantIsolationOp(MigrateOperation):
    """ENABLE + FORCE row-level security with a policy matching `column` to the current tenant.

    FORCE makes the policy apply to the table owner too; only superusers and BYPASSRLS roles skip it.
    """

    def __init__(self, table: str, column: str = "organization_id") -> None:
        self.table = table
        self.column = column

    @classmethod
    def enable_tenant_isolation(
        cls, operations: Operations, table: str, column: str = "organization_id"
    ) -> Any:
        return operations.invoke(cls(table, column))


@Operations.implementation_for(EnableTenantIsolationOp)
def _enable_tenant_isolation(operations: Operations, operation: EnableTenantIsolationOp) -> None:
    table = _quote(operations, operation.table)
    column = _quote(operations, operation.column)
    _run(operations, f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    _run(operations, f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    _run(
        operations,
        f"CREATE POLICY {POLICY} ON {table} "
        f"USING ({column} = {CURRENT_TENANT}) WITH CHECK ({column} = {CURRENT_TENANT})",
    )


@Operations.register_operation("disable_tenant_isolation")
class DisableTenantIsolationOp(MigrateOperation):
    """Undo `enable_tenant_isolation`."""

    def __init__(self, table: str) -> None:
        self.table = table

    @classmethod
    def disable_tenant_isolation(cls, operations: Operations, table: str) -> Any:
        return operations.invoke(cls(table))


@Operations.implementation_for(DisableTenantIsolationOp)
def _disable_tenant_isolation(operations: Operations, operation: DisableTenantIsolationOp) -> None:
    table = _quote(operations, operation.table)
    _run(operations, f"DROP POLICY IF EXISTS {POLICY} ON {table}")
    _run(operations, f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    _run(operations, f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


@Operations.register_operation("make_append_only")
class MakeAppendOnlyOp(MigrateOperation):
    """Refuse UPDATE, DELETE and TRUNCATE by anyone but the table owner (a trigger)."""

    def __init__(self, table: str) -> None:
        self.table = table

    @classmethod
    def make_append_only(cls, operations: Operations, table: str) -> Any:
        return operations.invoke(cls(table))


@Operations.implementation_for(MakeAppendOnlyOp)
def _make_append_only(operations: Operations, operation: MakeAppendOnlyOp) -> None:
    table = _quote(operations, operation.table)
    _run(operations, _APPEND_ONLY_FUNCTION_SQL)
    _run(
        operations,
        f"CREATE TRIGGER append_only_rows BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {APPEND_ONLY_FUNCTION}()",
    )
    _run(
        operations,
        f"CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {APPEND_ONLY_FUNCTION}()",
    )


@Operations.register_operation("drop_append_only")
class DropAppendOnlyOp(MigrateOperation):
    """Undo `make_append_only` (the shared function stays until `drop_append_only_function`)."""

    def __init__(self, table: str) -> None:
        self.table = table

    @classmethod
    def drop_append_only(cls, operations: Operations, table: str) -> Any:
        return operations.invoke(cls(table))


@Operations.implementation_for(DropAppendOnlyOp)
def _drop_append_only(operations: Operations, operation: DropAppendOnlyOp) -> None:
    table = _quote(operations, operation.table)
    _run(operations, f"DROP TRIGGER IF EXISTS append_only_rows ON {table}")
    _run(operations, f"DROP TRIGGER IF EXISTS append_only_truncate ON {table}")


@Operations.register_operation("drop_append_only_function")
class DropAppendOnlyFunctionOp(MigrateOperation):
    """Drop the trigger function shared by append-only tables (after their triggers are gone)."""

    @classmethod
    def drop_append_only_function(cls, operations: Operations) -> Any:
        return operations.invoke(cls())


@Operations.implementation_for(DropAppendOnlyFunctionOp)
def _drop_append_only_function(operations: Operations, operation: DropAppendOnlyFunctionOp) -> None:
    _run(operations, f"DROP FUNCTION IF EXISTS {APPEND_ONLY_FUNCTION}()")
