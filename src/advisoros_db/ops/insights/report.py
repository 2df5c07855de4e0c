"""One insights report: every section, from one connection to the primary."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg

from advisoros_db.ops.insights import activity, indexes, partitions, replication, sizes, statements
from advisoros_db.ops.worker import runs
from advisoros_db.settings import Settings


def collect(url: str, settings: Settings, *, today: dt.date | None = None) -> dict[str, Any]:
    today = today or dt.datetime.now(dt.UTC).date()
    with psycopg.connect(url, autocommit=True, application_name="advisoros-insights") as conn:
        usage = indexes.usage(conn)
        jobs_table = conn.execute("SELECT to_regclass('job_executions') IS NOT NULL").fetchone()
        return {
            "database": (conn.execute("SELECT current_database()").fetchone() or ("",))[0],
            "collected_at": dt.datetime.now(dt.UTC),
            "indexes": {
                "since": usage["since"],
                "usage": usage["indexes"],
                "unused": indexes.unused(usage["indexes"]),
                "redundant": indexes.redundant(indexes.definitions(conn)),
                "invalid": indexes.invalid(conn),
            },
            "sizes": sizes.sizes(conn),
            "activity": activity.activity(conn, long_s=settings.insights_long_query_s),
            "statements": statements.top_queries(conn),
            "replication": replication.replication(conn),
            "vacuum": replication.vacuum(conn),
            "partitions": partitions.partitions(conn, today),
            "jobs": runs.recent(conn) if jobs_table and jobs_table[0] else [],
        }
