"""Audit-log month aggregates: the optimized side answers from the rollups of closed months
(audit_activity(), docs/audit.md), the naive side aggregates the raw rows. The two sides run
different SQL, so each case also compares their answers and records whether they are identical."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, LiteralString

import psycopg

from advisoros_db.audit import rollups
from advisoros_db.bench import plans
from advisoros_db.bench.cases import Budget, CaseResult, CustomCase, Sides, time_query

# Day boundaries in UTC on both sides, as the rollups keep them.
ROLLED_MONTH_AGGREGATE: LiteralString = (
    "SELECT action, entity_type, sum(events)::bigint FROM audit_activity(%(lower)s, %(upper)s)"
    " GROUP BY action, entity_type"
)
ROLLED_ORG_DAILY: LiteralString = (
    "SELECT day, sum(events)::bigint FROM audit_activity(%(lower)s, %(upper)s, %(organization_id)s)"
    " GROUP BY 1 ORDER BY 1"
)
RAW_ORG_DAILY: LiteralString = (
    "SELECT (created_at AT TIME ZONE 'UTC')::date AS day, count(*) FROM audit_logs"
    " WHERE organization_id = %(organization_id)s"
    " AND created_at >= %(lower)s AND created_at < %(upper)s GROUP BY 1 ORDER BY 1"
)


@dataclass(frozen=True)
class RollupCase:
    name: str
    description: str
    rolled: str
    raw: str
    params: Mapping[str, Any]

    def measure(self, sides: Sides, budget: Budget) -> CaseResult:
        result = CaseResult(self.name, "time series", self.description)
        # Closing months is the owner's maintenance (the worker's audit_rollups job); a side that
        # runs as another role measures whatever the last run closed, and says so.
        try:
            closed = rollups.close_months(sides.optimized)
        except psycopg.errors.InsufficientPrivilege:
            result.notes["months_closed_before_timing"] = "not by the benchmark (not the owner)"
        else:
            if closed:
                result.notes["months_closed_before_timing"] = [c.month.isoformat() for c in closed]
        result.optimized = time_query(sides.optimized, self.rolled, self.params, budget)
        result.naive = time_query(sides.naive, self.raw, self.params, budget)
        mine = sorted(sides.optimized.execute(self.rolled, self.params).fetchall())
        theirs = sorted(sides.naive.execute(self.raw, self.params).fetchall())
        result.notes["answers_match"] = mine == theirs
        result.notes["optimized_sql"] = self.rolled
        result.notes["naive_sql"] = self.raw
        result.notes["naive_plan"] = plans.summary(sides.naive, self.raw, self.params)
        return result

    def case(self) -> CustomCase:
        return CustomCase(self.name, "time series", self.description, self.measure)


def cases(
    month: Mapping[str, Any], org: Mapping[str, Any], raw_aggregate: str, label: str
) -> list[CustomCase]:
    return [
        RollupCase(
            "audit.month_aggregate",
            f"Audit activity of {label} across all firms, by action and entity type "
            "(optimized: rollups of the closed month).",
            ROLLED_MONTH_AGGREGATE,
            raw_aggregate,
            month,
        ).case(),
        RollupCase(
            "audit.month_daily_counts",
            f"One firm's audit events per UTC day in {label} (optimized: rollups of the closed "
            "month).",
            ROLLED_ORG_DAILY,
            RAW_ORG_DAILY,
            org,
        ).case(),
    ]
