"""Audit-log month aggregates: the optimized side answers from the rollups of closed months
(audit_activity(), docs/audit.md), the naive side aggregates the raw rows. The two sides run
different SQL, so each case also compares their answers and records whether they are identical:
as the application role in the sampled firm's tenant transaction (its own rows, row-level
security on both sides) and, second column, as the owner (every firm's rows)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, LiteralString

from advisoros_db.audit import rollups
from advisoros_db.bench import plans
from advisoros_db.bench.cases import (
    Budget,
    CaseResult,
    CustomCase,
    Sides,
    scoped,
    session_facts,
    time_query,
)

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
        # Closing months is the owner's maintenance (the worker's audit_rollups job); run here so
        # the month measured is closed however the data was loaded.
        closed = rollups.close_months(sides.owner_optimized)
        if closed:
            result.notes["months_closed_before_timing"] = [c.month.isoformat() for c in closed]
        pairs = (
            ("", sides.optimized, sides.naive, sides.organization_id, budget),
            ("owner_", sides.owner_optimized, sides.owner_naive, None, budget.owner()),
        )
        for prefix, optimized, naive, tenant, spend in pairs:
            answers = []
            for side, conn, query in (
                ("optimized", optimized, self.rolled),
                ("naive", naive, self.raw),
            ):
                with scoped(conn, tenant):
                    if tenant is not None:
                        result.notes.setdefault("session", {})[side] = session_facts(conn)
                    setattr(result, f"{prefix}{side}", time_query(conn, query, self.params, spend))
                    answers.append(sorted(conn.execute(query, self.params).fetchall()))
                    if side == "naive":
                        result.notes[f"{prefix}naive_plan"] = plans.summary(
                            conn, query, self.params
                        )
            result.notes[f"{prefix}answers_match"] = answers[0] == answers[1]
        result.notes["optimized_sql"] = self.rolled
        result.notes["naive_sql"] = self.raw
        return result

    def case(self) -> CustomCase:
        return CustomCase(self.name, "time series", self.description, self.measure)


def cases(
    month: Mapping[str, Any], org: Mapping[str, Any], raw_aggregate: str, label: str
) -> list[CustomCase]:
    return [
        RollupCase(
            "audit.month_aggregate",
            f"Audit activity of {label} by action and entity type: the application role's figures "
            "count its own firm's rows, the owner's every firm's (optimized: rollups of the "
            "closed month).",
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
