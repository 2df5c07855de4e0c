"""A `tiny` data set seeded once per session, with the naive baseline built, for the benchmark
modules that measure a data set already loaded: each clones it (a file copy) instead of seeding
and building its own (docs/testing.md). The end-to-end run in test_bench.py still seeds its own:
that it loads the data itself is part of what it checks."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from advisoros_db import datagen
from advisoros_db.bench import naive
from advisoros_db.bench.runner import baseline_marker
from tests.support import (
    DROPPER,
    PgDatabase,
    PgServer,
    create_database,
    database_on,
    drop_database,
)


@pytest.fixture(scope="session")
def tiny_template(server: PgServer, migrated_template: str) -> Iterator[str]:
    """The migrated template seeded at `tiny` with the benchmark's default seed (42), and the
    naive copy the benchmark compares against, as `bench` itself would leave them."""
    name = f"tiny_{uuid.uuid4().hex[:12]}"
    create_database(server, name, template=migrated_template)
    try:
        url = database_on(server, name).admin_url
        datagen.seed(url, "tiny")
        with psycopg.connect(url, autocommit=True) as conn:
            naive.ensure(conn, baseline_marker(datagen.last_run(url), "tiny", 42))
        yield name
    finally:
        drop_database(server, name)


def tiny_clone(server: PgServer, template: str, prefix: str) -> Iterator[PgDatabase]:
    """A database of its own holding the template's data set, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:16]}"
    create_database(server, name, template=template)
    try:
        yield database_on(server, name)
    finally:
        DROPPER.drop(server, name)
