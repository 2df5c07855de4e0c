"""Top queries by total and mean time from pg_stat_statements, or how to enable it."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql

ENABLE_HINT = (
    "pg_stat_statements is not loaded on this server: add it to shared_preload_libraries "
    "(ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'), restart the server, then "
    "run CREATE EXTENSION pg_stat_statements in this database as a superuser"
)

_TOP = """
SELECT queryid, calls, total_exec_time, mean_exec_time, rows, query
FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY {} DESC LIMIT %s
"""


def ensure_extension(conn: psycopg.Connection[Any]) -> str | None:
    """Create the extension where possible; None when its view reads, else what to do. A server
    that does not preload the library refuses to read the view: the creation is rolled back."""
    try:
        with conn.transaction():
            created = conn.execute(
                "SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'"
            ).fetchone()
            if not created:
                conn.execute("CREATE EXTENSION pg_stat_statements")
            conn.execute("SELECT 1 FROM pg_stat_statements LIMIT 1")
    except pg_errors.ObjectNotInPrerequisiteState:
        return ENABLE_HINT
    except psycopg.Error as exc:
        return (
            "pg_stat_statements is not created in this database and this role cannot create it "
            f"({exc.diag.message_primary}): run CREATE EXTENSION pg_stat_statements as a "
            "superuser (it must also be in shared_preload_libraries)"
        )
    return None


def top_queries(conn: psycopg.Connection[Any], *, limit: int = 10) -> dict[str, Any]:
    hint = ensure_extension(conn)
    if hint is not None:
        return {"available": False, "hint": hint, "by_total": [], "by_mean": []}

    def top(order: str) -> list[dict[str, Any]]:
        query = sql.SQL(_TOP).format(sql.Identifier(order))
        return [
            {
                "queryid": qid,
                "calls": int(calls),
                "total_ms": round(float(total), 3),
                "mean_ms": round(float(mean), 3),
                "rows": int(rows),
                "query": text,
            }
            for qid, calls, total, mean, rows, text in conn.execute(query, (limit,)).fetchall()
        ]

    return {
        "available": True,
        "hint": None,
        "by_total": top("total_exec_time"),
        "by_mean": top("mean_exec_time"),
    }
