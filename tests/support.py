"""Helpers shared by tests: the session's servers and throwaway databases on them."""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from advisoros_db.cluster import Cluster
from advisoros_db.urls import masked_repr, with_database

TEMPLATE = "advisoros_template"
EXTERNAL_URL = os.environ.get("ADVISOROS_TEST_DATABASE_URL")


@dataclass
class PgServer:
    """The session's servers. `admin_url` and `app_url` point at the `postgres` database."""

    admin_url: str
    app_url: str
    replica_urls: list[str] = field(default_factory=list)
    cluster: Cluster | None = None

    __repr__ = masked_repr


@dataclass
class PgDatabase:
    """One throwaway database, migrated to head, on the session's servers."""

    name: str
    admin_url: str
    app_url: str
    replica_urls: list[str]
    server: PgServer

    __repr__ = masked_repr


def scratch_path(prefix: str) -> Path:
    # /tmp and world-traversable: a root test run starts the server as an unprivileged user.
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


def create_database(server: PgServer, name: str, template: str | None = None) -> None:
    with psycopg.connect(server.admin_url, autocommit=True) as conn:
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            query = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        conn.execute(query)


def drop_database(server: PgServer, name: str) -> None:
    with psycopg.connect(server.admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def database_on(server: PgServer, name: str) -> PgDatabase:
    return PgDatabase(
        name=name,
        admin_url=with_database(server.admin_url, name),
        app_url=with_database(server.app_url, name),
        replica_urls=[with_database(u, name) for u in server.replica_urls],
        server=server,
    )


def wait_until_replay_paused(replica_url: str, timeout_s: float = 10.0) -> None:
    """`pg_wal_replay_pause()` only requests a pause: wait until replay has really stopped, so a
    write made next is certain to stay unreplayed."""
    with psycopg.connect(replica_url, autocommit=True) as replica:
        deadline = time.monotonic() + timeout_s
        while replica.execute("SELECT pg_get_wal_replay_pause_state()").fetchone() != ("paused",):
            if time.monotonic() > deadline:
                raise TimeoutError(f"replay did not pause within {timeout_s} s")
            time.sleep(0.05)
