"""Connections, long-running queries and transactions, blocked queries and who blocks them."""

from __future__ import annotations

from typing import Any

import psycopg

_CONNECTIONS = """
SELECT coalesce(usename, ''), coalesce(state, ''), count(*)
FROM pg_stat_activity WHERE backend_type = 'client backend'
GROUP BY 1, 2 ORDER BY 3 DESC
"""

# Everyone but this session; durations in seconds so thresholds compare without intervals.
_SESSIONS = """
SELECT pid, coalesce(usename, ''), datname, coalesce(state, ''), wait_event_type, query_id,
       left(query, 300),
       extract(epoch FROM now() - query_start)::float8,
       extract(epoch FROM now() - xact_start)::float8,
       extract(epoch FROM now() - state_change)::float8,
       pg_blocking_pids(pid)
FROM pg_stat_activity
WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
ORDER BY xact_start NULLS LAST
"""


def activity(conn: psycopg.Connection[Any], *, long_s: float) -> dict[str, Any]:
    row = conn.execute("SELECT current_setting('max_connections')::int").fetchone()
    connections = [
        {"role": role, "state": state, "count": int(n)}
        for role, state, n in conn.execute(_CONNECTIONS).fetchall()
    ]
    sessions = [
        {
            "pid": pid,
            "role": role,
            "database": db,
            "state": state,
            "wait_event_type": wait,
            "query_id": query_id,
            "query": query,
            "query_s": query_s,
            "transaction_s": xact_s,
            "state_s": state_s,
            "blocked_by": list(blockers or []),
        }
        for (pid, role, db, state, wait, query_id, query, query_s, xact_s, state_s, blockers) in (
            conn.execute(_SESSIONS).fetchall()
        )
    ]
    return {
        "max_connections": int(row[0]) if row else 0,
        "total": sum(c["count"] for c in connections),
        "connections": connections,
        "long_running": [
            s
            for s in sessions
            if (s["state"] == "active" and (s["query_s"] or 0) > long_s)
            or (s["transaction_s"] or 0) > long_s
        ],
        "blocked": [s for s in sessions if s["blocked_by"]],
        "idle_in_transaction": [
            s for s in sessions if s["state"].startswith("idle in transaction")
        ],
    }
