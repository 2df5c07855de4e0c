"""A package-wide database for plan tests: the schema at head holding tests/plans/dataset.sql,
frozen and analyzed so the planner sees realistic statistics and visibility maps (a clone of the
session's `dataset_template`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from advisoros_db.bench.sampling import Sample, sample
from tests.support import PgDatabase, PgServer, create_database, database_on, drop_database


@pytest.fixture(scope="package")
def plan_db(server: PgServer, dataset_template: str) -> Iterator[PgDatabase]:
    name = f"plans_{uuid.uuid4().hex[:12]}"
    create_database(server, name, template=dataset_template)
    try:
        yield database_on(server, name)
    finally:
        drop_database(server, name)


@pytest.fixture(scope="package")
def plan_sample(plan_db: PgDatabase) -> Sample:
    with psycopg.connect(plan_db.admin_url) as conn:
        return sample(conn)
