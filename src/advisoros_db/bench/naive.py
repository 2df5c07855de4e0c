"""The naive baseline: the same tables in schema `naive` with primary and foreign keys only.

No secondary index, no partitioning: what a schema looks like before anyone tunes it. Unique keys
that foreign keys point at are kept, since PostgreSQL requires them for the reference, and a table
whose primary key lives in its id registry (documents) gets that primary key back. Rows are
copied from the optimized tables with INSERT ... SELECT, so both sides hold identical data.

Row-level security is copied too: every policy of a `public` table, and the application role's
privileges on it, so the application role reads both sides under the same policies (an untuned
schema is still a multi-tenant one).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, LiteralString

import psycopg
from psycopg import sql

from advisoros_db.datagen.introspect import dependency_order, describe, tables
from advisoros_db.partitioning.layout import SPECS
from advisoros_db.tenancy import APP_ROLE

NAIVE = "naive"
# Part of the baseline's marker: a baseline built by an older version (without the policies) is
# rebuilt, not reused.
VERSION = "with row-level security, documents keyed by id"
SOURCE = "public"

KEYS_SQL: LiteralString = """
SELECT c.conname, c.contype, pg_get_constraintdef(c.oid)
  FROM pg_constraint c
 WHERE c.conrelid = %(rel)s::regclass AND c.contype IN ('p', 'f', 'u')
 ORDER BY c.contype DESC, c.conname
"""

REFERENCED_UNIQUE_SQL: LiteralString = """
SELECT DISTINCT u.conname
  FROM pg_constraint u
  JOIN pg_constraint f ON f.contype = 'f' AND f.confrelid = u.conrelid AND f.conindid = u.conindid
 WHERE u.conrelid = %(rel)s::regclass AND u.contype = 'u'
"""

# pg_policies renders each expression for the current search_path; build() empties it, so the
# text names its functions and tables with their schema.
POLICIES_SQL: LiteralString = """
SELECT p.policyname, p.permissive, p.roles::text[], p.cmd, p.qual, p.with_check,
       c.relrowsecurity, c.relforcerowsecurity
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_policies p ON p.schemaname = n.nspname AND p.tablename = c.relname
 WHERE c.oid = %(rel)s::regclass
 ORDER BY p.policyname
"""

GRANTS_SQL: LiteralString = """
SELECT DISTINCT a.privilege_type
  FROM pg_class c, aclexplode(c.relacl) a
 WHERE c.oid = %(rel)s::regclass AND a.grantee = (SELECT oid FROM pg_roles WHERE rolname = %(role)s)
 ORDER BY 1
"""


@dataclass
class Baseline:
    """What was built: rows copied per table, and how long it took."""

    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    marker: str = ""


def marker_of(conn: psycopg.Connection[Any]) -> str | None:
    row = conn.execute(
        "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = %s",
        (NAIVE,),
    ).fetchone()
    return row[0] if row else None


def build(conn: psycopg.Connection[Any], marker: str) -> Baseline:
    """(Re)create schema `naive` from the optimized tables; `marker` says which data it mirrors."""
    started = time.perf_counter()
    names = tables(conn, SOURCE)
    infos = {n: describe(conn, n, SOURCE) for n in names}
    order = dependency_order(infos)
    result = Baseline(marker=marker)
    foreign: list[tuple[str, str, str]] = []
    with conn.transaction():
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(NAIVE)))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(NAIVE)))
        conn.execute("SELECT set_config('search_path', '', true)")  # constraint text qualified
        for name in order:
            src, dst = sql.Identifier(SOURCE, name), sql.Identifier(NAIVE, name)
            conn.execute(
                sql.SQL(
                    "CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING GENERATED"
                    " INCLUDING IDENTITY INCLUDING CONSTRAINTS)"
                ).format(dst, src)
            )
            cols = [c for c in infos[name].columns.values() if not c.generated]
            col_list = sql.SQL(", ").join(sql.Identifier(c.name) for c in cols)
            cur = conn.execute(
                sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(
                    dst, col_list, col_list, src
                )
            )
            result.rows[name] = cur.rowcount
            rel = f'"{SOURCE}"."{name}"'
            referenced = {r[0] for r in conn.execute(REFERENCED_UNIQUE_SQL, {"rel": rel})}
            keys = conn.execute(KEYS_SQL, {"rel": rel}).fetchall()
            for conname, contype, definition in keys:
                if contype == "f":
                    foreign.append((name, conname, definition))
                elif contype == "p" or conname in referenced:
                    _add(conn, name, conname, definition)
            if not any(contype == "p" for _, contype, _ in keys):
                _add_registry_key(conn, name)
        for name, conname, definition in foreign:
            _add(conn, name, conname, _retarget(definition))
        _copy_access(conn, order)
        conn.execute(
            sql.SQL("COMMENT ON SCHEMA {} IS {}").format(sql.Identifier(NAIVE), sql.Literal(marker))
        )
    conn.execute(sql.SQL("ANALYZE"))
    result.seconds = time.perf_counter() - started
    return result


def _add_registry_key(conn: psycopg.Connection[Any], table: str) -> None:
    """A partitioned table without a primary key (documents: its key is in its id registry, see
    docs/partitioning.md) gets the registry's primary key, as the plain table of revision 0001
    had: an untuned schema still has one. Its registry is copied as a table like any other, but
    nothing keeps it in step on the naive side."""
    spec = SPECS.get(table)
    if spec is None or not spec.key_registry:
        return
    rel = f'"{SOURCE}"."{spec.registry}"'
    for _, contype, definition in conn.execute(KEYS_SQL, {"rel": rel}).fetchall():
        if contype == "p":
            _add(conn, table, f"pk_{table}", definition)


def _retarget(definition: str) -> str:
    # With an empty search_path the definition names its parent `public.<table>`.
    return definition.replace(f"REFERENCES {SOURCE}.", f"REFERENCES {NAIVE}.")


def _add(conn: psycopg.Connection[Any], table: str, name: str, definition: str) -> None:
    # `definition` is pg_get_constraintdef output of this server, not user input.
    conn.execute(
        sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(
            sql.Identifier(NAIVE, table), sql.Identifier(name)
        )
        + sql.SQL(definition)
    )


def _copy_access(conn: psycopg.Connection[Any], names: list[str]) -> None:
    """The application role's way into schema `naive`: the same privileges and policies."""
    has_role = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone()
    if has_role:
        conn.execute(
            sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
                sql.Identifier(NAIVE), sql.Identifier(APP_ROLE)
            )
        )
    for name in names:
        rel = f'"{SOURCE}"."{name}"'
        table = sql.Identifier(NAIVE, name)
        rows = conn.execute(POLICIES_SQL, {"rel": rel}).fetchall()
        if rows and rows[0][6]:
            conn.execute(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(table))
        if rows and rows[0][7]:
            conn.execute(sql.SQL("ALTER TABLE {} FORCE ROW LEVEL SECURITY").format(table))
        for row in rows:
            if row[0] is not None:
                conn.execute(_policy(table, row[:6]))
        if has_role:
            privileges = [r[0] for r in conn.execute(GRANTS_SQL, {"rel": rel, "role": APP_ROLE})]
            if privileges:
                conn.execute(
                    sql.SQL("GRANT {} ON {} TO {}").format(
                        sql.SQL(", ").join(sql.SQL(p) for p in privileges),  # pg's own words
                        table,
                        sql.Identifier(APP_ROLE),
                    )
                )


def _policy(table: sql.Identifier, row: tuple[Any, ...]) -> sql.Composed:
    """CREATE POLICY on `table` from a POLICIES_SQL row (name, permissive, roles, cmd, qual,
    with_check): pg_policies output of this server, not user input."""
    name, permissive, roles, cmd, qual, check = row
    grantees = sql.SQL(", ").join(
        sql.SQL("PUBLIC") if r == "public" else sql.Identifier(r) for r in roles
    )
    statement = sql.SQL("CREATE POLICY {} ON {} AS {} FOR {} TO {}").format(
        sql.Identifier(name), table, sql.SQL(permissive), sql.SQL(cmd), grantees
    )
    if qual is not None:
        statement += sql.SQL(" USING (") + sql.SQL(qual) + sql.SQL(")")
    if check is not None:
        statement += sql.SQL(" WITH CHECK (") + sql.SQL(check) + sql.SQL(")")
    return statement


def ensure(conn: psycopg.Connection[Any], marker: str) -> Baseline | None:
    """Build the baseline unless it already mirrors the data identified by `marker`."""
    if marker_of(conn) == marker:
        return None
    return build(conn, marker)
