"""Replication lag and slots, transaction-ID wraparound age, and last vacuum/analyze per table."""

from __future__ import annotations

from typing import Any

import psycopg

_REPLICAS = """
SELECT application_name, coalesce(client_addr::text, ''), state,
       extract(epoch FROM replay_lag)::float8,
       pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint
FROM pg_stat_replication ORDER BY application_name
"""

# WAL a slot holds back: from its restart_lsn to the current position. An inactive slot keeps
# this growing until the disk fills.
_SLOTS = """
SELECT slot_name, slot_type, active, coalesce(wal_status, ''),
       CASE WHEN pg_is_in_recovery() OR restart_lsn IS NULL THEN NULL
            ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint END
FROM pg_replication_slots ORDER BY slot_name
"""

_WRAPAROUND = "SELECT datname, age(datfrozenxid) FROM pg_database ORDER BY 2 DESC"

_VACUUM = """
SELECT schemaname, relname, last_vacuum, last_autovacuum, last_analyze, last_autoanalyze,
       n_live_tup, n_dead_tup
FROM pg_stat_user_tables
WHERE schemaname NOT IN ('archive', 'partitioning')
ORDER BY n_dead_tup DESC, relname
"""


def replication(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    standby = bool((conn.execute("SELECT pg_is_in_recovery()").fetchone() or (False,))[0])
    replicas = []
    if not standby:
        replicas = [
            {"name": n, "address": a, "state": s, "replay_lag_s": lag, "lag_bytes": b}
            for n, a, s, lag, b in conn.execute(_REPLICAS).fetchall()
        ]
    slots = [
        {"slot": name, "type": kind, "active": bool(active), "wal_status": st, "retained_bytes": b}
        for name, kind, active, st, b in conn.execute(_SLOTS).fetchall()
    ]
    return {
        "in_recovery": standby,
        "replicas": replicas,
        "slots": slots,
        "wraparound": [
            {"database": d, "xid_age": int(age)} for d, age in conn.execute(_WRAPAROUND).fetchall()
        ],
    }


def vacuum(conn: psycopg.Connection[Any], *, limit: int = 25) -> list[dict[str, Any]]:
    return [
        {
            "schema": s,
            "table": t,
            "last_vacuum": max((v for v in (lv, lav) if v is not None), default=None),
            "last_analyze": max((v for v in (la, laa) if v is not None), default=None),
            "live_rows": int(live),
            "dead_rows": int(dead),
        }
        for s, t, lv, lav, la, laa, live, dead in conn.execute(_VACUUM).fetchall()[:limit]
    ]
