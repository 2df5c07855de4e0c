"""Each job run is a row of job_executions (queue `maintenance`, no organization): started as
`active`, finished as `completed`, `failed` or `cancelled`."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg

QUEUE = "maintenance"


@dataclass(frozen=True)
class LastRun:
    id: uuid.UUID
    status: str
    attempts: int
    max_attempts: int
    finished_at: dt.datetime | None
    age_s: float | None
    """Seconds since the run finished (server clock), None while it has not."""


def last_run(conn: psycopg.Connection[Any], job: str) -> LastRun | None:
    row = conn.execute(
        "SELECT id, status, attempts, max_attempts, finished_at,"
        " extract(epoch FROM now() - finished_at)::float8"
        " FROM job_executions WHERE queue = %s AND job_name = %s AND organization_id IS NULL"
        " ORDER BY queued_at DESC, id DESC LIMIT 1",
        (QUEUE, job),
    ).fetchone()
    return None if row is None else LastRun(*row)


def abandon_active(conn: psycopg.Connection[Any], job: str) -> int:
    """Mark runs left `active` by a worker that died as failed. Called only under the job's lock,
    so no live worker can be running them."""
    cur = conn.execute(
        "UPDATE job_executions SET status = 'failed', finished_at = now(),"
        " duration_ms = (extract(epoch FROM now() - started_at) * 1000)::int,"
        " error_message = 'abandoned: worker ' || coalesce(worker_id, '?') || ' stopped mid-run'"
        " WHERE queue = %s AND job_name = %s AND status = 'active' AND organization_id IS NULL",
        (QUEUE, job),
    )
    return cur.rowcount


def start(
    conn: psycopg.Connection[Any], job: str, worker: str, attempt: int, max_attempts: int
) -> uuid.UUID:
    row = conn.execute(
        "INSERT INTO job_executions (queue, job_name, status, attempts, max_attempts, worker_id,"
        " started_at) VALUES (%s, %s, 'active', %s, %s, %s, now()) RETURNING id",
        (QUEUE, job, attempt, max_attempts, worker),
    ).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


def finish(
    conn: psycopg.Connection[Any],
    run: uuid.UUID,
    status: str,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
    stack: str | None = None,
) -> None:
    conn.execute(
        "UPDATE job_executions SET status = %s, finished_at = now(), progress = 100,"
        " duration_ms = (extract(epoch FROM now() - started_at) * 1000)::int,"
        " result = %s::jsonb, error_message = %s, error_stack = %s WHERE id = %s",
        (
            status,
            json.dumps(result, default=str) if result is not None else None,
            error,
            stack,
            run,
        ),
    )


def recent(conn: psycopg.Connection[Any], *, limit: int = 20) -> list[dict[str, Any]]:
    """The last runs of the upkeep jobs, newest first."""
    rows = conn.execute(
        "SELECT job_name, status, attempts, worker_id, started_at, finished_at, duration_ms,"
        " error_message FROM job_executions WHERE queue = %s AND organization_id IS NULL"
        " ORDER BY queued_at DESC, id DESC LIMIT %s",
        (QUEUE, limit),
    ).fetchall()
    keys = (
        "job",
        "status",
        "attempts",
        "worker",
        "started_at",
        "finished_at",
        "duration_ms",
        "error",
    )
    return [dict(zip(keys, row, strict=True)) for row in rows]
