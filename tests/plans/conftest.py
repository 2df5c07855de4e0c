"""A module-wide database for plan tests: the schema at head, loaded with tests/plans/dataset.sql,
vacuumed and analyzed so the planner sees realistic statistics and visibility maps."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from advisoros_db.bench.sampling import Sample, sample
from tests.support import PgDatabase, PgServer, create_database, database_on, drop_database

DATASET = Path(__file__).with_name("dataset.sql")


@pytest.fixture(scope="package")
def plan_db(server: PgServer, migrated_template: str) -> Iterator[PgDatabase]:
    name = f"plans_{uuid.uuid4().hex[:12]}"
    create_database(server, name, template=migrated_template)
    db = database_on(server, name)
    try:
        with psycopg.connect(db.admin_url, autocommit=True) as conn:
            with conn.transaction():
                conn.execute(DATASET.read_text())
            # FREEZE: the foreign-key checks of the load left lock-only xmax on referenced rows,
            # and a plain first VACUUM would not yet mark those pages all-visible, so the
            # index-only scans the covering indexes exist for would be costed with heap fetches.
            conn.execute("VACUUM (FREEZE, ANALYZE)")
        yield db
    finally:
        drop_database(server, name)


@pytest.fixture(scope="package")
def plan_sample(plan_db: PgDatabase) -> Sample:
    with psycopg.connect(plan_db.admin_url) as conn:
        return sample(conn)
