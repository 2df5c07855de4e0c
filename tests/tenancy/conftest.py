"""A database seeded with two tenants (one row in every table each), shared by a module's tests.

Tests only read it, or write inside transactions they roll back.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, pool

from advisoros_db.urls import to_sqlalchemy
from tests.schema.rows import Seed, seed
from tests.support import PgDatabase, PgServer, create_database, database_on, drop_database


@dataclass
class Seeded:
    db: PgDatabase
    seed: Seed


@pytest.fixture(scope="module")
def seeded(server: PgServer, migrated_template: str) -> Iterator[Seeded]:
    name = f"s_{uuid.uuid4().hex[:16]}"
    create_database(server, name, template=migrated_template)
    db = database_on(server, name)
    engine = create_engine(to_sqlalchemy(db.admin_url), poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            rows = seed(conn)
        yield Seeded(db=db, seed=rows)
    finally:
        engine.dispose()
        drop_database(server, name)
