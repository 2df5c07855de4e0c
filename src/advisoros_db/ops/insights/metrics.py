"""The insights report as Prometheus gauges, named the way postgres_exporter names its own (units
as suffixes: `_bytes`, `_seconds`; counters `_total`); figures it has no collector for are under
`advisoros_`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector


class ReportCollector(Collector):
    def __init__(self, report: dict[str, Any], problems: list[dict[str, Any]]) -> None:
        self.report = report
        self.problems = problems

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        r = self.report
        db = r["database"]
        yield _gauge("pg_up", "Whether the last scrape could reach the server.", [], [([], 1)])
        act = r["activity"]
        yield _gauge(
            "pg_settings_max_connections",
            "Server setting max_connections.",
            [],
            [([], act["max_connections"])],
        )
        yield _gauge(
            "pg_stat_activity_count",
            "Client connections by role and state.",
            ["datname", "usename", "state"],
            [([db, c["role"], c["state"] or "unknown"], c["count"]) for c in act["connections"]],
        )
        longest = max((s["transaction_s"] or 0 for s in act["long_running"]), default=0.0)
        yield _gauge(
            "pg_stat_activity_max_tx_duration_seconds",
            "Longest open transaction over the long-query threshold (0 when none).",
            ["datname"],
            [([db], longest)],
        )
        yield _gauge(
            "advisoros_blocked_queries",
            "Queries waiting on a lock another session holds.",
            ["datname"],
            [([db], len(act["blocked"]))],
        )
        yield _gauge(
            "advisoros_idle_in_transaction_sessions",
            "Sessions idle inside an open transaction.",
            ["datname"],
            [([db], len(act["idle_in_transaction"]))],
        )
        sz = r["sizes"]
        yield _gauge(
            "pg_database_size_bytes",
            "Disk space of the database.",
            ["datname"],
            [([db], sz["database_bytes"])],
        )
        yield _gauge(
            "pg_stat_user_tables_size_bytes",
            "Heap bytes per table, partitions rolled up to their parent.",
            ["datname", "schemaname", "relname"],
            [([db, t["schema"], t["table"]], t["table_bytes"]) for t in sz["tables"]],
        )
        yield _gauge(
            "pg_stat_user_tables_n_dead_tup",
            "Dead rows per table (a bloat estimate), partitions rolled up.",
            ["datname", "schemaname", "relname"],
            [([db, t["schema"], t["table"]], t["dead_rows"]) for t in sz["tables"]],
        )
        ratio = sz["cache_hit_ratio"]
        yield _gauge(
            "advisoros_cache_hit_ratio",
            "Share of block reads served from shared buffers.",
            ["datname", "kind"],
            [([db, kind], value) for kind, value in ratio.items() if value is not None],
        )
        ix = r["indexes"]
        scans = CounterMetricFamily(
            "pg_stat_user_indexes_idx_scan",
            "Index scans, partition indexes rolled up to their parent index.",
            labels=["datname", "schemaname", "relname", "indexrelname"],
        )
        for i in ix["usage"]:
            scans.add_metric([db, i["schema"], i["table"], i["index"]], i["scans"])
        yield scans
        yield _gauge(
            "pg_stat_user_indexes_size_bytes",
            "Index size, partitions rolled up to their parent index.",
            ["datname", "schemaname", "relname", "indexrelname"],
            [([db, i["schema"], i["table"], i["index"]], i["bytes"]) for i in ix["usage"]],
        )
        yield _gauge(
            "advisoros_unused_indexes",
            "Non-unique indexes with no scan.",
            ["datname"],
            [([db], len(ix["unused"]))],
        )
        yield _gauge(
            "advisoros_invalid_indexes",
            "Invalid indexes.",
            ["datname"],
            [([db], len(ix["invalid"]))],
        )
        rep = r["replication"]
        yield _gauge(
            "pg_replication_lag_seconds",
            "Replay lag of each streaming replica, as the primary sees it.",
            ["application_name"],
            [([x["name"]], x["replay_lag_s"] or 0.0) for x in rep["replicas"]],
        )
        yield _gauge(
            "pg_stat_replication_pg_wal_lsn_diff",
            "Bytes of WAL each replica has yet to replay.",
            ["application_name"],
            [([x["name"]], x["lag_bytes"] or 0) for x in rep["replicas"]],
        )
        yield _gauge(
            "pg_replication_slot_slot_is_active",
            "Whether a replication slot has a consumer.",
            ["slot_name", "slot_type"],
            [([s["slot"], s["type"]], int(s["active"])) for s in rep["slots"]],
        )
        yield _gauge(
            "pg_replication_slot_retained_wal_bytes",
            "WAL a replication slot keeps from being recycled.",
            ["slot_name", "slot_type"],
            [([s["slot"], s["type"]], s["retained_bytes"] or 0) for s in rep["slots"]],
        )
        yield _gauge(
            "pg_database_wraparound_age_datfrozenxid",
            "Transaction-ID age of each database's oldest unfrozen row.",
            ["datname"],
            [([w["database"]], w["xid_age"]) for w in rep["wraparound"]],
        )
        parts = r["partitions"]
        yield _gauge(
            "advisoros_partition_runway_periods",
            "Partitions ready after the current period (months or tax years).",
            ["relname", "unit"],
            [([p["table"], p["unit"]], p["ahead"]) for p in parts["runway"] if p["partitioned"]],
        )
        yield _gauge(
            "advisoros_rollback_window_open",
            "Whether a conversion's rollback window is open.",
            ["relname"],
            [([w["table"]], int(w["open"])) for w in parts["rollback_windows"]],
        )
        statements = r["statements"]
        calls = CounterMetricFamily(
            "pg_stat_statements_calls",
            "Calls of the top statements.",
            labels=["datname", "queryid"],
        )
        seconds = CounterMetricFamily(
            "pg_stat_statements_seconds",
            "Total execution time of the top statements.",
            labels=["datname", "queryid"],
        )
        for q in statements["by_total"]:
            calls.add_metric([db, str(q["queryid"])], q["calls"])
            seconds.add_metric([db, str(q["queryid"])], q["total_ms"] / 1000)
        yield calls
        yield seconds
        yield _gauge(
            "advisoros_insights_problems",
            "Problems over their thresholds, by check.",
            ["check"],
            [
                ([check], sum(p["check"] == check for p in self.problems))
                for check in _checks(self.problems)
            ],
        )
        failed = [j for j in r["jobs"] if j["status"] == "failed"]
        yield _gauge(
            "advisoros_job_failed_runs",
            "Failed runs among the last recorded upkeep runs.",
            [],
            [([], len(failed))],
        )


def _checks(problems: list[dict[str, Any]]) -> list[str]:
    return sorted({p["check"] for p in problems})


def _gauge(
    name: str, doc: str, labels: list[str], samples: list[tuple[list[str], float]]
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=labels)
    for values, value in samples:
        family.add_metric(values, float(value))
    return family


def render(report: dict[str, Any], problems: list[dict[str, Any]]) -> bytes:
    """The exposition text of one report."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ReportCollector(report, problems))
    return generate_latest(registry)
