"""Index usage (partition indexes rolled up to their parent), unused, duplicate, overlapping and
invalid indexes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

# pg_partition_root() gives a partition's index its parent index's name, so the report shows one
# row per declared index whatever the number of partitions. Detached archive tables are skipped.
_USAGE = """
SELECT n.nspname, t.relname, i.relname,
       sum(s.idx_scan)::bigint, sum(pg_relation_size(s.indexrelid))::bigint,
       bool_or(px.indisunique OR px.indisprimary), max(s.last_idx_scan)
FROM pg_stat_user_indexes s
JOIN pg_class i ON i.oid = coalesce(pg_partition_root(s.indexrelid), s.indexrelid)
JOIN pg_index px ON px.indexrelid = i.oid
JOIN pg_class t ON t.oid = px.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname NOT IN ('archive', 'partitioning')
GROUP BY 1, 2, 3
ORDER BY 5 DESC, 3
"""

_DEFINITIONS = """
SELECT n.nspname, t.relname, i.relname, a.amname,
       string_to_array(x.indkey::text, ' '), string_to_array(x.indclass::text, ' '),
       coalesce(pg_get_expr(x.indexprs, x.indrelid), ''),
       coalesce(pg_get_expr(x.indpred, x.indrelid), ''),
       x.indisunique OR x.indisprimary
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_am a ON a.oid = i.relam
WHERE NOT i.relispartition AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'archive')
  AND n.nspname NOT LIKE 'pg_toast%'
"""

_INVALID = """
SELECT n.nspname, t.relname, i.relname
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE NOT x.indisvalid
ORDER BY 1, 2, 3
"""

_STATS_SINCE = """
SELECT coalesce(stats_reset, pg_postmaster_start_time())
FROM pg_stat_database WHERE datname = current_database()
"""


@dataclass(frozen=True)
class IndexDef:
    schema: str
    table: str
    name: str
    method: str
    columns: tuple[str, ...]
    opclasses: tuple[str, ...]
    expressions: str
    predicate: str
    unique: bool


def usage(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """Scans and size of every index since statistics were last reset."""
    since = conn.execute(_STATS_SINCE).fetchone()
    rows = [
        {
            "schema": schema,
            "table": table,
            "index": index,
            "scans": int(scans or 0),
            "bytes": int(size or 0),
            "unique": bool(unique),
            "last_scan": last,
        }
        for schema, table, index, scans, size, unique, last in conn.execute(_USAGE).fetchall()
    ]
    return {"since": since[0] if since else None, "indexes": rows}


def unused(indexes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Indexes never scanned in the window. Unique and primary-key indexes enforce a constraint,
    so an unscanned one is still needed and is not listed."""
    return [ix for ix in indexes if ix["scans"] == 0 and not ix["unique"]]


def definitions(conn: psycopg.Connection[Any]) -> list[IndexDef]:
    return [
        IndexDef(s, t, n, m, tuple(cols), tuple(ops), expr, pred, bool(u))
        for s, t, n, m, cols, ops, expr, pred, u in conn.execute(_DEFINITIONS).fetchall()
    ]


def redundant(defs: list[IndexDef]) -> list[dict[str, Any]]:
    """Pairs where one index makes another unnecessary: the same definition (`duplicate`) or a
    non-unique index whose columns are a leading prefix of another's (`overlapping`)."""
    found: list[dict[str, Any]] = []
    for a in defs:
        for b in defs:
            if a.name == b.name or (a.schema, a.table) != (b.schema, b.table):
                continue
            if (a.method, a.expressions, a.predicate) != (b.method, b.expressions, b.predicate):
                continue
            same = (a.columns, a.opclasses) == (b.columns, b.opclasses)
            if same and a.unique == b.unique and a.name < b.name:
                found.append(_pair("duplicate", b, a))
            elif (
                not same
                and not a.unique
                and a.method == "btree"
                and len(a.columns) < len(b.columns)
                and b.columns[: len(a.columns)] == a.columns
                and b.opclasses[: len(a.opclasses)] == a.opclasses
            ):
                found.append(_pair("overlapping", a, b))
            elif same and a.unique != b.unique and not a.unique:
                found.append(_pair("duplicate", a, b))
    return sorted(found, key=lambda f: (f["table"], f["index"]))


def _pair(kind: str, extra: IndexDef, covering: IndexDef) -> dict[str, Any]:
    return {
        "kind": kind,
        "schema": extra.schema,
        "table": extra.table,
        "index": extra.name,
        "covered_by": covering.name,
    }


def invalid(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    return [{"schema": s, "table": t, "index": i} for s, t, i in conn.execute(_INVALID).fetchall()]
