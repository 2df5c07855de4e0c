"""Router counters and gauges in a per-router Prometheus registry (no process-global state)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from advisoros_db.routing.decisions import usable_for_reads
from advisoros_db.routing.state import Snapshot


class RouterMetrics:
    """Where queries went and what the monitor saw; `generate()` renders the exposition format."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.routed = Counter(
            "advisoros_router_queries", "Statements routed", ["kind", "node"], registry=r
        )
        self.fallbacks = Counter(
            "advisoros_router_fallbacks",
            "Sessions served by a less preferred node",
            ["kind", "reason"],
            registry=r,
        )
        self.failovers = Counter(
            "advisoros_router_failovers",
            "Reads moved off a failing node",
            ["from_node", "to_node"],
            registry=r,
        )
        self.retries = Counter(
            "advisoros_router_retries", "Read statements retried", ["kind", "reason"], registry=r
        )
        self.ejections = Counter(
            "advisoros_router_ejections", "Nodes taken out of rotation", ["node"], registry=r
        )
        self.probe_latency = Gauge(
            "advisoros_router_probe_latency_ms",
            "Probe latency (moving average)",
            ["node"],
            registry=r,
        )
        self.staleness = Gauge(
            "advisoros_router_staleness_seconds", "Replica staleness", ["node"], registry=r
        )
        self.healthy = Gauge(
            "advisoros_router_node_healthy",
            "1 when reachable and not ejected",
            ["node"],
            registry=r,
        )
        self.usable = Gauge(
            "advisoros_router_node_usable_for_reads", "1 when serving reads", ["node"], registry=r
        )

    def observe(self, snapshot: Snapshot, max_lag_s: float) -> None:
        """Refresh the gauges from a snapshot."""
        for node in snapshot.nodes:
            if node.latency_avg_ms is not None:
                self.probe_latency.labels(node.name).set(node.latency_avg_ms)
            if node.lag_s is not None:
                self.staleness.labels(node.name).set(node.lag_s)
            self.healthy.labels(node.name).set(1 if node.healthy else 0)
            self.usable.labels(node.name).set(1 if usable_for_reads(node, max_lag_s) else 0)

    def generate(self) -> bytes:
        return generate_latest(self.registry)

    def counts(self) -> dict[str, dict[str, float]]:
        """Every counter's samples as `{metric: {"label=value,...": count}}`."""
        out: dict[str, dict[str, float]] = {}
        for family in self.registry.collect():
            if family.type != "counter":
                continue
            samples: dict[str, float] = {}
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    key = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                    samples[key] = sample.value
            out[family.name] = samples
        return out


def total(counts: dict[str, dict[str, float]], metric: str, **labels: Any) -> float:
    """Sum a counter's samples whose labels include `labels`."""
    want = {f"{k}={v}" for k, v in labels.items()}
    return sum(
        value
        for key, value in counts.get(metric, {}).items()
        if want <= set(key.split(",") if key else [])
    )
