"""The health report: a snapshot rendered as plain data, URLs masked."""

from __future__ import annotations

import math
from typing import Any

from advisoros_db.routing.decisions import newest_timeline, usable_for_reads, write_refusal
from advisoros_db.routing.fencing import Verdict, judge
from advisoros_db.routing.kinds import Role
from advisoros_db.routing.lsn import format_lsn
from advisoros_db.routing.state import NodeState, Snapshot
from advisoros_db.urls import mask, port_of


def _round(value: float | None, digits: int = 3) -> float | None:
    """Rounded; None for no value and for an unknown (infinite) staleness, which JSON cannot hold."""
    return None if value is None or not math.isfinite(value) else round(value, digits)


def node_report(
    node: NodeState, max_lag_s: float, verdict: Verdict | None = None, newest: int | None = None
) -> dict[str, Any]:
    """One node: `name`, `role`, `port`, `healthy`, `usable_for_reads`, `lag_seconds`, `latency_ms`,
    `timeline`, `fenced` (why writes and reads are refused there, or None)."""
    fenced = None if verdict is None else verdict.fenced.get(node.name)
    actual = None if node.in_recovery is None else ("replica" if node.in_recovery else "primary")
    return {
        "name": node.name,
        "routing_role": node.role.value,
        "in_recovery": node.in_recovery,
        "server_role": actual,
        "url": mask(node.config.url),
        "port": node.port if node.port is not None else port_of(node.config.url),
        "healthy": node.healthy,
        "reachable": node.reachable,
        "ejected": node.ejected,
        "eject_reason": node.eject_reason,
        "usable_for_reads": usable_for_reads(node, max_lag_s, newest),
        "lag_seconds": _round(node.lag_s),
        "replay_lsn": None if node.replay_lsn is None else format_lsn(node.replay_lsn),
        "replay_paused": node.replay_paused,
        "latency_ms": _round(node.latency_avg_ms),
        "latency_p95_ms": _round(node.latency_p95_ms),
        "warning": fenced or node.role_mismatch,
        "last_error": node.last_error,
        "timeline": node.timeline,
        "fenced": fenced,
        "takes_writes": verdict is not None and verdict.primary == node.name,
    }


def health_status(snapshot: Snapshot, max_lag_s: float) -> dict[str, Any]:
    """One summary per role, plus a `nodes` list with every detail; every key snake_case
    (the JSON schema is docs/health.schema.json).

    `{primary: {available, latency_ms, node}, analytics: {available, latency_ms,
    replication_lag_ms, lag_seconds, node}, replica1: {...}, nodes: [...], ...}`. `available`
    means: the primary takes writes; a read/analytics/background replica serves reads; a DR
    replica is reachable and not ejected. A summary's `latency_ms` and `lag_seconds` are its
    node's.
    """
    out: dict[str, Any] = {}
    verdict = judge(snapshot)
    # Readiness follows the last probe: a primary back after an outage is healthy at its first
    # good probe (ejection's hysteresis is about routing reads, not about being up).
    primary = snapshot.node(verdict.primary) if verdict.primary else snapshot.primary
    out["primary"] = {
        "available": verdict.primary is not None
        and primary.reachable
        and write_refusal(snapshot) is None,
        "latency_ms": _round(primary.latency_avg_ms),
        "node": primary.name,
    }
    for node in snapshot.nodes:
        if node.role is Role.PRIMARY:
            continue
        key = node.role.value if node.role is not Role.READ else node.name
        lag = node.lag_s
        out[key] = {
            "available": node.healthy
            and usable_for_reads(node, max_lag_s, newest_timeline(snapshot, node))
            if node.role is not Role.DR
            else node.healthy,
            "latency_ms": _round(node.latency_avg_ms),
            "replication_lag_ms": None
            if lag is None or not math.isfinite(lag)
            else round(lag * 1000),
            "lag_seconds": _round(lag),
            "node": node.name,
        }
    out["nodes"] = [
        node_report(n, max_lag_s, verdict, newest_timeline(snapshot, n)) for n in snapshot.nodes
    ]
    out["warnings"] = [
        f"{n['name']}: {n['warning']}" for n in out["nodes"] if n["warning"] is not None
    ]
    if verdict.refusal is not None:
        out["warnings"].append(verdict.refusal)
    out["fenced"] = sorted(verdict.fenced)
    out["newest_timeline"] = verdict.newest_timeline
    out["reads_on_primary"] = not any(n["usable_for_reads"] for n in out["nodes"])
    return out
