"""The ingest limit: the same rows loaded again from files, reported beside the loader's rate."""

from __future__ import annotations

import uuid

import psycopg

from advisoros_db import datagen
from advisoros_db.datagen.limit import checkpoint, checkpoints
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
        before = requested_checkpoints(db.admin_url)
        report = datagen.seed(db.admin_url, "tiny", seed=7, anchor=ANCHOR, measure_limit=True)
        limit = report.limit
        assert limit is not None
        # Each timed phase started from a checkpoint of its own (the limit, run second, had
        # paid for the loader's).
        assert report.checkpoint_seconds is not None and limit.checkpoint_seconds is not None
        assert requested_checkpoints(db.admin_url) >= before + 2
        assert "after a CHECKPOINT" in checkpoints(
            report.checkpoint_seconds, limit.checkpoint_seconds
        )
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


def requested_checkpoints(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT num_requested FROM pg_stat_checkpointer").fetchone()
    assert row is not None
    return int(row[0])


def test_a_role_that_may_not_checkpoint_gets_no_separated_phases_and_is_told(
    db: PgDatabase,
) -> None:
    with psycopg.connect(db.app_url, autocommit=True) as conn:
        assert checkpoint(conn) is None
        assert conn.execute("SELECT 1").fetchone() == (1,)  # the connection is still usable
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        took = checkpoint(conn)
    assert took is not None and took >= 0
    said = checkpoints(took, None)
    assert "No CHECKPOINT before" in said and "pg_checkpoint" in said
