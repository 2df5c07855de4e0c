"""Router counters, histograms and gauges in a per-router Prometheus registry (no process-global
state). Names and units follow Prometheus' conventions: seconds, `_total` counters.

Counters and the statement latency histogram are counted per statement, so they are plain
per-thread dicts (`Tally`, `LatencyHistogram`) summed when the registry is collected;
`Counter.labels().inc()` (a lock and label checks) costs more than the routing decision itself.
Per-node gauges of a node that is down are not left at their last value: its latency and
staleness samples are removed and `advisoros_router_node_up` is 0 (docs/routing.md, "Metrics").
"""

from __future__ import annotations

import bisect
import contextlib
import math
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from advisoros_db.routing.decisions import newest_timeline, usable_for_reads
from advisoros_db.routing.fencing import judge
from advisoros_db.routing.state import Snapshot


class _PerThread:
    """Values counted per thread in plain dicts, summed when the registry is collected.

    Each thread counts into its own dict, so no increment is lost and none takes a lock; `sums()`
    adds the dicts up (a dead thread's dict is folded into a retired total the next time).
    Subclasses say what one label set holds (`_zero`) and how two are added (`_merge`).
    """

    def __init__(self, name: str, documentation: str, labelnames: tuple[str, ...]) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = labelnames
        self._local = threading.local()
        self._lock = threading.Lock()
        self._live: list[tuple[threading.Thread, dict[tuple[str, ...], Any]]] = []
        self._retired: dict[tuple[str, ...], Any] = {}

    def _table(self) -> dict[tuple[str, ...], Any]:
        try:
            table: dict[tuple[str, ...], Any] = self._local.table
        except AttributeError:
            table = self._local.table = {}
            with self._lock:
                self._live.append((threading.current_thread(), table))
        return table

    def _merge(self, into: Any, value: Any) -> Any:
        raise NotImplementedError

    def sums(self) -> dict[tuple[str, ...], Any]:
        """Current totals by label values (as text)."""
        with self._lock:
            alive = []
            for thread, table in self._live:
                if thread.is_alive():
                    alive.append((thread, table))
                else:  # it counts no more: fold it in once
                    self._add(self._retired, table)
            self._live = alive
            totals = {labels: self._merge(None, value) for labels, value in self._retired.items()}
            for _, table in alive:
                self._add(totals, table.copy())  # copy(): one C call, safe while its thread counts
        return {tuple(str(v) for v in labels): value for labels, value in totals.items()}

    def _add(self, into: dict[tuple[str, ...], Any], table: dict[tuple[str, ...], Any]) -> None:
        for labels, value in table.items():
            into[labels] = self._merge(into.get(labels), value)


class Tally(_PerThread):
    """A Prometheus counter family counted in plain ints and exported at scrape time. Labels are
    strings or `StrEnum`s (exported as their text)."""

    def inc(self, *labels: str) -> None:
        table = self._table()
        table[labels] = table.get(labels, 0) + 1

    def _merge(self, into: Any, value: Any) -> Any:
        return value if into is None else into + value

    def values(self) -> dict[tuple[str, ...], int]:
        """Current totals by label values (as text)."""
        return self.sums()

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, value in sorted(self.sums().items()):
            family.add_metric(list(labels), float(value))
        yield family

    def describe(self) -> Iterator[Metric]:
        yield CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)


# Statement latencies: sub-millisecond point reads up to reports that take seconds.
LATENCY_BUCKETS_S = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip


class LatencyHistogram(_PerThread):
    """A Prometheus histogram counted per thread: per label set, one count per bucket (not
    cumulative; the exposition accumulates) followed by the sum of observed seconds."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: tuple[str, ...],
        buckets: tuple[float, ...] = LATENCY_BUCKETS_S,
    ) -> None:
        super().__init__(name, documentation, labelnames)
        self.buckets = buckets

    def observe(self, seconds: float, *labels: str) -> None:
        table = self._table()
        row = table.get(labels)
        if row is None:
            row = table[labels] = [0] * (len(self.buckets) + 1) + [0.0]
        row[bisect.bisect_left(self.buckets, seconds)] += 1
        row[-1] += seconds

    def _merge(self, into: Any, value: Any) -> Any:
        if into is None:
            return list(value)
        return [a + b for a, b in zip(into, value, strict=True)]

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, row in sorted(self.sums().items()):
            cumulative, buckets = 0, []
            for bound, count in zip((*self.buckets, math.inf), row[:-1], strict=True):
                cumulative += count
                buckets.append(("+Inf" if math.isinf(bound) else str(bound), float(cumulative)))
            family.add_metric(list(labels), buckets, row[-1])
        yield family

    def describe(self) -> Iterator[Metric]:
        yield HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)


class PoolGauges:
    """Each open pool's connections, those in use and the requests waiting for one, read from
    psycopg's pool statistics when the registry is scraped (nothing is counted per checkout)."""

    _FAMILIES = (
        ("advisoros_router_pool_connections", "Connections a node's pool holds open"),
        (
            "advisoros_router_pool_connections_in_use",
            "Connections of a node's pool not idle in it (lent out, or being opened)",
        ),
        ("advisoros_router_pool_requests_waiting", "Checkouts waiting for a connection"),
    )

    def __init__(self, pools: Callable[[], Mapping[str, Any]]) -> None:
        self._pools = pools

    def _families(self) -> list[GaugeMetricFamily]:
        return [GaugeMetricFamily(name, doc, labels=["node"]) for name, doc in self._FAMILIES]

    def collect(self) -> Iterator[Metric]:
        size, in_use, waiting = families = self._families()
        for node, pool in sorted(self._pools().items()):
            stats = pool.get_stats()
            held = stats.get("pool_size", 0)
            size.add_metric([node], held)
            in_use.add_metric([node], held - stats.get("pool_available", 0))
            waiting.add_metric([node], stats.get("requests_waiting", 0))
        yield from families

    def describe(self) -> Iterator[Metric]:
        yield from self._families()


class RouterMetrics:
    """Where queries went and what the monitor saw; `generate()` renders the exposition format."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.routed = self._tally(
            "advisoros_router_queries",
            "Statements run on a node (session statements, ORM flushes and lazy loads, the "
            "psycopg fast path)",
            "kind",
            "node",
        )
        self.latency = LatencyHistogram(
            "advisoros_router_statement_duration_seconds",
            "Time from sending a statement to its result, by kind of work and node",
            ("kind", "node"),
        )
        r.register(self.latency)
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
            "advisoros_router_probe_latency_seconds",
            "Probe round trip (moving average); absent while the node is unreachable",
            ["node"],
            registry=r,
        )
        self.up = Gauge(
            "advisoros_router_node_up",
            "1 when the last probe reached the node, 0 when it did not",
            ["node"],
            registry=r,
        )
        self.staleness = Gauge(
            "advisoros_router_staleness_seconds",
            "Replica staleness; absent while unknown (the node is unreachable or not probed)",
            ["node"],
            registry=r,
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
        self._observed: set[str] = set()

    @property
    def _per_node(self) -> tuple[Gauge, ...]:
        return (
            self.probe_latency,
            self.up,
            self.staleness,
            self.healthy,
            self.usable,
            self.fenced,
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

    def pool_usage(self, pools: Callable[[], Mapping[str, Any]]) -> None:
        """Publish the pools' live figures (`PoolGauges`) at every scrape."""
        self.registry.register(PoolGauges(pools))

    def _tally(self, name: str, documentation: str, *labelnames: str) -> Tally:
        tally = Tally(name, documentation, labelnames)
        self.registry.register(tally)
        return tally

    def observe(self, snapshot: Snapshot, max_lag_s: float) -> None:
        """Refresh the gauges from a snapshot."""
        fenced = judge(snapshot).fenced
        names = {node.name for node in snapshot.nodes}
        for gone in self._observed - names:  # a node no longer configured: no series at all
            for gauge in self._per_node:
                _drop(gauge, gone)
        self._observed = names
        for node in snapshot.nodes:
            self.fenced.labels(node.name).set(1 if node.name in fenced else 0)
            self.up.labels(node.name).set(1 if node.reachable else 0)
            latency = node.latency_avg_ms if node.reachable else None
            # A value the last probe did not measure is removed, not left at its old figure.
            if latency is None:
                _drop(self.probe_latency, node.name)
            else:
                self.probe_latency.labels(node.name).set(latency / 1000)
            lag = node.lag_s if node.reachable else None
            if lag is None:
                _drop(self.staleness, node.name)
            else:
                self.staleness.labels(node.name).set(lag)
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


def _drop(gauge: Gauge, node: str) -> None:
    with contextlib.suppress(KeyError):  # never set: nothing to remove
        gauge.remove(node)


def total(counts: dict[str, dict[str, float]], metric: str, **labels: Any) -> float:
    """Sum a counter's samples whose labels include `labels`."""
    want = {f"{k}={v}" for k, v in labels.items()}
    return sum(
        value
        for key, value in counts.get(metric, {}).items()
        if want <= set(key.split(",") if key else [])
    )
