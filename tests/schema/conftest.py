"""A fresh migrated database per test with two seeded tenants (these tests change data)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, pool

from advisoros_db.urls import to_sqlalchemy
from tests.schema.rows import Seed, seed
from tests.support import PgDatabase


@dataclass
class SeededDb:
    db: PgDatabase
    seed: Seed


@pytest.fixture
def seeded_db(db: PgDatabase) -> Iterator[SeededDb]:
    engine = create_engine(to_sqlalchemy(db.admin_url), poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            rows = seed(conn)
    finally:
        engine.dispose()
    yield SeededDb(db=db, seed=rows)
