"""What the database is doing: index usage, sizes, activity, top queries, replication, partitions,
upkeep runs; the problems over their thresholds; the same figures as Prometheus gauges."""

from advisoros_db.ops.insights.checks import problems
from advisoros_db.ops.insights.report import collect

__all__ = ["collect", "problems"]
