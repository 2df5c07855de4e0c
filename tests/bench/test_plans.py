"""Plan summaries name the declared index even when the planner scanned its partitions' indexes."""

from __future__ import annotations

import psycopg

from advisoros_db.bench.plans import summary
from tests.support import PgDatabase


def test_partition_indexes_are_reported_as_their_parent(empty_db: PgDatabase) -> None:
    with psycopg.connect(empty_db.admin_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE events (id int, at date) PARTITION BY RANGE (at);"
            " CREATE TABLE events_1 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2025-02-01');"
            " CREATE TABLE events_2 PARTITION OF events FOR VALUES FROM ('2025-02-01') TO ('2025-03-01');"
            " CREATE INDEX idx_events_id ON events (id);"
            " CREATE TABLE plain (id int); CREATE INDEX idx_plain_id ON plain (id);"
            " SET enable_seqscan = off"
        )
        parted = summary(conn, "SELECT * FROM events WHERE id = %(id)s", {"id": 1})
        plain = summary(conn, "SELECT * FROM plain WHERE id = %(id)s", {"id": 1})
    assert parted["indexes"] == ["idx_events_id"]
    assert parted["partition_indexes"] == 2
    assert plain["indexes"] == ["idx_plain_id"]
