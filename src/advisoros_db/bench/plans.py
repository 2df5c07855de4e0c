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


def summary(conn: psycopg.Connection[Any], query: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Plan facts for the report (EXPLAIN without ANALYZE: it costs one planning)."""
    if not query.lstrip().upper().startswith(("SELECT", "WITH")):
        return {}
    row = conn.execute("EXPLAIN (FORMAT JSON) " + query, params).fetchone()
    if row is None:
        return {}
    doc = row[0] if not isinstance(row[0], str) else json.loads(row[0])
    nodes = list(_nodes(doc[0]["Plan"]))
    return {
        "indexes": sorted({n["Index Name"] for n in nodes if "Index Name" in n}),
        "relations": sorted({n["Relation Name"] for n in nodes if "Relation Name" in n}),
        "scans": sorted({n["Node Type"] for n in nodes if "Scan" in n["Node Type"]}),
        "partitions_scanned": sum(
            1 for n in nodes if "Relation Name" in n and "Scan" in n["Node Type"]
        ),
        "subplans_removed": sum(int(n.get("Subplans Removed", 0)) for n in nodes),
        "total_cost": doc[0]["Plan"].get("Total Cost"),
    }
