"""The LEAKPROOF marks of revision 0007 and their removal by revision 0008.

Revision 0007 used to mark the built-in functions behind the GIN and full-text index quals
LEAKPROOF, so that row-level security let those indexes serve the application role. That leaked
other tenants' data: the index then reads every tenant's entries and rows before the policy
filters them, and `EXPLAIN ANALYZE` (open to any role) counts what the filter removed. Now 0007
only bounds the full-text columns (so `to_tsvector` cannot fail on a stored row, whoever reads it)
and marks nothing; revision `0008_iso_plans_not_leakproof` restores NOT LEAKPROOF on what an
earlier 0007 recorded in `advisoros_meta.leakproof_marks`. docs/indexes.md has the analysis.
"""

from __future__ import annotations

import logging
from typing import LiteralString

from sqlalchemy import Connection, text

from advisoros_db.errors import MigrationError

log = logging.getLogger("alembic.runtime.migration")

# Exactly the functions whose arguments hold a column in the tenant catalog queries' index quals:
# RLS keeps any qual with such a non-LEAKPROOF function behind the policy, so out of the index.
FUNCTIONS: tuple[LiteralString, ...] = (
    "pg_catalog.jsonb_contains(jsonb, jsonb)",  # jsonb @> jsonb
    "pg_catalog.arraycontains(anyarray, anyarray)",  # text[] @> text[]
    "pg_catalog.arrayoverlap(anyarray, anyarray)",  # text[] && text[]
    "pg_catalog.ts_match_vq(tsvector, tsquery)",  # tsvector @@ tsquery
    "pg_catalog.to_tsvector(regconfig, text)",  # the full-text indexes' expression
    "pg_catalog.texticlike(text, text)",  # text ILIKE pattern (trigram index)
)

# to_tsvector raises "string is too long for tsvector" past 1 MB of lexemes. Lexemes are distinct
# tokens, lowercased (which grows UTF-8 by at most half) and stemmed (never longer), so text of at
# most 512 KiB cannot reach the limit: these CHECKs make the error impossible on stored rows.
MAX_FULL_TEXT_BYTES = 512 * 1024
BOUNDED_COLUMNS: tuple[tuple[LiteralString, LiteralString], ...] = (
    ("documents", "file_name"),
    ("documents", "description"),
    ("clients", "business_name"),
    ("clients", "legal_name"),
    ("tasks", "title"),
    ("tasks", "description"),
    ("notes", "content"),
    ("advisor_profiles", "bio"),
    ("engagements", "name"),
    ("engagements", "description"),
    ("document_comments", "content"),
)

MARKS_SCHEMA: LiteralString = "advisoros_meta"
MARKS_TABLE: LiteralString = "advisoros_meta.leakproof_marks"

RESTORED_TABLE: LiteralString = "advisoros_meta.leakproof_restored"

_IS_SUPERUSER = text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
_IS_LEAKPROOF = text("SELECT proleakproof FROM pg_proc WHERE oid = CAST(:f AS regprocedure)")
# From the catalog, not to_regclass: a role without USAGE on the schema may still ask.
_EXISTS = text(
    "SELECT EXISTS (SELECT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname || '.' || c.relname = :t)"
)


def constraint_name(table: str, column: str) -> str:
    """The CHECK bounding one full-text column (the models' ck_<table>_<name> convention)."""
    return f"ck_{table}_{column}_tsvector_bound"


def is_superuser(connection: Connection) -> bool:
    return bool(connection.execute(_IS_SUPERUSER).scalar())


def _add_checks_sql() -> list[str]:
    return [
        f"ALTER TABLE {table} ADD CONSTRAINT {constraint_name(table, column)}"
        f" CHECK (octet_length({column}) <= {MAX_FULL_TEXT_BYTES})"
        for table, column in BOUNDED_COLUMNS
    ]


def _drop_checks_sql() -> list[str]:
    return [
        f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {constraint_name(table, column)}"
        for table, column in BOUNDED_COLUMNS
    ]


def upgrade(connection: Connection) -> None:
    """Revision 0007: bound the full-text columns, as any role; mark nothing LEAKPROOF."""
    for statement in _add_checks_sql():
        connection.execute(text(statement))


def _recorded(connection: Connection, table: LiteralString, what: str) -> list[str]:
    """The functions `table` records; only a superuser may read it, or change what it lists."""
    if not connection.execute(_EXISTS, {"t": table}).scalar():
        return []
    if not is_superuser(connection):
        raise MigrationError(
            f"{what} the functions recorded in {table} needs a superuser (PostgreSQL lets only "
            "superusers change LEAKPROOF on built-in functions); run this migration with a "
            "superuser's URL (ADVISOROS_DATABASE_URL). Nothing was changed. See docs/indexes.md."
        )
    rows = connection.execute(text(f"SELECT function FROM {table} ORDER BY function"))  # noqa: S608
    # The table is ours; never act on a name we did not write.
    return [str(row[0]) for row in rows if str(row[0]) in FUNCTIONS]


def downgrade(connection: Connection) -> list[str]:
    """Revision 0007's downgrade: restore NOT LEAKPROOF on what an earlier 0007 recorded (a
    database migrated before 0008 existed), drop its record and the CHECKs; returns the functions
    restored."""
    restored = _recorded(connection, MARKS_TABLE, "setting NOT LEAKPROOF on")
    for function in restored:
        connection.execute(text(f"ALTER FUNCTION {function} NOT LEAKPROOF"))
    for statement in _drop_checks_sql():
        connection.execute(text(statement))
    connection.execute(text(f"DROP TABLE IF EXISTS {MARKS_TABLE}"))
    connection.execute(text(f"DROP SCHEMA IF EXISTS {MARKS_SCHEMA}"))
    return restored


def unmark(connection: Connection) -> list[str]:
    """Revision 0008: NOT LEAKPROOF on every function 0007 recorded, moving each record to
    `advisoros_meta.leakproof_restored` so the downgrade can put back exactly those; warns about
    any of the six another hand made LEAKPROOF (not ours to change). Returns what it restored."""
    marked = _recorded(connection, MARKS_TABLE, "setting NOT LEAKPROOF on")
    for function in marked:
        connection.execute(text(f"ALTER FUNCTION {function} NOT LEAKPROOF"))
    if marked:
        connection.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {RESTORED_TABLE} ("
                " function text PRIMARY KEY, restored_at timestamptz NOT NULL DEFAULT now())"
            )
        )
        connection.execute(
            text(
                f"INSERT INTO {RESTORED_TABLE} (function)"  # noqa: S608
                f" SELECT function FROM {MARKS_TABLE} WHERE function = ANY(:f)"
            ),
            {"f": marked},
        )
        connection.execute(
            text(f"DELETE FROM {MARKS_TABLE} WHERE function = ANY(:f)"),  # noqa: S608
            {"f": marked},
        )
    others = [f for f in FUNCTIONS if connection.execute(_IS_LEAKPROOF, {"f": f}).scalar()]
    if others:
        log.warning(
            "0008_iso_plans_not_leakproof: %s LEAKPROOF, set outside these migrations; under "
            "row-level security that lets an index read other tenants' rows before the policy "
            "and EXPLAIN ANALYZE count them. A superuser should run ALTER FUNCTION ... NOT "
            "LEAKPROOF on each. See docs/indexes.md.",
            ", ".join(others) + (" is" if len(others) == 1 else " are"),
        )
    log.info(
        "0008_iso_plans_not_leakproof: restored NOT LEAKPROOF: %s", ", ".join(marked) or "none"
    )
    return marked


def remark(connection: Connection) -> list[str]:
    """Revision 0008's downgrade: LEAKPROOF again on exactly what `unmark` restored."""
    restored = _recorded(connection, RESTORED_TABLE, "setting LEAKPROOF again on")
    for function in restored:
        connection.execute(text(f"ALTER FUNCTION {function} LEAKPROOF"))
    if restored:
        connection.execute(
            text(
                f"INSERT INTO {MARKS_TABLE} (function)"  # noqa: S608
                f" SELECT function FROM {RESTORED_TABLE} WHERE function = ANY(:f)"
            ),
            {"f": restored},
        )
    connection.execute(text(f"DROP TABLE IF EXISTS {RESTORED_TABLE}"))
    return restored


def offline_sql() -> str:
    """Revision 0007 for `migrate --sql`: the CHECKs."""
    return ";\n".join(_add_checks_sql())


def offline_downgrade_sql() -> str:
    """Revision 0007's downgrade as one DO block: restores only what the marks table recorded."""
    drops = "\n".join(f"  {statement};" for statement in _drop_checks_sql())
    restores = "\n".join(
        f"    IF EXISTS (SELECT FROM {MARKS_TABLE} WHERE function = '{f}') THEN\n"
        f"      ALTER FUNCTION {f} NOT LEAKPROOF;\n"
        f"    END IF;"
        for f in FUNCTIONS
    )
    return (
        "DO $leakproof$ BEGIN\n"
        f"  IF to_regclass('{MARKS_TABLE}') IS NOT NULL THEN\n"
        f"{restores}\n"
        f"    DROP TABLE {MARKS_TABLE};\n"
        "  END IF;\n"
        f"{drops}\n"
        f"  DROP SCHEMA IF EXISTS {MARKS_SCHEMA};\n"
        "END $leakproof$"
    )


def _offline_move(source: LiteralString, target: LiteralString, flag: LiteralString) -> str:
    # Every interpolated name is a module constant above, never input: hence the noqa.
    moves = "\n".join(
        f"    IF EXISTS (SELECT FROM {source} WHERE function = '{f}') THEN\n"  # noqa: S608
        f"      ALTER FUNCTION {f} {flag};\n"
        f"      INSERT INTO {target} (function) VALUES ('{f}');\n"
        f"      DELETE FROM {source} WHERE function = '{f}';\n"
        f"    END IF;"
        for f in FUNCTIONS
    )
    return (
        "DO $leakproof$ BEGIN\n"
        f"  IF to_regclass('{source}') IS NOT NULL THEN\n"
        f"    CREATE TABLE IF NOT EXISTS {target} (function text PRIMARY KEY);\n"
        f"{moves}\n"
        "  END IF;\n"
        "END $leakproof$"
    )


def offline_unmark_sql() -> str:
    """Revision 0008 for `migrate --sql`: NOT LEAKPROOF on what the marks table recorded."""
    return _offline_move(MARKS_TABLE, RESTORED_TABLE, "NOT LEAKPROOF")


def offline_remark_sql() -> str:
    """Revision 0008's downgrade for `migrate --sql`."""
    return _offline_move(RESTORED_TABLE, MARKS_TABLE, "LEAKPROOF") + (
        f";\nDROP TABLE IF EXISTS {RESTORED_TABLE}"
    )
