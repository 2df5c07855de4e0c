"""Backup fixtures: an own single-node cluster (backups copy a whole server), migrated to head, with
an encrypted repository and the WAL streamer, and helpers to checksum every table."""

from __future__ import annotations

import base64
import datetime as dt
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from advisoros_db import migrations
from advisoros_db.backup import Backups
from advisoros_db.cluster import Cluster, node
from advisoros_db.cluster.node import Node
from advisoros_db.settings import Settings
from advisoros_db.targets import Target, embedded_cluster
from advisoros_db.urls import with_database
from tests.support import EXTERNAL_URL, scratch_path

pytestmark = pytest.mark.slow


@dataclass
class BackupEnv:
    cluster: Cluster
    backups: Backups
    settings: Settings
    admin_url: str
    scratch: Path

    def env(self) -> dict[str, str]:
        """Environment for the CLI on this cluster and repository."""
        key = self.settings.backup_encryption_key
        assert key is not None
        return {
            "ADVISOROS_HOME": str(self.settings.home),
            "ADVISOROS_BACKUP_DIR": str(self.settings.backup_repository),
            "ADVISOROS_BACKUP_ENCRYPTION_KEY": key.get_secret_value(),
            "ADVISOROS_EMBEDDED_REPLICAS": "0",
        }

    def folder(self, name: str) -> Path:
        path = self.scratch / name
        shutil.rmtree(path, ignore_errors=True)
        return path


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture(scope="package")
def benv() -> Iterator[BackupEnv]:
    if EXTERNAL_URL:
        pytest.skip("backup tests run on their own embedded cluster")
    scratch = scratch_path("advisoros-backup-")
    settings = Settings(
        home=scratch / "home",
        backup_dir=scratch / "repo",
        backup_encryption_key=new_key(),
        embedded_replicas=0,
    )
    cluster = embedded_cluster(settings)
    info = cluster.up(0)
    migrations.upgrade(info.primary_url)
    target = Target(admin_url=info.primary_url, app_url=info.app_url, cluster=cluster)
    backups = Backups.from_settings(settings, target)
    try:
        yield BackupEnv(cluster, backups, settings, info.primary_url, scratch)
    finally:
        backups.stop_streaming()
        cluster.destroy()
        shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture
def one_replica() -> Iterator[Settings]:
    """Settings of an own cluster with one replica, up (a failover cannot be undone)."""
    if EXTERNAL_URL:
        pytest.skip("failover runs on an own embedded cluster")
    scratch = scratch_path("advisoros-timeline-")
    settings = Settings(
        home=scratch / "home",
        backup_dir=scratch / "repo",
        backup_encryption_key=new_key(),
        embedded_replicas=1,
    )
    cluster = embedded_cluster(settings)
    try:
        cluster.up(1)
        yield settings
    finally:
        backups_on_primary(settings).stop_streaming()
        cluster.destroy()
        shutil.rmtree(scratch, ignore_errors=True)


def backups_on_primary(settings: Settings) -> Backups:
    """The deployment's backups, sourced from whichever node is the primary now."""
    cluster: Cluster = embedded_cluster(settings)
    info = cluster.info()
    servers = Target(admin_url=info.primary_url, app_url=info.app_url, cluster=cluster)
    return Backups.from_settings(settings, servers)


def timeline(url: str) -> int:
    """The timeline a primary writes on (from its current WAL file's name)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT pg_walfile_name(pg_current_wal_lsn())").fetchone()
    assert row is not None
    return int(row[0][:8], 16)


def table_checksums(url: str) -> dict[str, str]:
    """md5 over every row of every table in the database, computed by the server in row order."""
    with psycopg.connect(url, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
            " AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1, 2"
        ).fetchall()
        sums = {}
        for schema, table in tables:
            row = conn.execute(
                sql.SQL(
                    "SELECT count(*) || ':' || md5(coalesce(string_agg(t::text, E'\\n'"
                    " ORDER BY t::text), '')) FROM ONLY {}.{} t"
                ).format(sql.Identifier(schema), sql.Identifier(table))
            ).fetchone()
            assert row is not None
            sums[f"{schema}.{table}"] = row[0]
    return sums


def server_time(url: str) -> dt.datetime:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT clock_timestamp()").fetchone()
    assert row is not None
    stamp: dt.datetime = row[0]
    return stamp


def current_lsn(url: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    assert row is not None
    return str(row[0])


def execute(url: str, *statements: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


@pytest.fixture
def stop_after() -> Iterator[list[tuple[Node, Cluster]]]:
    """Restored servers a test started; stopped (killed) at the end whatever happens."""
    started: list[tuple[Node, Cluster]] = []
    yield started
    for item, _ in started:
        node.kill(item)


def db_url(url: str) -> str:
    return with_database(url, "advisoros")
