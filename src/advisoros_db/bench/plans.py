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


def _buffers(node: Mapping[str, Any]) -> dict[str, int]:
    return {
        "hit": int(node.get("Shared Hit Blocks", 0)),
        "read": int(node.get("Shared Read Blocks", 0)),
    }


def _step(node: Mapping[str, Any]) -> dict[str, Any]:
    """One plan node's own share: its time across loops minus its children's (inclusive) time."""
    loops = int(node.get("Actual Loops", 1)) or 1
    total = float(node.get("Actual Total Time", 0.0)) * loops
    children = sum(
        float(c.get("Actual Total Time", 0.0)) * (int(c.get("Actual Loops", 1)) or 1)
        for c in node.get("Plans", [])
    )
    on = node.get("Index Name") or node.get("Relation Name")
    return {
        "node": node["Node Type"] + (f" on {on}" if on else ""),
        "rows": int(node.get("Actual Rows", 0)) * loops,
        "loops": loops,
        "total_ms": round(total, 3),
        "self_ms": round(max(total - children, 0.0), 3),
        "buffers": _buffers(node),
    }


def analyze(conn: psycopg.Connection[Any], query: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Where one execution's time goes: EXPLAIN (ANALYZE, BUFFERS) split into planning, each
    node's own time and pages, and the execution total. The query runs once more to do this."""
    if not query.lstrip().upper().startswith(("SELECT", "WITH")):
        return {}
    row = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + query, params).fetchone()
    if row is None:
        return {}
    doc = (row[0] if not isinstance(row[0], str) else json.loads(row[0]))[0]
    top = doc["Plan"]
    steps = sorted((_step(n) for n in _nodes(top)), key=lambda s: -s["self_ms"])
    return {
        "planning_ms": round(float(doc.get("Planning Time", 0.0)), 3),
        "execution_ms": round(float(doc.get("Execution Time", 0.0)), 3),
        "rows": int(top.get("Actual Rows", 0)),
        "buffers": _buffers(top),
        "planning_buffers": _buffers(doc.get("Planning", {})),
        "steps": steps,
    }
