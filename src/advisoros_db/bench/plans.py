"""What a plan shows: the indexes a query used, the relations it read, partitions pruned."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import psycopg


def _nodes(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


ROOTS_SQL = (
    "SELECT COALESCE(pg_partition_root(to_regclass(i))::text, i) FROM unnest(%s::text[]) AS i"
)


def roots(conn: psycopg.Connection[Any], indexes: list[str]) -> list[str]:
    """Index names as declared: a partition's index is reported as the partitioned index it
    belongs to, so `idx_documents_needs_review` is found whichever partitions were scanned."""
    if not indexes:
        return []
    return sorted({r[0] for r in conn.execute(ROOTS_SQL, (indexes,)).fetchall()})


def summary(conn: psycopg.Connection[Any], query: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Plan facts for the report (EXPLAIN without ANALYZE: it costs one planning)."""
    if not query.lstrip().upper().startswith(("SELECT", "WITH")):
        return {}
    row = conn.execute("EXPLAIN (FORMAT JSON) " + query, params).fetchone()
    if row is None:
        return {}
    doc = row[0] if not isinstance(row[0], str) else json.loads(row[0])
    nodes = list(_nodes(doc[0]["Plan"]))
    used = sorted({n["Index Name"] for n in nodes if "Index Name" in n})
    return {
        "indexes": roots(conn, used),
        "partition_indexes": len(used),
        "relations": sorted({n["Relation Name"] for n in nodes if "Relation Name" in n}),
        "scans": sorted({n["Node Type"] for n in nodes if "Scan" in n["Node Type"]}),
        "partitions_scanned": sum(
            1 for n in nodes if "Relation Name" in n and "Scan" in n["Node Type"]
        ),
        "subplans_removed": sum(int(n.get("Subplans Removed", 0)) for n in nodes),
        "total_cost": doc[0]["Plan"].get("Total Cost"),
    }
