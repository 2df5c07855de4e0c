"""Tables a partitioned table keeps in step row by row, filled in one statement after a bulk load.

A converted table keeps two followers through triggers: its key registry (`<table>_keys`, the
ids foreign keys point at; a statement trigger since revision 0017, a row trigger before) and,
during the rollback window, the plain table it replaced (`<table>_old`, kept identical so a
rollback loses nothing). They cost an index-maintained insert per row (and the row triggers a
PL/pgSQL call per row); for a load into an empty table the loader switches them off for the COPY
and fills each follower with one INSERT ... SELECT, in the same transaction, so the followers hold
exactly what the triggers would have written, or nothing at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, LiteralString

import psycopg
from psycopg import sql

from advisoros_db.partitioning.layout import SPECS

TRIGGER_SQL: LiteralString = """
SELECT t.tgenabled
  FROM pg_trigger t
 WHERE t.tgrelid = to_regclass(%(table)s) AND t.tgname = %(trigger)s AND NOT t.tgisinternal
"""

COLUMNS_SQL: LiteralString = """
SELECT a.attname
  FROM pg_attribute a
 WHERE a.attrelid = to_regclass(%(follower)s) AND a.attnum > 0 AND NOT a.attisdropped
   AND a.attgenerated = ''
   AND EXISTS (SELECT 1 FROM pg_attribute s
                WHERE s.attrelid = to_regclass(%(table)s) AND s.attname = a.attname
                  AND NOT s.attisdropped)
 ORDER BY a.attnum
"""

# How `ALTER TABLE ... ENABLE` restores each pg_trigger.tgenabled state.
_ENABLE = {"O": "ENABLE", "A": "ENABLE ALWAYS", "R": "ENABLE REPLICA"}


@dataclass(frozen=True)
class Follower:
    """One table `trigger` on the loaded table writes each new row into."""

    table: str
    trigger: str
    enabled: str
    columns: tuple[str, ...]
    # The mirror writes with session_replication_role = replica (the follower's own triggers must
    # not rewrite mirrored rows); the catch-up insert does the same.
    as_replica: bool


def _regclass(schema: str, table: str) -> str:
    return sql.Identifier(schema, table).as_string()


def _follower(
    conn: psycopg.Connection[Any],
    schema: str,
    table: str,
    follower: str,
    trigger: str,
    *,
    as_replica: bool,
) -> Follower | None:
    rel = _regclass(schema, table)
    state = conn.execute(TRIGGER_SQL, {"table": rel, "trigger": trigger}).fetchone()
    if state is None or state[0] == "D":
        return None
    cols = conn.execute(
        COLUMNS_SQL, {"follower": _regclass(schema, follower), "table": rel}
    ).fetchall()
    if not cols:
        return None
    return Follower(follower, trigger, state[0], tuple(r[0] for r in cols), as_replica)


def followers(conn: psycopg.Connection[Any], schema: str, table: str) -> list[Follower]:
    """The followers `table` feeds through enabled row triggers (none for most tables)."""
    spec = SPECS.get(table)
    if spec is None:
        return []
    found = []
    if spec.key_registry:
        found.append(
            _follower(conn, schema, table, spec.registry, "partition_register", as_replica=False)
        )
    found.append(_follower(conn, schema, table, spec.old_name, "partition_mirror", as_replica=True))
    return [f for f in found if f is not None]


def is_empty(conn: psycopg.Connection[Any], schema: str, table: str) -> bool:
    row = conn.execute(
        sql.SQL("SELECT NOT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(schema, table))
    ).fetchone()
    return bool(row and row[0])


def pause(conn: psycopg.Connection[Any], schema: str, table: str, group: list[Follower]) -> None:
    """Switch the row triggers off for this transaction's load (ALTER TABLE is transactional)."""
    for f in group:
        conn.execute(
            sql.SQL("ALTER TABLE {} DISABLE TRIGGER {}").format(
                sql.Identifier(schema, table), sql.Identifier(f.trigger)
            )
        )


def catch_up(conn: psycopg.Connection[Any], schema: str, table: str, group: list[Follower]) -> None:
    """Write into each follower what its trigger would have, then switch the triggers back on."""
    row = conn.execute("SELECT current_setting('session_replication_role')").fetchone()
    role = row[0] if row else "origin"
    for f in group:
        cols = sql.SQL(", ").join(map(sql.Identifier, f.columns))
        if f.as_replica:
            conn.execute("SELECT set_config('session_replication_role', 'replica', true)")
        conn.execute(
            sql.SQL("INSERT INTO {f} ({c}) SELECT {c} FROM {t} ON CONFLICT DO NOTHING").format(
                f=sql.Identifier(schema, f.table), c=cols, t=sql.Identifier(schema, table)
            )
        )
        if f.as_replica:
            conn.execute("SELECT set_config('session_replication_role', %s, true)", (role,))
        conn.execute(
            sql.SQL("ALTER TABLE {} {} TRIGGER {}").format(
                sql.Identifier(schema, table),
                sql.SQL(_ENABLE[f.enabled]),
                sql.Identifier(f.trigger),
            )
        )
