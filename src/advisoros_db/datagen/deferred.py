"""Secondary index builds taken out of a table's load transaction, and never lost.

A table's load commits its rows with its keys and foreign keys checked; its non-unique secondary
indexes are built afterwards, one transaction each, on whichever loading connection is free, so
the tables that reference it start at once and the builds of a large table spread over the
connections. The load records the definitions in `datagen.pending_indexes` in the same transaction
that dropped the indexes, and each build deletes its record in the transaction that creates the
index: whatever stops a seed half-way, the next seed first builds what is still recorded
(`recover`), so no index is ever missing for good. Unique indexes are never deferred (a table is
never committed with a uniqueness unchecked).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, LiteralString

import psycopg
from psycopg import sql

PENDING_DDL: LiteralString = """
CREATE SCHEMA IF NOT EXISTS datagen;
CREATE TABLE IF NOT EXISTS datagen.pending_indexes (
    schema_name text NOT NULL,
    table_name text NOT NULL,
    index_name text NOT NULL,
    definition text NOT NULL,
    PRIMARY KEY (schema_name, table_name, index_name)
)
"""


def recursive(index_definition: str) -> str:
    """The definition that builds the index on every partition too.

    pg_get_indexdef prints a partitioned table's index as `ON ONLY parent`, which run as is creates
    an invalid parent index with no partition indexes, one no query can use.
    """
    return index_definition.replace(" ON ONLY ", " ON ", 1)


def prepare(conn: psycopg.Connection[Any]) -> None:
    conn.execute(PENDING_DDL)


def record(
    conn: psycopg.Connection[Any], schema: str, table: str, indexes: list[tuple[str, str]]
) -> None:
    """Note the dropped indexes still to build (in the transaction that dropped them)."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO datagen.pending_indexes (schema_name, table_name, index_name, definition)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
            [(schema, table, name, definition) for name, definition in indexes],
        )


def build(
    conn: psycopg.Connection[Any],
    schema: str,
    table: str,
    name: str,
    definition: str,
    *,
    settings: Callable[[], Mapping[str, str]] = dict,
) -> float:
    """Build one recorded index and forget its record, in one transaction; seconds taken."""
    start = time.perf_counter()
    with conn.transaction():
        for key, value in settings().items():
            conn.execute("SELECT set_config(%s, %s, true)", (key, value))
        conn.execute(sql.SQL(recursive(definition)))
        conn.execute(
            "DELETE FROM datagen.pending_indexes"
            " WHERE schema_name = %s AND table_name = %s AND index_name = %s",
            (schema, table, name),
        )
    return time.perf_counter() - start


PENDING_SQL: LiteralString = """
SELECT p.schema_name, p.table_name, p.index_name, p.definition,
       to_regclass(quote_ident(p.schema_name) || '.' || quote_ident(p.index_name)) IS NOT NULL
  FROM datagen.pending_indexes p
 ORDER BY 1, 2, 3
"""


def recover(conn: psycopg.Connection[Any]) -> list[str]:
    """Build every index an interrupted seed left recorded; the names built."""
    exists = conn.execute("SELECT to_regclass('datagen.pending_indexes') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return []
    built = []
    for schema, table, name, definition, present in conn.execute(PENDING_SQL).fetchall():
        if present:  # built, but its record outlived it (never by `build`; by hand perhaps)
            conn.execute(
                "DELETE FROM datagen.pending_indexes"
                " WHERE schema_name = %s AND table_name = %s AND index_name = %s",
                (schema, table, name),
            )
            continue
        build(conn, schema, table, name, definition)
        built.append(name)
    return built
