"""Revision 0007's work: mark the built-in functions behind the GIN and full-text index quals
LEAKPROOF when the migrating role is a superuser (recording which ones it changed, so downgrade
restores only those), bound the full-text columns so to_tsvector cannot fail on stored data, and
otherwise warn through Alembic's logger and change nothing. docs/indexes.md has the analysis."""

from __future__ import annotations

import logging
from typing import LiteralString

from sqlalchemy import Connection, text

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

_IS_SUPERUSER = text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
_IS_LEAKPROOF = text("SELECT proleakproof FROM pg_proc WHERE oid = CAST(:f AS regprocedure)")
_RECORD = text("INSERT INTO advisoros_meta.leakproof_marks (function) VALUES (:f)")
_MARKED = text("SELECT function FROM advisoros_meta.leakproof_marks ORDER BY function")
_HAS_MARKS = text("SELECT to_regclass('advisoros_meta.leakproof_marks') IS NOT NULL")


def constraint_name(table: str, column: str) -> str:
    """The CHECK bounding one full-text column (the models' ck_<table>_<name> convention)."""
    return f"ck_{table}_{column}_tsvector_bound"


def is_superuser(connection: Connection) -> bool:
    return bool(connection.execute(_IS_SUPERUSER).scalar())


def upgrade(connection: Connection) -> list[str]:
    """Mark what is not yet LEAKPROOF and bound the columns; returns the functions it marked."""
    if not is_superuser(connection):
        log.warning(
            "0007_leakproof_search_operators: the migrating role is not a superuser, so the "
            "search operators stay NOT LEAKPROOF and nothing was changed; under row-level "
            "security the GIN and full-text indexes go unused. A superuser can apply it with "
            "`advisoros-db rollback --steps 1` then `advisoros-db migrate`, or accept the "
            "slower plans (managed services refuse ALTER FUNCTION ... LEAKPROOF). "
            "See docs/indexes.md, 'Indexes under row-level security'."
        )
        return []
    connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {MARKS_SCHEMA}"))
    connection.execute(
        text(
            f"CREATE TABLE {MARKS_TABLE} ("
            " function text PRIMARY KEY, marked_at timestamptz NOT NULL DEFAULT now())"
        )
    )
    for table, column in BOUNDED_COLUMNS:
        connection.execute(
            text(
                f"ALTER TABLE {table} ADD CONSTRAINT {constraint_name(table, column)}"
                f" CHECK (octet_length({column}) <= {MAX_FULL_TEXT_BYTES})"
            )
        )
    marked: list[str] = []
    for function in FUNCTIONS:
        if connection.execute(_IS_LEAKPROOF, {"f": function}).scalar():
            continue  # someone made it LEAKPROOF before us: not ours to restore
        connection.execute(text(f"ALTER FUNCTION {function} LEAKPROOF"))
        connection.execute(_RECORD, {"f": function})
        marked.append(function)
    log.info("0007_leakproof_search_operators: marked LEAKPROOF: %s", ", ".join(marked) or "none")
    return marked


def downgrade(connection: Connection) -> list[str]:
    """Restore NOT LEAKPROOF on exactly the recorded functions; returns them."""
    if not connection.execute(_HAS_MARKS).scalar():
        return []  # the upgrade ran without a superuser and changed nothing
    restored = [str(row[0]) for row in connection.execute(_MARKED)]
    for function in restored:
        if function not in FUNCTIONS:  # the table is ours; never act on a name we did not write
            continue
        connection.execute(text(f"ALTER FUNCTION {function} NOT LEAKPROOF"))
    for table, column in BOUNDED_COLUMNS:
        connection.execute(
            text(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {constraint_name(table, column)}")
        )
    connection.execute(text(f"DROP TABLE {MARKS_TABLE}"))
    connection.execute(text(f"DROP SCHEMA IF EXISTS {MARKS_SCHEMA}"))
    return restored


def offline_sql() -> str:
    """The upgrade as one DO block for `migrate --sql`: the superuser check happens at run time."""
    checks = "\n".join(
        f"    ALTER TABLE {t} ADD CONSTRAINT {constraint_name(t, c)}"
        f" CHECK (octet_length({c}) <= {MAX_FULL_TEXT_BYTES});"
        for t, c in BOUNDED_COLUMNS
    )
    # Every interpolated name is a module constant above, never input: hence the noqa.
    marks = "\n".join(
        f"    IF NOT (SELECT proleakproof FROM pg_proc WHERE oid = '{f}'::regprocedure) THEN\n"  # noqa: S608
        f"      ALTER FUNCTION {f} LEAKPROOF;\n"
        f"      INSERT INTO {MARKS_TABLE} (function) VALUES ('{f}');\n"
        f"    END IF;"
        for f in FUNCTIONS
    )
    return (
        "DO $leakproof$ BEGIN\n"  # noqa: S608
        "  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN\n"
        "    RAISE WARNING '0007: not a superuser; search operators left NOT LEAKPROOF';\n"
        "  ELSE\n"
        f"    CREATE SCHEMA IF NOT EXISTS {MARKS_SCHEMA};\n"
        f"    CREATE TABLE {MARKS_TABLE} (function text PRIMARY KEY,"
        " marked_at timestamptz NOT NULL DEFAULT now());\n"
        f"{checks}\n{marks}\n"
        "  END IF;\n"
        "END $leakproof$"
    )


def offline_downgrade_sql() -> str:
    """The downgrade as one DO block: restores only what the marks table recorded."""
    drops = "\n".join(
        f"    ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {constraint_name(t, c)};"
        for t, c in BOUNDED_COLUMNS
    )
    restores = "\n".join(
        f"    IF EXISTS (SELECT FROM {MARKS_TABLE} WHERE function = '{f}') THEN\n"
        f"      ALTER FUNCTION {f} NOT LEAKPROOF;\n"
        f"    END IF;"
        for f in FUNCTIONS
    )
    return (
        "DO $leakproof$ BEGIN\n"
        f"  IF to_regclass('{MARKS_TABLE}') IS NOT NULL THEN\n"
        f"{restores}\n{drops}\n"
        f"    DROP TABLE {MARKS_TABLE};\n"
        f"    DROP SCHEMA IF EXISTS {MARKS_SCHEMA};\n"
        "  END IF;\n"
        "END $leakproof$"
    )
