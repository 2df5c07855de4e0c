"""Check a loaded table's foreign keys in one query each, instead of dropping and re-adding them.

Dropping or adding a foreign key locks the table it points at (SHARE ROW EXCLUSIVE, until commit),
so two tables pointing at `organizations` could never load at once. A superuser load instead
keeps the constraints, skips their per-row triggers (`session_replication_role = replica`, for
this transaction only) and then looks for a violating row with one anti-join per constraint, as
`ALTER TABLE ... ADD FOREIGN KEY` would: MATCH SIMPLE, so a row with a NULL in the key passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, LiteralString

import psycopg
from psycopg import sql

from advisoros_db.errors import ForeignKeyViolation

REFERENCES_SQL: LiteralString = """
SELECT c.conname, c.confrelid::regclass::text, c.confmatchtype,
       ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
               JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),
       ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
               JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)
  FROM pg_constraint c
 WHERE c.conrelid = %(rel)s::regclass AND c.contype = 'f'
 ORDER BY c.conname
"""


@dataclass(frozen=True)
class Reference:
    name: str
    parent: str  # as regclass prints it: schema-qualified when off the search path, quoted
    columns: tuple[str, ...]
    parent_columns: tuple[str, ...]
    simple: bool


def can_skip_triggers(conn: psycopg.Connection[Any]) -> bool:
    """Whether this session may set session_replication_role (superusers, or granted SET)."""
    row = conn.execute(
        "SELECT has_parameter_privilege('session_replication_role', 'SET')"
    ).fetchone()
    return bool(row and row[0])


def references(conn: psycopg.Connection[Any], schema: str, table: str) -> list[Reference]:
    rel = sql.Identifier(schema, table).as_string(conn)
    return [
        Reference(r[0], r[1], tuple(r[3]), tuple(r[4]), r[2] == "s")
        for r in conn.execute(REFERENCES_SQL, {"rel": rel}).fetchall()
    ]


def skip_triggers(conn: psycopg.Connection[Any]) -> None:
    """No row triggers (foreign-key checks included) until this transaction ends."""
    conn.execute("SELECT set_config('session_replication_role', 'replica', true)")


def verify(conn: psycopg.Connection[Any], schema: str, table: str, refs: list[Reference]) -> None:
    """Raise ForeignKeyViolation naming the constraint and one offending key, if any row has one."""
    for ref in refs:
        child = [sql.SQL("c.{}").format(sql.Identifier(c)) for c in ref.columns]
        parent = [sql.SQL("p.{}").format(sql.Identifier(c)) for c in ref.parent_columns]
        present = sql.SQL(" AND ").join(sql.SQL("{} IS NOT NULL").format(c) for c in child)
        if not ref.simple:  # MATCH FULL: all NULL passes, some NULL fails in the join below
            present = sql.SQL(" OR ").join(sql.SQL("{} IS NOT NULL").format(c) for c in child)
        query = sql.SQL(
            "SELECT {cols} FROM {t} c WHERE ({present}) AND NOT EXISTS "
            "(SELECT 1 FROM {p} p WHERE {match}) LIMIT 1"
        ).format(
            cols=sql.SQL(", ").join(child),
            t=sql.Identifier(schema, table),
            present=present,
            p=sql.SQL(ref.parent),  # regclass output of this server: already quoted
            match=sql.SQL(" AND ").join(
                sql.SQL("{} = {}").format(p, c) for p, c in zip(parent, child, strict=True)
            ),
        )
        row = conn.execute(query).fetchone()
        if row is not None:
            key = ", ".join(f"{c}={v}" for c, v in zip(ref.columns, row, strict=True))
            raise ForeignKeyViolation(
                f"{table}: a loaded row references a missing {ref.parent} row ({key}); "
                f"constraint {ref.name}. Nothing of {table} was loaded.",
                constraint=ref.name,
                table=table,
                sqlstate="23503",
            )
