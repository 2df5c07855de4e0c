"""The application role, and the check that a tenant session never runs as a role that row-level
security does not bind (a superuser, a BYPASSRLS role, the owner of tenant tables, or a role that
can become one of those)."""

from __future__ import annotations

import weakref
from typing import Any, LiteralString

import psycopg
from psycopg import pq

from advisoros_db.errors import TenantError

# The login every tenant session uses; the migrations grant it its privileges.
APP_ROLE = "advisoros_app"

# One row about the current role. Ownership counts through membership (`USAGE`), because a member
# of the owner role may ALTER TABLE ... DISABLE ROW LEVEL SECURITY; so does membership in a
# superuser or BYPASSRLS role, which SET ROLE reaches.
ROLE_CHECK_SQL: LiteralString = """
SELECT r.rolname,
       r.rolsuper,
       r.rolbypassrls,
       EXISTS (SELECT FROM pg_roles b
               WHERE (b.rolsuper OR b.rolbypassrls) AND b.oid <> r.oid
                 AND pg_has_role(r.oid, b.oid, 'MEMBER')) AS becomes_privileged,
       (SELECT c.relname::text FROM pg_class c
        WHERE c.relrowsecurity AND pg_has_role(r.oid, c.relowner, 'USAGE')
        ORDER BY c.relname LIMIT 1) AS owned_table,
       EXISTS (SELECT FROM pg_db_role_setting s
               WHERE s.setrole = r.oid
                 AND s.setdatabase IN (0, (SELECT oid FROM pg_database
                                           WHERE datname = current_database()))) AS has_settings
FROM pg_roles r WHERE r.rolname = current_user
"""

# The verdict per connection: the role of a connection does not change between transactions
# (a SET ROLE is session state, which the pools discard on return).
_verdicts: weakref.WeakKeyDictionary[Any, str | None] = weakref.WeakKeyDictionary()


def role_problem(row: tuple[Any, ...] | None) -> str | None:
    """Why the role described by ROLE_CHECK_SQL's row may not run tenant sessions, or None."""
    if row is None:
        return "the current role is not in pg_roles"
    name, superuser, bypass, becomes, owned, settings = row
    fix = (
        f"; log tenant sessions in as the application role ({APP_ROLE}), "
        "see docs/security.md for how to create it"
    )
    if superuser:
        return f"role {name} is a superuser, so row-level security does not apply to it{fix}"
    if bypass:
        return f"role {name} has BYPASSRLS, so row-level security does not apply to it{fix}"
    if becomes:
        return (
            f"role {name} is a member of a superuser or BYPASSRLS role (SET ROLE reaches it){fix}"
        )
    if owned is not None:
        return (
            f"role {name} owns tenant table {owned} (directly or through membership) and could "
            f"switch row-level security off{fix}"
        )
    if settings:
        return (
            f"role {name} has per-role settings (ALTER ROLE {name} SET ...), which may carry a "
            f"tenant or timeouts into every session; the schema owner must run "
            f"`ALTER ROLE {name} RESET ALL` (and `ALTER ROLE {name} IN DATABASE ... RESET ALL`)"
        )
    return None


def refuse(problem: str) -> TenantError:
    return TenantError(f"tenant sessions refused: {problem}")


def owner_maintenance(conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    """Mark `conn` as the owner's maintenance connection: its tenant transactions skip the role
    check. Row-level security does not bind such a role, so every query run on it must filter by
    organization itself (the search pipeline's do). Returns `conn`; the explicit opt-in keeps the
    owner out of tenant sessions everywhere else."""
    _verdicts[conn] = None
    return conn


def check_role(conn: psycopg.Connection[Any]) -> None:
    """Check (once per connection) that `conn`'s role is bound by row-level security; raises
    TenantError saying why not. Leaves the connection in the transaction state it found."""
    if conn not in _verdicts:
        if conn.info.transaction_status == pq.TransactionStatus.IDLE and not conn.autocommit:
            with conn.transaction():
                row = conn.execute(ROLE_CHECK_SQL).fetchone()
        else:
            row = conn.execute(ROLE_CHECK_SQL).fetchone()
        _verdicts[conn] = role_problem(row)
    problem = _verdicts[conn]
    if problem is not None:
        raise refuse(problem)


async def check_role_async(conn: psycopg.AsyncConnection[Any]) -> None:
    """Async twin of `check_role`."""
    if conn not in _verdicts:
        if conn.info.transaction_status == pq.TransactionStatus.IDLE and not conn.autocommit:
            async with conn.transaction():
                row = await (await conn.execute(ROLE_CHECK_SQL)).fetchone()
        else:
            row = await (await conn.execute(ROLE_CHECK_SQL)).fetchone()
        _verdicts[conn] = role_problem(row)
    problem = _verdicts[conn]
    if problem is not None:
        raise refuse(problem)


def require_tenant_role(url: str) -> None:
    """Connect once to `url` and raise TenantError unless its role may run tenant sessions."""
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        problem = role_problem(conn.execute(ROLE_CHECK_SQL).fetchone())
    if problem is not None:
        raise refuse(problem)
