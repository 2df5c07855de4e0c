"""Revisions 0007 and 0008 on real databases: at head no search operator is LEAKPROOF and the
full-text columns are bounded; an older 0007's marks are restored by 0008 (as a superuser), put
back exactly by its downgrade, and refused with a clear error to a non-superuser; a non-superuser
owner migrates a fresh database; the offline SQL says the same."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from advisoros_db import migrations
from advisoros_db.errors import MigrationError
from advisoros_db.migrations import leakproof
from advisoros_db.migrations.drift import head_revision
from tests.support import PgDatabase

BOUNDS = "0007_leakproof_search_operators"
UNMARK = "0008_iso_plans_not_leakproof"
BEFORE = "0006_vector_indexes"

_LEAKPROOF = "SELECT proleakproof FROM pg_proc WHERE oid = %s::regprocedure"
# Counted on the tables themselves: a CHECK on partitioned documents is repeated on each partition.
_BOUNDS = (
    "SELECT count(*) FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid"
    " WHERE k.conname LIKE '%%_tsvector_bound' AND NOT c.relispartition"
)
_DEFINER = (
    "SELECT prosecdef FROM pg_proc"
    " WHERE oid = 'search_document_matches(uuid, tsquery, tsquery, integer)'::regprocedure"
)


def _flags(url: str) -> dict[str, bool]:
    with psycopg.connect(url) as conn:
        return {
            f: bool(conn.execute(_LEAKPROOF, (f,)).fetchone()[0])  # type: ignore[index]
            for f in leakproof.FUNCTIONS
        }


def _scalar(url: str, query: str) -> object:
    with psycopg.connect(url) as conn:
        row = conn.execute(query).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return row[0]


def _rows(url: str, table: str) -> list[str]:
    with psycopg.connect(url) as conn:
        query = sql.SQL("SELECT function FROM {} ORDER BY 1").format(
            sql.Identifier(*table.split("."))
        )
        return [row[0] for row in conn.execute(query)]


def _as_an_older_0007(url: str) -> None:
    """What 0007 used to leave on a database migrated by a superuser: all six marked, recorded."""
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        conn.execute("CREATE SCHEMA advisoros_meta")
        conn.execute(
            "CREATE TABLE advisoros_meta.leakproof_marks ("
            " function text PRIMARY KEY, marked_at timestamptz NOT NULL DEFAULT now())"
        )
        for function in leakproof.FUNCTIONS:
            conn.execute(f"ALTER FUNCTION {function} LEAKPROOF")  # type: ignore[arg-type]
            conn.execute(
                "INSERT INTO advisoros_meta.leakproof_marks (function) VALUES (%s)", (function,)
            )


def test_head_marks_nothing_leakproof_and_bounds_the_full_text_columns(db: PgDatabase) -> None:
    assert migrations.current(db.admin_url) == head_revision()
    assert not any(_flags(db.admin_url).values())
    assert _scalar(db.admin_url, _BOUNDS) == len(leakproof.BOUNDED_COLUMNS)
    assert _scalar(db.admin_url, "SELECT to_regnamespace('advisoros_meta')") is None
    assert _scalar(db.admin_url, _DEFINER) is False
    assert migrations.drift(db.admin_url) == []


def test_0008_restores_an_older_0007s_marks_and_its_downgrade_puts_back_exactly_those(
    db: PgDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    migrations.downgrade(db.admin_url, BOUNDS)
    assert _scalar(db.admin_url, _DEFINER) is True
    _as_an_older_0007(db.admin_url)
    # Someone else made a seventh function LEAKPROOF: not 0008's to change, but it says so.
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        conn.execute(
            "DELETE FROM advisoros_meta.leakproof_marks WHERE function LIKE '%texticlike%'"
        )

    with caplog.at_level(logging.WARNING, logger="alembic"):
        migrations.upgrade(db.admin_url, UNMARK)
    flags = _flags(db.admin_url)
    assert flags.pop("pg_catalog.texticlike(text, text)") is True
    assert not any(flags.values())
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("texticlike" in w and "NOT LEAKPROOF" in w for w in warnings), warnings
    assert _rows(db.admin_url, leakproof.MARKS_TABLE) == []
    assert len(_rows(db.admin_url, leakproof.RESTORED_TABLE)) == len(leakproof.FUNCTIONS) - 1
    assert _scalar(db.admin_url, _DEFINER) is False

    migrations.downgrade(db.admin_url, BOUNDS)
    assert all(_flags(db.admin_url).values())
    assert len(_rows(db.admin_url, leakproof.MARKS_TABLE)) == len(leakproof.FUNCTIONS) - 1
    assert _scalar(db.admin_url, "SELECT to_regclass('advisoros_meta.leakproof_restored')") is None
    assert _scalar(db.admin_url, _DEFINER) is True

    # The older 0007's own downgrade still restores what it recorded, and drops the bounds.
    migrations.downgrade(db.admin_url, BEFORE)
    flags = _flags(db.admin_url)
    assert flags.pop("pg_catalog.texticlike(text, text)") is True
    assert not any(flags.values())
    assert _scalar(db.admin_url, _BOUNDS) == 0
    assert _scalar(db.admin_url, "SELECT to_regnamespace('advisoros_meta')") is None
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        conn.execute("ALTER FUNCTION pg_catalog.texticlike(text, text) NOT LEAKPROOF")
    migrations.upgrade(db.admin_url)
    assert not any(_flags(db.admin_url).values())


_PUBLIC_TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
# Functions the migrations created (not extension members): an owner on a managed service has them.
_OWN_FUNCTIONS = (
    "SELECT p.oid::regprocedure::text FROM pg_proc p"
    " WHERE p.pronamespace = 'public'::regnamespace AND NOT EXISTS ("
    "  SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')"
)


@pytest.fixture
def owner_url(db: PgDatabase) -> Iterator[str]:
    """A LOGIN role that owns the database, every table and the migrations' functions, as on a
    managed service, but is not a superuser."""
    role, password = f"owner_{uuid.uuid4().hex[:10]}", uuid.uuid4().hex
    ident = sql.Identifier(role)
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER PASSWORD {}").format(
                ident, sql.Literal(password)
            )
        )
        conn.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(db.name), ident)
        )
    hand_over(db, role)
    parts = urlsplit(db.admin_url)
    netloc = f"{role}:{password}@{parts.hostname}:{parts.port or 5432}"
    try:
        yield urlunsplit(parts._replace(netloc=netloc))
    finally:
        with psycopg.connect(db.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("REASSIGN OWNED BY {} TO CURRENT_USER").format(ident))
            conn.execute(sql.SQL("DROP OWNED BY {}").format(ident))
            conn.execute(sql.SQL("DROP ROLE {}").format(ident))


def hand_over(db: PgDatabase, role: str) -> None:
    """Give `role` every table and migration function: after a superuser's downgrade, objects that
    downgrade re-created belong to the superuser until handed over again (as an operator would)."""
    ident = sql.Identifier(role)
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        for (table,) in conn.execute(_PUBLIC_TABLES).fetchall():
            conn.execute(sql.SQL("ALTER TABLE {} OWNER TO {}").format(sql.Identifier(table), ident))
        for (function,) in conn.execute(_OWN_FUNCTIONS).fetchall():
            conn.execute(sql.SQL("ALTER FUNCTION " + function + " OWNER TO {}").format(ident))


def owner_of(url: str) -> str:
    user = urlsplit(url).username
    assert user is not None
    return user


def test_a_non_superuser_owner_migrates_and_gets_the_bounds(
    db: PgDatabase, owner_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Later revisions (0013's login guard) need a superuser to step down; this one's do not.
    migrations.downgrade(db.admin_url, BEFORE)
    hand_over(db, owner_of(owner_url))
    assert _scalar(db.admin_url, _BOUNDS) == 0
    with caplog.at_level(logging.WARNING, logger="alembic"):
        migrations.upgrade(owner_url)
    # 0010 and 0015 warn: without BYPASSRLS the search functions cannot use their indexes.
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("BYPASSRLS" in w and "0010" in w for w in warnings), warnings
    assert any("BYPASSRLS" in w and "0015" in w for w in warnings), warnings
    assert migrations.current(db.admin_url) == head_revision()
    assert _scalar(db.admin_url, _BOUNDS) == len(leakproof.BOUNDED_COLUMNS)
    assert not any(_flags(db.admin_url).values())


def test_a_non_superuser_cannot_leave_an_older_0007s_marks_and_is_told_why(
    db: PgDatabase, owner_url: str
) -> None:
    migrations.downgrade(db.admin_url, BOUNDS)
    _as_an_older_0007(db.admin_url)
    with pytest.raises(MigrationError, match="needs a superuser"):
        migrations.upgrade(owner_url, UNMARK)
    # Nothing changed: still at 0007, the marks in place, recorded.
    assert migrations.current(db.admin_url) == BOUNDS
    assert all(_flags(db.admin_url).values())
    assert len(_rows(db.admin_url, leakproof.MARKS_TABLE)) == len(leakproof.FUNCTIONS)
    migrations.upgrade(db.admin_url)  # a superuser finishes the job
    assert not any(_flags(db.admin_url).values())


def test_a_bounded_column_refuses_text_past_the_bound_and_leaves_the_row_out(
    db: PgDatabase,
) -> None:
    too_long = "x" * (leakproof.MAX_FULL_TEXT_BYTES + 1)
    with psycopg.connect(db.admin_url) as conn:
        org = conn.execute(
            "INSERT INTO organizations (name, slug) VALUES ('Bound', %s) RETURNING id",
            (f"bound-{uuid.uuid4().hex[:8]}",),
        ).fetchone()[0]  # type: ignore[index]
        conn.commit()
        with pytest.raises(psycopg.errors.CheckViolation) as raised:
            conn.execute(
                "INSERT INTO clients (organization_id, business_name) VALUES (%s, %s)",
                (org, too_long),
            )
        conn.rollback()
        assert raised.value.diag.constraint_name == "ck_clients_business_name_tsvector_bound"
        assert conn.execute("SELECT count(*) FROM clients").fetchone() == (0,)


def test_text_within_the_bound_never_overflows_a_tsvector(db: PgDatabase) -> None:
    # The worst case for the bound: every token distinct, in a letter that grows when lowercased
    # (U+023A, 2 bytes, lowercases to U+2C65, 3 bytes) — and the error is real just past 1 MB.
    words: list[str] = []
    size = 0
    i = 0
    while True:
        word = "\u023a" + format(i, "x")
        if size + len(word.encode()) + 1 > leakproof.MAX_FULL_TEXT_BYTES:
            break
        words.append(word)
        size += len(word.encode()) + 1
        i += 1
    within = " ".join(words)
    assert len(within.encode()) <= leakproof.MAX_FULL_TEXT_BYTES
    with psycopg.connect(db.admin_url) as conn:
        for config in ("simple", "english"):
            row = conn.execute(
                "SELECT length(to_tsvector(%s::regconfig, %s))", (config, within)
            ).fetchone()
            # No error, and (the parser splits a few mixed tokens) about one lexeme a word.
            assert row is not None and row[0] > 0.9 * len(words)
        beyond = " ".join(f"w{j:x}" for j in range(200_000))  # about 1.4 MB of distinct lexemes
        with pytest.raises(psycopg.errors.ProgramLimitExceeded, match="too long for tsvector"):
            conn.execute("SELECT to_tsvector('simple'::regconfig, %s)", (beyond,))


def test_offline_sql_marks_nothing_and_restores_what_was_recorded() -> None:
    bounds = migrations.upgrade_sql(BOUNDS, start=BEFORE)
    assert "ck_clients_business_name_tsvector_bound" in bounds
    assert " LEAKPROOF" not in bounds
    unmark = migrations.upgrade_sql(UNMARK, start=BOUNDS)
    for function in leakproof.FUNCTIONS:
        assert f"ALTER FUNCTION {function} NOT LEAKPROOF;" in unmark
        assert f"ALTER FUNCTION {function} LEAKPROOF;" not in unmark
    assert "SECURITY INVOKER" in unmark
