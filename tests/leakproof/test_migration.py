"""Revision 0007 on real databases: as a superuser it marks exactly the search operators LEAKPROOF
and bounds the full-text columns; as a non-superuser owner it warns and changes nothing; downgrade
restores only what it changed; the offline SQL carries the same run-time check; and the index paths
it opens to the application role still return only the tenant's own rows."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from advisoros_db import migrations
from advisoros_db.migrations import leakproof
from advisoros_db.migrations.drift import head_revision
from tests.support import PgDatabase

REVISION = "0007_leakproof_search_operators"
BEFORE = "0003_performance_indexes"

_LEAKPROOF = "SELECT proleakproof FROM pg_proc WHERE oid = %s::regprocedure"
_MARKED = "SELECT function FROM advisoros_meta.leakproof_marks ORDER BY function"
_BOUNDS = "SELECT count(*) FROM pg_constraint WHERE conname LIKE '%%_tsvector_bound'"


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


def test_head_marks_every_search_operator_and_records_them(db: PgDatabase) -> None:
    assert migrations.current(db.admin_url) == head_revision()
    assert all(_flags(db.admin_url).values())
    with psycopg.connect(db.admin_url) as conn:
        marked = [row[0] for row in conn.execute(_MARKED)]
    # A stock server has none of them LEAKPROOF, so the revision changed (and recorded) all six.
    assert marked == sorted(leakproof.FUNCTIONS)
    assert _scalar(db.admin_url, _BOUNDS) == len(leakproof.BOUNDED_COLUMNS)
    assert migrations.drift(db.admin_url) == []


def test_downgrade_restores_exactly_what_the_upgrade_changed(db: PgDatabase) -> None:
    migrations.downgrade(db.admin_url, BEFORE)
    assert not any(_flags(db.admin_url).values())
    assert _scalar(db.admin_url, _BOUNDS) == 0
    assert _scalar(db.admin_url, "SELECT to_regnamespace('advisoros_meta')") is None

    # Someone had made one of them LEAKPROOF before 0007: the round trip leaves it so.
    preset = "pg_catalog.texticlike(text, text)"
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        conn.execute(f"ALTER FUNCTION {preset} LEAKPROOF")
    migrations.upgrade(db.admin_url)
    with psycopg.connect(db.admin_url) as conn:
        marked = [row[0] for row in conn.execute(_MARKED)]
    assert preset not in marked and len(marked) == len(leakproof.FUNCTIONS) - 1
    migrations.downgrade(db.admin_url, BEFORE)
    flags = _flags(db.admin_url)
    assert flags.pop(preset) is True
    assert not any(flags.values())


_PUBLIC_TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"


@pytest.fixture
def owner_url(db: PgDatabase) -> Iterator[str]:
    """A LOGIN role that owns the database and every table, as on a managed service, but is not a
    superuser."""
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
        for (table,) in conn.execute(_PUBLIC_TABLES).fetchall():
            conn.execute(sql.SQL("ALTER TABLE {} OWNER TO {}").format(sql.Identifier(table), ident))
    parts = urlsplit(db.admin_url)
    netloc = f"{role}:{password}@{parts.hostname}:{parts.port or 5432}"
    try:
        yield urlunsplit(parts._replace(netloc=netloc))
    finally:
        with psycopg.connect(db.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("REASSIGN OWNED BY {} TO CURRENT_USER").format(ident))
            conn.execute(sql.SQL("DROP OWNED BY {}").format(ident))
            conn.execute(sql.SQL("DROP ROLE {}").format(ident))


def test_a_non_superuser_gets_a_warning_and_no_change(
    db: PgDatabase, owner_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    migrations.downgrade(db.admin_url, BEFORE)
    with caplog.at_level(logging.WARNING, logger="alembic"):
        migrations.upgrade(owner_url, REVISION)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "not a superuser" in warnings[0].getMessage()
    assert "docs/indexes.md" in warnings[0].getMessage()
    assert migrations.current(db.admin_url) == REVISION
    assert not any(_flags(db.admin_url).values())
    assert _scalar(db.admin_url, _BOUNDS) == 0
    assert _scalar(db.admin_url, "SELECT to_regnamespace('advisoros_meta')") is None

    # Its downgrade has nothing to restore and still steps back.
    migrations.downgrade(owner_url, BEFORE)
    assert migrations.current(db.admin_url) == BEFORE
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


def test_offline_sql_checks_for_a_superuser_at_run_time() -> None:
    rendered = migrations.upgrade_sql(REVISION, start=BEFORE)
    assert "IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)" in rendered
    for function in leakproof.FUNCTIONS:
        assert f"ALTER FUNCTION {function} LEAKPROOF;" in rendered


_SEARCHES = (
    ("custom_fields @> %s::jsonb", '{"code": "secret-b"}', "idx_clients_custom_fields_gin"),
    ("tags && %s::text[]", "{secret-b}", "idx_clients_tags_gin"),
    ("business_name ILIKE %s", "%secret-b%", "idx_clients_business_name_trgm"),
    (
        "to_tsvector('simple'::regconfig, business_name)"
        " @@ plainto_tsquery('simple'::regconfig, %s)",
        "secretb",
        "idx_clients_business_name_fts",
    ),
)


def test_leakproof_index_paths_still_apply_the_tenant_policy(db: PgDatabase) -> None:
    with psycopg.connect(db.admin_url) as conn:
        orgs = [
            conn.execute(
                "INSERT INTO organizations (name, slug) VALUES (%s, %s) RETURNING id",
                (name, f"{name}-{uuid.uuid4().hex[:8]}"),
            ).fetchone()[0]  # type: ignore[index]
            for name in ("a", "b")
        ]
        conn.execute(
            "INSERT INTO clients (organization_id, business_name, custom_fields, tags)"
            " VALUES (%s, 'Secret-B secretb Holdings', '{\"code\": \"secret-b\"}', '{secret-b}')",
            (orgs[1],),
        )
        # Enough of tenant A's own rows that its organization_id B-tree costs more than the GIN.
        conn.execute(
            "INSERT INTO clients (organization_id, business_name, custom_fields, tags)"
            " SELECT %s, 'Client ' || i, jsonb_build_object('code', 'a-' || i), ARRAY['a-' || i]"
            " FROM generate_series(1, 3000) i",
            (orgs[0],),
        )
        conn.commit()
        conn.execute("ANALYZE clients")
    for predicate, value, index in _SEARCHES:
        query = "SELECT business_name FROM clients WHERE " + predicate
        with psycopg.connect(db.app_url) as conn, conn.transaction():
            conn.execute("SELECT set_config('app.organization_id', %s, true)", (str(orgs[0]),))
            plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + query, (value,)))  # type: ignore[arg-type]
            assert index in plan, plan
            assert conn.execute(query, (value,)).fetchall() == []  # type: ignore[arg-type]
            conn.execute("SELECT set_config('app.organization_id', %s, true)", (str(orgs[1]),))
            assert len(conn.execute(query, (value,)).fetchall()) == 1  # type: ignore[arg-type]
