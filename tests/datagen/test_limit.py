"""The ingest limit: the same rows loaded again from files, reported beside the loader's rate."""

from __future__ import annotations

import uuid

import psycopg

from advisoros_db import datagen
from tests.datagen.conftest import ANCHOR
from tests.datagen.test_determinism import fingerprints
from tests.support import PgDatabase, PgServer, create_database, database_on, drop_database


def test_measuring_the_limit_reloads_exactly_the_seeded_rows(
    server: PgServer, migrated_template: str, seeded: PgDatabase
) -> None:
    name = f"l_{uuid.uuid4().hex[:16]}"
    create_database(server, name, template=migrated_template)
    try:
        db = database_on(server, name)
        report = datagen.seed(db.admin_url, "tiny", seed=7, anchor=ANCHOR, measure_limit=True)
        limit = report.limit
        assert limit is not None
        assert {t.table: t.rows for t in limit.tables} == {t.table: t.rows for t in report.tables}
        assert limit.seconds > 0 and limit.megabytes > 0
        assert all(t.index_seconds > 0 for t in limit.tables if t.rows)
        shown = report.as_dict()
        assert shown["percent_of_limit"] == round(
            100 * report.rows_per_second / limit.rows_per_second, 1
        )
        # Exported, emptied and loaded again: the rows are those of a plain seed of the same seed.
        assert fingerprints(db.admin_url) == fingerprints(seeded.admin_url)
        with psycopg.connect(db.admin_url) as conn:
            invalid = conn.execute(
                "SELECT count(*) FROM pg_constraint WHERE NOT convalidated"
                " AND connamespace = 'public'::regnamespace"
            ).fetchone()
            keys = conn.execute(
                "SELECT count(*) FROM (SELECT id, organization_id FROM documents"
                " EXCEPT SELECT * FROM documents_keys) d"
            ).fetchone()
        assert invalid == (0,) and keys == (0,)
    finally:
        drop_database(server, name)
