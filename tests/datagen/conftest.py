"""A database seeded once at `tiny` scale for the read-only checks of this package."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest

from advisoros_db import datagen
from tests.support import DROPPER, PgDatabase, PgServer, create_database, database_on

ANCHOR = dt.datetime(2026, 6, 15, tzinfo=dt.UTC)


def seeded_database(
    server: PgServer, template: str, seed: int, scale: str = "tiny", workers: int | None = None
) -> Iterator[PgDatabase]:
    name = f"s_{uuid.uuid4().hex[:16]}"
    create_database(server, name, template=template)
    try:
        database = database_on(server, name)
        datagen.seed(database.admin_url, scale, seed=seed, anchor=ANCHOR, workers=workers)
        yield database
    finally:
        DROPPER.drop(server, name)


@pytest.fixture(scope="package")
def seeded(server: PgServer, migrated_template: str) -> Iterator[PgDatabase]:
    """Seed 7 made by one generator process: test_worker_determinism compares it with several
    (the other seeds of this package use the default, one per core)."""
    yield from seeded_database(server, migrated_template, seed=7, workers=1)
