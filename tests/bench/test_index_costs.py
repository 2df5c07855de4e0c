"""Per-index write costs measured by a role that may not skip triggers: a plain reason, not a
driver error, where re-inserting the rows would need `session_replication_role`."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from advisoros_db.bench import index_costs
from tests.support import PgServer, create_database, database_on, drop_database


@pytest.fixture
def plain_owner(server: PgServer) -> Iterator[str]:
    """A database holding one table with a unique rule and a secondary index, owned by a role
    that is neither a superuser nor granted SET on session_replication_role; its URL."""
    name, role = f"ic_{uuid.uuid4().hex[:12]}", f"ic_owner_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    create_database(server, name)
    admin = database_on(server, name).admin_url
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(password)
                )
            )
            conn.execute(
                sql.SQL("GRANT CREATE ON SCHEMA public TO {}").format(sql.Identifier(role))
            )
        url = make_conninfo(admin, user=role, password=password)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "CREATE TABLE slugs (id uuid PRIMARY KEY DEFAULT uuidv7(), slug text UNIQUE,"
                " note text)"
            )
            conn.execute("CREATE INDEX ix_slugs_note ON slugs (note)")
            conn.execute(
                "INSERT INTO slugs (slug, note) SELECT 's' || i, 'n' || i"
                " FROM generate_series(1, 20) i"
            )
        yield url
    finally:
        drop_database(server, name)
        with psycopg.connect(server.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def test_a_role_that_may_not_reinsert_gets_a_plain_reason(plain_owner: str) -> None:
    with psycopg.connect(plain_owner, autocommit=True) as conn:
        assert conninfo_to_dict(plain_owner)["user"] != "postgres"
        members = [i for i in index_costs.inventory(conn) if i.table == "slugs"]
        assert {i.name for i in members if i.droppable} == {"ix_slugs_note"}
        inserts, costs = index_costs.write_costs(conn, members, 10, 1)
        assert costs == {}
        error = inserts["slugs"]["error"]
        assert "unique rule" in error and "session_replication_role" in error
        # Nothing was left behind: the same rows, the index, the setting.
        assert conn.execute("SELECT count(*) FROM slugs").fetchone() == (20,)
        assert conn.execute("SELECT to_regclass('ix_slugs_note') IS NOT NULL").fetchone() == (True,)
        assert conn.execute("SHOW session_replication_role").fetchone() == ("origin",)
