"""The attack scene for the plan and error oracles: tests/plans' data set (four large firms and
2,000 small ones, a clone of the session's `dataset_template`), the attacker is the busiest firm (thousands of rows of its own in every table),
the victim another large firm with one row per searchable column holding a distinctive word.

Each probe is a tenant catalog query on a GIN, trigram or full-text index, with its parameter
built two ways: VICTIM matches only the victim's row, NOTHING matches no row at all. An attacker
who can tell the two apart from anything the server returns has learned another firm's data.
"""

from __future__ import annotations

import importlib
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg import sql

from advisoros_db.bench import sampling
from advisoros_db.migrations import leakproof
from advisoros_db.schema import catalog
from advisoros_db.tenancy.context import apply_tenant
from tests.support import PgDatabase, PgServer, create_database, database_on, drop_database

VICTIM = "qzvictimzq"
NOTHING = "qznothingzq"
KEY = "qzkey"

# Revision 0021's document searches answer through search_tenant_document_field(field, ...).
_DOCUMENT_FIELD = re.compile(r"FROM search_tenant_document_field\('(\w+)'")
_OPERATORS = (
    "@>",
    "&&",
    "@@",
    "ILIKE",
    "search_tenant_document_field(",
    *(f + "(" for f in catalog.FILTER_FUNCTIONS),
    *catalog.SEARCH_FUNCTIONS,
)
PROBES = [q for q in catalog.QUERIES if not q.system and any(op in q.sql for op in _OPERATORS)]
# A search function's field argument names the table and column ('tasks.title').
_FIELD = re.compile(r"search_tenant_\w+\('(\w+)\.(\w+)'")
_COLUMN = re.compile(
    r"(?:to_tsvector\('\w+'::regconfig, (\w+)\)|(\w+) (?:@>|&&|ILIKE)"
    r"|(?:jsonb_contains|arraycontains|arrayoverlap)\((\w+),)"
)
_TABLE = re.compile(r" FROM (\w+)")


@dataclass(frozen=True)
class Scene:
    db: PgDatabase
    attacker: uuid.UUID
    victim: uuid.UUID


def column_of(query: catalog.CatalogQuery) -> tuple[str, str]:
    """(table, column) a probe searches."""
    field = _FIELD.search(query.sql)
    if field:
        return field.group(1), field.group(2)
    document_field = _DOCUMENT_FIELD.search(query.sql)
    if document_field:
        return "documents", document_field.group(1)
    table = _TABLE.search(query.sql)
    column = _COLUMN.search(query.sql)
    assert table and column, query.sql
    return table.group(1), column.group(1) or column.group(2) or column.group(3)


def params(query: catalog.CatalogQuery, attacker: uuid.UUID, word: str) -> dict[str, Any]:
    """The probe's parameters, searching for `word` in the attacker's own tenant."""
    bound = query.bind({"organization_id": attacker, "before": catalog.PAGE_START})
    for name in bound:
        if name == "match":
            bound[name] = f'{{"{KEY}": "{word}"}}'
        elif name == "tags":
            bound[name] = [word]
        elif name in ("tag", "industry", "q"):
            bound[name] = word
        elif name == "pattern":
            bound[name] = f"%{word}%"
    return bound


def _plant(conn: psycopg.Connection[Any], victim: uuid.UUID) -> None:
    """Put VICTIM into one victim row of every searched column (as the owner)."""
    for query in PROBES:
        table, column = column_of(query)
        kind = conn.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
            " WHERE attrelid = %s::regclass AND attname = %s",
            (table, column),
        ).fetchone()
        assert kind is not None
        if kind[0] == "jsonb":
            value = sql.SQL("COALESCE({c}, '{{}}'::jsonb) || {v}::jsonb").format(
                c=sql.Identifier(column), v=sql.Literal(f'{{"{KEY}": "{VICTIM}"}}')
            )
        elif kind[0].endswith("[]"):
            value = sql.SQL("array_append({c}, {v})").format(
                c=sql.Identifier(column), v=sql.Literal(VICTIM)
            )
        else:
            value = sql.SQL("COALESCE({c}, '') || {v}").format(
                c=sql.Identifier(column), v=sql.Literal(f" {VICTIM} Holdings")
            )
        updated = conn.execute(
            sql.SQL(
                "UPDATE {t} SET {c} = {v} WHERE id = (SELECT id FROM {t}"
                " WHERE organization_id = %s ORDER BY id LIMIT 1)"
            ).format(t=sql.Identifier(table), c=sql.Identifier(column), v=value),
            (victim,),
        )
        assert updated.rowcount == 1, f"the victim has no row in {table} to plant a value in"


def outcome(
    url: str, org: uuid.UUID, statement: sql.Composed | sql.SQL, bound: dict[str, Any]
) -> str:
    """What the application role gets: the rows, or the error (class, SQLSTATE and message)."""
    with psycopg.connect(url) as conn, conn.transaction():
        apply_tenant(conn, org)
        try:
            return repr(conn.execute(statement, bound).fetchall())
        except psycopg.Error as exc:
            message = (exc.diag.message_primary or "").replace(VICTIM, "W").replace(NOTHING, "W")
            return f"{type(exc).__name__} {exc.sqlstate} {message}"


@pytest.fixture(scope="package")
def scene(server: PgServer, dataset_template: str) -> Iterator[Scene]:
    name = f"oracles_{uuid.uuid4().hex[:12]}"
    create_database(server, name, template=dataset_template)
    db = database_on(server, name)
    try:
        with psycopg.connect(db.admin_url, autocommit=True) as conn:
            attacker = sampling.sample(conn).organization_id
            row = conn.execute(
                "SELECT organization_id FROM documents WHERE organization_id <> %s"
                " GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
                (attacker,),
            ).fetchone()
            assert row is not None
            victim = row[0]
            with conn.transaction():
                _plant(conn, victim)
        yield Scene(db, attacker, victim)
    finally:
        drop_database(server, name)


@pytest.fixture
def leakproof_marks(scene: Scene) -> Iterator[None]:
    """The search operators marked LEAKPROOF on this database, as an older 0007 left them."""
    with psycopg.connect(scene.db.admin_url, autocommit=True) as conn:
        for function in leakproof.FUNCTIONS:
            conn.execute(f"ALTER FUNCTION {function} LEAKPROOF")
    try:
        yield
    finally:
        with psycopg.connect(scene.db.admin_url, autocommit=True) as conn:
            for function in leakproof.FUNCTIONS:
                conn.execute(f"ALTER FUNCTION {function} NOT LEAKPROOF")


_REVISION = importlib.import_module("advisoros_db.migrations.versions.0022_fts_rows_field_search")


@pytest.fixture
def all_tenant_indexes(scene: Scene) -> Iterator[None]:
    """Revision 0003's trigram and per-column full-text indexes of all tenants back on this
    database, analyzed: what revision 0022 dropped, and what the old plain predicates used."""
    with psycopg.connect(scene.db.admin_url, autocommit=True) as conn:
        for name, table, key, ops in _REVISION.REPLACED:
            conn.execute(
                sql.SQL("CREATE INDEX {} ON {} USING gin ({} {})").format(
                    sql.Identifier(name), sql.Identifier(table), sql.SQL(key), sql.SQL(ops or "")
                )
            )
        conn.execute("ANALYZE clients, tasks, notes, advisor_profiles, engagements")
        conn.execute("ANALYZE document_comments")
    try:
        yield
    finally:
        with psycopg.connect(scene.db.admin_url, autocommit=True) as conn:
            for name, _table, _key, _ops in _REVISION.REPLACED:
                conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
