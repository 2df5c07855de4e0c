"""Time-series and document-text cases: an audit-log month (aggregate and page) and ranked
full-text search over documents (bench/text_cases.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any, LiteralString

import psycopg

from advisoros_db.bench import audit_cases, text_cases
from advisoros_db.bench.cases import CustomCase, QueryCase

MONTH_AGGREGATE: LiteralString = (
    "SELECT action, entity_type, count(*) FROM audit_logs"
    " WHERE created_at >= %(lower)s AND created_at < %(upper)s GROUP BY action, entity_type"
)
MONTH_PAGE: LiteralString = (
    "SELECT id, user_id, entity_type, entity_id, action, created_at FROM audit_logs"
    " WHERE organization_id = %(organization_id)s"
    " AND created_at >= %(lower)s AND created_at < %(upper)s"
    " ORDER BY created_at DESC LIMIT 50"
)


def last_full_month(today: dt.date) -> tuple[dt.datetime, dt.datetime]:
    upper = dt.datetime(today.year, today.month, 1, tzinfo=dt.UTC)
    prev = upper - dt.timedelta(days=1)
    return dt.datetime(prev.year, prev.month, 1, tzinfo=dt.UTC), upper


def cases(conn: psycopg.Connection[Any], organization_id: object) -> list[QueryCase | CustomCase]:
    row = conn.execute("SELECT max(created_at) FROM audit_logs").fetchone()
    newest = row[0] if row and row[0] else dt.datetime.now(dt.UTC)
    lower, upper = last_full_month(newest.date())
    month = {"lower": lower, "upper": upper}
    org = {"organization_id": organization_id, **month}
    return [
        *audit_cases.cases(month, org, MONTH_AGGREGATE, f"{lower:%Y-%m}"),
        QueryCase(
            "audit.month_page",
            "time series",
            f"The newest page of one firm's audit log in {lower:%Y-%m}.",
            MONTH_PAGE,
            org,
        ),
        *text_cases.cases(),
    ]
