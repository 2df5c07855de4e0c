"""Fixtures: a session cluster (primary + 2 streaming replicas) from the embedded binaries, or the
external primary in ADVISOROS_TEST_DATABASE_URL; a fresh database per test cloned from a migrated
template."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql

from advisoros_db import migrations
from advisoros_db.cluster import Cluster, tuning
from advisoros_db.tenancy import APP_ROLE
from advisoros_db.urls import with_database
from tests.secret_scrub import pytest_runtest_makereport  # noqa: F401  (scrubs reports)
from tests.secret_scrub import register as register_secret
from tests.support import (
    DATASET,
    DROPPER,
    EXTERNAL_URL,
    TEMPLATE,
    THROWAWAY_SETTINGS,
    PgDatabase,
    PgServer,
    create_database,
    database_on,
    drop_database,
    scratch_path,
)


def pytest_configure(config: pytest.Config) -> None:
    # Before any cluster is started, in this process or a test's own (tests/support.py says why).
    tuning.LAPTOP_SETTINGS.update(THROWAWAY_SETTINGS)


@pytest.fixture(scope="session")
def scratch_dir() -> Path:
    return scratch_path("advisoros-scratch-")


@pytest.fixture(scope="session")
def server() -> Iterator[PgServer]:
    if EXTERNAL_URL:
        admin = with_database(EXTERNAL_URL, "postgres")
        app_password = uuid.uuid4().hex
        register_secret(urlsplit(admin).password, app_password)
        with psycopg.connect(admin, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_roles WHERE rolname = 'advisoros_app'"
            ).fetchone()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(
                sql.SQL(verb + " ROLE advisoros_app LOGIN PASSWORD {}").format(
                    sql.Literal(app_password)
                )
            )
        parts = urlsplit(admin)
        app = admin.replace(
            parts.netloc, f"advisoros_app:{app_password}@{parts.hostname}:{parts.port or 5432}", 1
        )
        try:
            yield PgServer(admin_url=admin, app_url=app)
        finally:
            DROPPER.drain()
        return
    home = scratch_path("advisoros-test-") / "home"
    cluster = Cluster(home, app_role=APP_ROLE)
    info = cluster.up(2)
    creds = cluster.credentials()
    register_secret(creds.superuser_password, creds.app_password)
    try:
        yield PgServer(
            admin_url=with_database(info.primary_url, "postgres"),
            app_url=with_database(info.app_url, "postgres"),
            replica_urls=[with_database(u, "postgres") for u in info.replica_urls],
            cluster=cluster,
        )
    finally:
        try:
            DROPPER.drain()
        finally:
            cluster.destroy()


@pytest.fixture(scope="session")
def cluster(server: PgServer) -> Cluster:
    """The embedded cluster itself, for tests that need replicas or fault hooks."""
    if server.cluster is None:
        pytest.skip(
            "needs the embedded cluster's streaming replicas (ADVISOROS_TEST_DATABASE_URL set)"
        )
    return server.cluster


@pytest.fixture(scope="session")
def migrated_template(server: PgServer) -> Iterator[str]:
    name = f"{TEMPLATE}_{uuid.uuid4().hex[:8]}"
    create_database(server, name)
    migrations.upgrade(with_database(server.admin_url, name))
    try:
        yield name
    finally:
        drop_database(server, name)


@pytest.fixture(scope="session")
def dataset_template(server: PgServer, migrated_template: str) -> Iterator[str]:
    """A copy of the migrated template holding tests/plans/dataset.sql (four large firms, 2,000
    small ones), frozen and analyzed. The plan, oracle and search-revision tests clone it rather
    than load the data set each (docs/testing.md)."""
    name = f"dataset_{uuid.uuid4().hex[:8]}"
    create_database(server, name, template=migrated_template)
    try:
        with psycopg.connect(with_database(server.admin_url, name), autocommit=True) as conn:
            with conn.transaction():
                conn.execute(DATASET.read_text())
            # FREEZE: the foreign-key checks of the load left lock-only xmax on referenced rows,
            # and a plain first VACUUM would not yet mark those pages all-visible, so the
            # index-only scans the covering indexes exist for would be costed with heap fetches.
            # A clone copies the visibility maps and the statistics with the files.
            conn.execute("VACUUM (FREEZE, ANALYZE)")
        yield name
    finally:
        drop_database(server, name)


@pytest.fixture
def db(server: PgServer, migrated_template: str) -> Iterator[PgDatabase]:
    """A fresh database at head, cloned from the migrated template."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    create_database(server, name, template=migrated_template)
    try:
        yield database_on(server, name)
    finally:
        DROPPER.drop(server, name)


@pytest.fixture
def empty_db(server: PgServer) -> Iterator[PgDatabase]:
    """A fresh database with no migrations applied."""
    name = f"e_{uuid.uuid4().hex[:16]}"
    create_database(server, name)
    try:
        yield database_on(server, name)
    finally:
        DROPPER.drop(server, name)
