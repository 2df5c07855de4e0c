"""Sizes of the database, tables (partitions rolled up) and indexes; cache hit ratios; dead rows."""

from __future__ import annotations

from typing import Any

import psycopg

_TABLES = """
SELECT n.nspname, r.relname,
       sum(pg_table_size(c.oid))::bigint, sum(pg_indexes_size(c.oid))::bigint,
       sum(greatest(s.n_live_tup, 0))::bigint, sum(greatest(s.n_dead_tup, 0))::bigint
FROM pg_class c
JOIN pg_class r ON r.oid = coalesce(pg_partition_root(c.oid), c.oid)
JOIN pg_namespace n ON n.oid = r.relnamespace
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE c.relkind IN ('r', 'p', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
GROUP BY 1, 2
ORDER BY sum(pg_total_relation_size(c.oid)) DESC, 2
"""

_CACHE = """
SELECT (SELECT sum(heap_blks_hit)::float8 / nullif(sum(heap_blks_hit + heap_blks_read), 0)
          FROM pg_statio_user_tables),
       (SELECT sum(idx_blks_hit)::float8 / nullif(sum(idx_blks_hit + idx_blks_read), 0)
          FROM pg_statio_user_indexes)
"""


def sizes(conn: psycopg.Connection[Any], *, limit: int = 25) -> dict[str, Any]:
    """Every table with its heap and index bytes, the totals, and a dead-row estimate of bloat
    (n_dead_tup over all rows: what vacuum has yet to reclaim; pgstattuple measures it exactly)."""
    database = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    tables = []
    for schema, name, heap, index, live, dead in conn.execute(_TABLES).fetchall():
        rows = int(live or 0) + int(dead or 0)
        tables.append(
            {
                "schema": schema,
                "table": name,
                "table_bytes": int(heap or 0),
                "index_bytes": int(index or 0),
                "dead_rows": int(dead or 0),
                "dead_ratio": round(int(dead or 0) / rows, 4) if rows else 0.0,
            }
        )
    hit = conn.execute(_CACHE).fetchone()
    return {
        "database_bytes": int(database[0]) if database else 0,
        "table_bytes": sum(t["table_bytes"] for t in tables),
        "index_bytes": sum(t["index_bytes"] for t in tables),
        "tables": tables[:limit],
        "table_count": len(tables),
        "cache_hit_ratio": {
            "tables": hit[0] if hit else None,
            "indexes": hit[1] if hit else None,
        },
    }
