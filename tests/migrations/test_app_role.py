"""On a server without the application role (an external one), 0001 creates it NOLOGIN, with no
privilege beyond its grants."""

from __future__ import annotations

import uuid

import psycopg

from advisoros_db import migrations
from advisoros_db.cluster import Cluster
from tests.support import PgServer, create_database, database_on, drop_database


def test_the_first_revision_creates_a_missing_app_role_nologin(
    server: PgServer, cluster: Cluster
) -> None:
    # Only on the private embedded cluster: the role is renamed away for the test's duration.
    name = f"r_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(server.admin_url, autocommit=True) as admin:
        admin.execute("ALTER ROLE advisoros_app RENAME TO advisoros_app_saved")
        try:
            create_database(server, name)
            try:
                migrations.upgrade(database_on(server, name).admin_url, "0001_initial_schema")
                role = admin.execute(
                    "SELECT rolcanlogin, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb "
                    "FROM pg_roles WHERE rolname = 'advisoros_app'"
                ).fetchone()
                assert role == (False, False, False, False, False)
                with psycopg.connect(database_on(server, name).admin_url) as conn:
                    grants = conn.execute(
                        "SELECT privilege_type FROM information_schema.role_table_grants "
                        "WHERE grantee = 'advisoros_app' AND table_name = 'audit_logs' "
                        "ORDER BY 1"
                    ).fetchall()
                assert [g[0] for g in grants] == ["INSERT", "SELECT"]
            finally:
                drop_database(server, name)
                admin.execute("DROP ROLE IF EXISTS advisoros_app")
        finally:
            admin.execute("ALTER ROLE advisoros_app_saved RENAME TO advisoros_app")
