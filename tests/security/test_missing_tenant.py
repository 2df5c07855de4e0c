"""A query on a tenant table with no tenant set, as the application role: a clear error naming the
missing setting, the same for an empty table, a full one, a row that exists and one that does not
(so the error is no oracle either); the owner's maintenance paths keep working."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from advisoros_db import migrations
from advisoros_db.migrations import tenant_guard
from advisoros_db.search.connections import connect
from advisoros_db.tenancy.context import TENANT_SETTING
from tests.support import PgDatabase

_TENANT_TABLES = (
    "SELECT DISTINCT c.relname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid"
    " JOIN pg_namespace n ON n.oid = c.relnamespace"
    # The application's schema; a partitioned table's never-written blueprint lives in the
    # `partitioning` schema, which the application role cannot reach at all.
    " WHERE p.polname = 'tenant_isolation' AND NOT c.relispartition AND n.nspname = 'public'"
    " ORDER BY 1"
)


def _tables(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [row[0] for row in conn.execute(_TENANT_TABLES)]


def _refusal(url: str, statement: sql.Composed | sql.SQL, params: tuple[object, ...] = ()) -> str:
    with (
        psycopg.connect(url) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege) as raised,
    ):
        conn.execute(statement, params)
    return raised.value.diag.message_primary or ""


def test_every_tenant_table_refuses_a_query_with_no_tenant_even_when_empty(
    db: PgDatabase,
) -> None:
    tables = _tables(db.admin_url)
    assert len(tables) > 40
    for table in tables:
        for statement in (
            sql.SQL("SELECT * FROM {}"),
            sql.SQL("EXPLAIN SELECT count(*) FROM {}"),
            sql.SQL("DELETE FROM {}"),
        ):
            message = _refusal(db.app_url, statement.format(sql.Identifier(table)))
            assert f"{table} holds tenant data" in message and TENANT_SETTING in message


def test_the_refusal_is_the_same_for_a_row_that_exists_and_one_that_does_not(
    db: PgDatabase,
) -> None:
    with psycopg.connect(db.admin_url) as conn:
        org = conn.execute(
            "INSERT INTO organizations (name, slug) VALUES ('Victim', %s) RETURNING id",
            (f"victim-{uuid.uuid4().hex[:8]}",),
        ).fetchone()[0]  # type: ignore[index]
        client = conn.execute(
            "INSERT INTO clients (organization_id, business_name) VALUES (%s, 'Victim Co')"
            " RETURNING id",
            (org,),
        ).fetchone()[0]  # type: ignore[index]
        conn.commit()
    # Looked up through the primary key, where a per-row check would fire only for the row that
    # exists: the refusal comes while planning, before any row is read.
    by_id = sql.SQL("SELECT business_name FROM clients WHERE id = %s")
    assert _refusal(db.app_url, by_id, (client,)) == _refusal(db.app_url, by_id, (uuid.uuid4(),))


def test_a_prepared_statement_planned_without_a_tenant_is_refused(db: PgDatabase) -> None:
    with psycopg.connect(db.app_url, prepare_threshold=0) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="no tenant is set"):
            conn.execute("SELECT id FROM clients WHERE id = %s", (uuid.uuid4(),))
        conn.rollback()
        with conn.transaction():
            conn.execute("SELECT set_config('app.organization_id', %s, true)", (str(uuid.uuid4()),))
            assert (
                conn.execute("SELECT id FROM clients WHERE id = %s", (uuid.uuid4(),)).fetchall()
                == []
            )


@pytest.mark.parametrize(
    "call",
    [
        "search_tenant_documents('a'::tsquery, 'a'::tsquery, 10)",
        "search_tenant_document_field('file_name', 'a'::tsquery, 10)",
        "search_tenant_document_field('file_name', 'a'::tsquery, NULL, 10)",
    ],
)
def test_the_search_function_refuses_a_call_with_no_tenant(db: PgDatabase, call: str) -> None:
    with (
        connect(db.app_url) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege, match=re.escape(TENANT_SETTING)),
    ):
        conn.execute(f"SELECT * FROM {call}")  # type: ignore[arg-type]


@pytest.fixture
def owner_url(db: PgDatabase) -> Iterator[str]:
    """An ordinary LOGIN role owning every table (FORCE ROW LEVEL SECURITY applies to it)."""
    role, password = f"owner_{uuid.uuid4().hex[:10]}", uuid.uuid4().hex
    ident = sql.Identifier(role)
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER PASSWORD {}").format(
                ident, sql.Literal(password)
            )
        )
        for (table,) in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall():
            conn.execute(sql.SQL("ALTER TABLE {} OWNER TO {}").format(sql.Identifier(table), ident))
    parts = urlsplit(db.admin_url)
    try:
        yield urlunsplit(
            parts._replace(netloc=f"{role}:{password}@{parts.hostname}:{parts.port or 5432}")
        )
    finally:
        with psycopg.connect(db.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("REASSIGN OWNED BY {} TO CURRENT_USER").format(ident))
            conn.execute(sql.SQL("DROP OWNED BY {}").format(ident))
            conn.execute(sql.SQL("DROP ROLE {}").format(ident))


def test_the_owners_maintenance_paths_keep_working(db: PgDatabase, owner_url: str) -> None:
    with psycopg.connect(db.admin_url) as conn:
        conn.execute(
            "INSERT INTO organizations (name, slug) VALUES ('Kept', %s)",
            (f"kept-{uuid.uuid4().hex[:8]}",),
        )
        conn.commit()
        # The superuser owner (the embedded cluster's) reads every tenant, as before.
        assert conn.execute("SELECT count(*) FROM organizations").fetchone() == (1,)
    with psycopg.connect(owner_url) as conn:
        # An ordinary owner is held to FORCE ROW LEVEL SECURITY: no tenant, no rows, no error.
        for table in _tables(db.admin_url):
            conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        assert conn.execute("SELECT count(*) FROM organizations").fetchone() == (0,)


_POLICIES = (
    "SELECT polrelid::regclass::text, pg_get_expr(polqual, polrelid),"
    " pg_get_expr(polwithcheck, polrelid) FROM pg_policy ORDER BY 1"
)


def test_the_offline_sql_rewrites_the_policies_as_the_online_revision_does(
    db: PgDatabase,
) -> None:
    def policies() -> list[tuple[str, str, str]]:
        with psycopg.connect(db.admin_url) as conn:
            return [tuple(row) for row in conn.execute(_POLICIES)]

    guarded = policies()
    # Revision 0009 guards every tenant_isolation policy that exists when it runs.
    assert sum("advisoros_require_tenant" in qual for _, qual, _ in guarded) > 40
    migrations.downgrade(db.admin_url, "0008_iso_plans_not_leakproof")
    plain = policies()
    assert not any("advisoros_require_tenant" in qual for _, qual, _ in plain)
    guarded = [p for p in guarded if any(p[0] == q[0] for q in plain)]
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        for statement in tenant_guard.offline_upgrade_sql():
            conn.execute(statement)
        assert [p for p in policies() if "advisoros_require_tenant" in p[1]] == [
            p for p in guarded if "advisoros_require_tenant" in p[1]
        ]
        for statement in tenant_guard.offline_downgrade_sql():
            conn.execute(statement)
        assert policies() == plain
    rendered = migrations.upgrade_sql(
        "0009_iso_plans_require_tenant", start="0008_iso_plans_not_leakproof"
    )
    assert "ALTER POLICY tenant_isolation" in rendered
