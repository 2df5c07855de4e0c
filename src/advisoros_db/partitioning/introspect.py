"""Catalog look-ups and the SQL pieces every partition step shares (state table, functions)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any, LiteralString

import psycopg
from psycopg import sql

from advisoros_db.errors import MigrationError

Conn = psycopg.Connection[Any]

FUNCTIONS = (
    "create_next_audit_logs_partition()",
    "create_next_documents_partition()",
    "archive_old_audit_logs_partition(integer)",
    "get_partition_stats(text)",
    "partition_create(regclass, text, text, text)",
    "partition_secure(regclass, regclass)",
)


_STATE_DDL: LiteralString = """
CREATE SCHEMA IF NOT EXISTS partitioning;
CREATE TABLE IF NOT EXISTS partitioning.conversions (
    table_name text PRIMARY KEY,
    phase text NOT NULL CHECK (phase IN ('prepared', 'syncing', 'backfilled', 'verified', 'swapped',
                                         'rolled_back', 'finalized')),
    last_id text,
    rows_copied bigint NOT NULL DEFAULT 0,
    verification jsonb,
    started_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
"""


def ensure_state(conn: Conn) -> None:
    """The conversions' state table (schema `partitioning`, outside the models' comparison)."""
    conn.execute(_STATE_DDL)


def set_phase(conn: Conn, table: str, phase: str) -> None:
    conn.execute(
        "INSERT INTO partitioning.conversions (table_name, phase) VALUES (%s, %s)"
        " ON CONFLICT (table_name) DO UPDATE SET phase = EXCLUDED.phase, updated_at = now()",
        (table, phase),
    )


def deparsed(text: str) -> sql.SQL:
    """SQL text the server deparsed (pg_get_indexdef, pg_get_constraintdef, pg_get_triggerdef, a
    format_type()), or one of our own .sql files: trusted, so it is not composed piece by piece."""
    # Text produced by pg_get_indexdef/pg_get_constraintdef/pg_get_triggerdef: SQL from the server.
    return sql.SQL(text)  # pyright would need a cast; mypy treats LiteralString as str


def install_functions(conn: Conn) -> None:
    """Create (or replace) the maintenance functions and the archive schema."""
    text = resources.files("advisoros_db.partitioning").joinpath("sql/partition_functions.sql")
    conn.execute(deparsed(text.read_text()))


def drop_functions(conn: Conn) -> None:
    for signature in FUNCTIONS:
        conn.execute(deparsed(f"DROP FUNCTION IF EXISTS {signature}"))


def short(name: str, suffix: str) -> str:
    """`name + suffix` within PostgreSQL's 63-byte identifier limit."""
    return name[: 63 - len(suffix)] + suffix


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    not_null: bool


def columns(conn: Conn, table: str) -> list[Column]:
    rows = conn.execute(
        "SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute"
        " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        (table,),
    ).fetchall()
    if not rows:
        raise MigrationError(f"table {table} has no columns or does not exist")
    return [Column(r[0], r[1], r[2]) for r in rows]


def primary_key(conn: Conn, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT a.attname FROM pg_constraint c"
        " CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY k(attnum, n)"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum"
        " WHERE c.conrelid = %s::regclass AND c.contype = 'p' ORDER BY k.n",
        (table,),
    ).fetchall()
    return [r[0] for r in rows]


def exists(conn: Conn, table: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone() == (True,)


def is_partitioned(conn: Conn, table: str) -> bool:
    row = conn.execute(
        "SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", (table,)
    ).fetchone()
    return row is not None and row[0] == "p"


def incoming_foreign_keys(conn: Conn, table: str) -> list[tuple[str, str, str]]:
    """(referencing table, constraint name, definition) of the foreign keys that point at `table`."""
    rows = conn.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE confrelid = %s::regclass AND contype = 'f' AND conparentid = 0"
        " ORDER BY conrelid::regclass::text, conname",
        (table,),
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]
