"""The upkeep jobs and their schedules."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
from psycopg import sql

from advisoros_db.audit import rollups
from advisoros_db.ops import retention
from advisoros_db.ops.insights import checks, report
from advisoros_db.ops.worker.scheduler import Job, JobContext, Stopped
from advisoros_db.partitioning import maintain

# Partitions of the partitioned tables that no ANALYZE (manual or auto) has seen yet.
_NEVER_ANALYZED = """
SELECT n.nspname, c.relname
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE i.inhparent IN ('audit_logs'::regclass, 'documents'::regclass)
  AND s.last_analyze IS NULL AND s.last_autoanalyze IS NULL
ORDER BY 2
"""


def partition_maintenance(ctx: JobContext) -> dict[str, Any]:
    return maintain(ctx.admin_url).as_dict()


def audit_rollups(ctx: JobContext) -> dict[str, Any]:
    """Roll up every audit-log month that has ended (docs/audit.md): after partition maintenance,
    so a month's partition exists before its month ends."""
    with psycopg.connect(ctx.admin_url, autocommit=True) as conn:
        closed = rollups.close_months(conn)
    return {"closed": [{"month": c.month.date().isoformat(), "events": c.events} for c in closed]}


def analyze_new_partitions(ctx: JobContext) -> dict[str, Any]:
    """ANALYZE partitions never analyzed, so the planner has statistics from a partition's first
    rows rather than waiting for autovacuum's threshold."""
    done: list[str] = []
    with psycopg.connect(ctx.admin_url, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT to_regclass('documents'), to_regclass('audit_logs')"
        ).fetchone()
        if tables is None or None in tables:
            return {"analyzed": [], "skipped": "audit_logs or documents is missing"}
        for schema, name in conn.execute(_NEVER_ANALYZED).fetchall():
            if ctx.should_stop():
                raise Stopped(f"stopped after analyzing {len(done)} partitions")
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema, name)))
            done.append(name)
    return {"analyzed": done}


def apply_retention(ctx: JobContext) -> dict[str, Any]:
    settings = ctx.settings
    export_dir = settings.retention_export_dir or settings.home / "archive"
    result = retention.apply(
        ctx.admin_url,
        retention.RetentionPolicy(
            audit_months=settings.retention_audit_months,
            document_years=settings.retention_document_years,
        ),
        export_dir,
        should_stop=ctx.should_stop,
    )
    if result.get("stopped"):
        raise Stopped("stopped between tables; the next run carries on")
    return result


class ProblemsFound(Exception):
    """insights check found problems: the run is recorded failed, with the list."""


def insights_check(ctx: JobContext) -> dict[str, Any]:
    found = checks.problems(report.collect(ctx.admin_url, ctx.settings), ctx.settings)
    if found:
        raise ProblemsFound("; ".join(p["message"] for p in found))
    return {"problems": 0}


def default_jobs() -> list[Job]:
    hour, day = dt.timedelta(hours=1), dt.timedelta(days=1)
    return [
        Job("partition_maintenance", hour, partition_maintenance),
        Job("analyze_new_partitions", hour, analyze_new_partitions),
        Job("audit_rollups", hour, audit_rollups),
        Job("retention", day, apply_retention),
        Job("insights_check", day, insights_check),
    ]
