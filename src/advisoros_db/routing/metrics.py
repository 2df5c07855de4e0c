"""Router counters and gauges in a per-router Prometheus registry (no process-global state).

Counters are counted per transaction, so they are plain per-thread dicts (`Tally`) summed when the
registry is collected; `Counter.labels().inc()` (a lock and label checks) costs more than the
routing decision itself.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric

from advisoros_db.routing.decisions import newest_timeline, usable_for_reads
from advisoros_db.routing.fencing import judge
from advisoros_db.routing.state import Snapshot


class Tally:
    """A Prometheus counter family counted in plain ints and exported at scrape time.

    Each thread counts into its own dict, so no increment is lost and none takes a lock; `values()`
    sums the dicts (a dead thread's dict is folded into a retired total the next time). Labels
    are strings or `StrEnum`s (exported as their text).
    """

    def __init__(self, name: str, documentation: str, labelnames: tuple[str, ...]) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = labelnames
        self._local = threading.local()
        self._lock = threading.Lock()
        self._live: list[tuple[threading.Thread, dict[tuple[str, ...], int]]] = []
        self._retired: dict[tuple[str, ...], int] = {}

    def inc(self, *labels: str) -> None:
        try:
            table: dict[tuple[str, ...], int] = self._local.table
        except AttributeError:
            table = self._local.table = {}
            with self._lock:
                self._live.append((threading.current_thread(), table))
        table[labels] = table.get(labels, 0) + 1

    def values(self) -> dict[tuple[str, ...], int]:
        """Current totals by label values (as text)."""
        with self._lock:
            alive = []
            for thread, table in self._live:
                if thread.is_alive():
                    alive.append((thread, table))
                else:  # it counts no more: fold it in once
                    _add(self._retired, table)
            self._live = alive
            totals = dict(self._retired)
            for _, table in alive:
                _add(totals, table.copy())  # copy(): one C call, safe while its thread counts
        return {tuple(str(v) for v in labels): n for labels, n in totals.items()}

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, value in sorted(self.values().items()):
            family.add_metric(list(labels), float(value))
        yield family

    def describe(self) -> Iterator[Metric]:
        yield CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)


def _add(into: dict[tuple[str, ...], int], table: dict[tuple[str, ...], int]) -> None:
    for labels, n in table.items():
        into[labels] = into.get(labels, 0) + n


class RouterMetrics:
    """Where queries went and what the monitor saw; `generate()` renders the exposition format."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.routed = self._tally("advisoros_router_queries", "Statements routed", "kind", "node")
        self.fallbacks = self._tally(
            "advisoros_router_fallbacks",
            "Sessions served by a less preferred node",
            "kind",
            "reason",
        )
        self.failovers = self._tally(
            "advisoros_router_failovers", "Reads moved off a failing node", "from_node", "to_node"
        )
        self.retries = self._tally(
            "advisoros_router_retries", "Read statements retried", "kind", "reason"
        )
        self.replans = self._tally(
            "advisoros_router_replans",
            "Reads planned again after every node of their plan was tried",
            "kind",
        )
        self.ejections = self._tally(
            "advisoros_router_ejections", "Nodes taken out of rotation", "node"
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
        self.fenced = Gauge(
            "advisoros_router_node_fenced",
            "1 when writable on an older timeline than the cluster's newest (gets no session)",
            ["node"],
            registry=r,
        )

    def pool_sizes(self, ranges: dict[str, tuple[int, int]], limit: int) -> None:
        """Publish each node's pool bounds and the most connections the router can open."""
        pool_min = Gauge(
            "advisoros_router_pool_min_connections",
            "Connections a node's pool keeps open",
            ["node"],
            registry=self.registry,
        )
        pool_max = Gauge(
            "advisoros_router_pool_max_connections",
            "Most connections a node's pool opens",
            ["node"],
            registry=self.registry,
        )
        for node, (low, high) in ranges.items():
            pool_min.labels(node).set(low)
            pool_max.labels(node).set(high)
        Gauge(
            "advisoros_router_connection_limit",
            "Most server connections this router opens: every pool full plus one probe per node",
            registry=self.registry,
        ).set(limit)

    def _tally(self, name: str, documentation: str, *labelnames: str) -> Tally:
        tally = Tally(name, documentation, labelnames)
        self.registry.register(tally)
        return tally

    def observe(self, snapshot: Snapshot, max_lag_s: float) -> None:
        """Refresh the gauges from a snapshot."""
        fenced = judge(snapshot).fenced
        for node in snapshot.nodes:
            self.fenced.labels(node.name).set(1 if node.name in fenced else 0)
            if node.latency_avg_ms is not None:
                self.probe_latency.labels(node.name).set(node.latency_avg_ms)
            if node.lag_s is not None:
                self.staleness.labels(node.name).set(node.lag_s)
            self.healthy.labels(node.name).set(1 if node.healthy else 0)
            newest = newest_timeline(snapshot, node)
            self.usable.labels(node.name).set(1 if usable_for_reads(node, max_lag_s, newest) else 0)

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
