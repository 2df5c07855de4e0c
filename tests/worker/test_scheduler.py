"""The worker: several at once run each job once; a killed job reruns to completion; SIGTERM
stops cleanly; failed runs retry with backoff; every run is a job_executions row."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

from advisoros_db.ops.worker import Job, JobContext, Worker
from advisoros_db.ops.worker.runs import LastRun
from advisoros_db.ops.worker.scheduler import due
from advisoros_db.settings import Settings
from tests.support import PgDatabase
from tests.worker.blocking import GATE, JOB, STEPS

ROOT = Path(__file__).resolve().parents[2]


def _runs(url: str, job: str | None = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT job_name, status, attempts, worker_id, error_message FROM job_executions"
            " WHERE queue = 'maintenance' AND (%s::text IS NULL OR job_name = %s)"
            " ORDER BY queued_at, id",
            (job, job),
        ).fetchall()


def _wait(what: str, probe: Any, timeout_s: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (value := probe()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout_s} s")
        time.sleep(0.05)
    return value


def _cli_env(url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "ADVISOROS_DATABASE_URL": url,
        "ADVISOROS_RETENTION_EXPORT_DIR": str(tmp_path / "archive"),
        "ADVISOROS_INSIGHTS_UNUSED_INDEX_BYTES": str(1 << 40),
        "ADVISOROS_INSIGHTS_SLOT_RETAINED_BYTES": str(1 << 50),
        "COLUMNS": "200",
    }


def test_two_workers_at_once_run_each_job_once(db: PgDatabase, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "advisoros_db.cli.app", "worker", "--once", "--json"]
    env = _cli_env(db.admin_url, tmp_path)
    workers = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=300) for w in workers]
    for w, (_out, err) in zip(workers, outputs, strict=True):
        assert w.returncode == 0, err
    outcomes = [o for out, _ in outputs for o in json.loads(out)]
    ran = [o for o in outcomes if o["status"] not in ("skipped", "not_due")]
    names = {
        "partition_maintenance",
        "analyze_new_partitions",
        "audit_rollups",
        "retention",
        "insights_check",
    }
    assert sorted(o["job"] for o in ran) == sorted(names)
    rows = _runs(db.admin_url)
    assert sorted(r[0] for r in rows) == sorted(names)
    statuses = {r[0]: (r[1], r[4]) for r in rows}
    assert all(statuses[n][0] == "completed" for n in names - {"insights_check"}), rows
    # The check fails exactly when the fresh database has problems, and then lists them; the
    # other worker does not retry it before the backoff.
    check_status, check_error = statuses["insights_check"]
    assert check_status == "completed" or (check_status == "failed" and check_error), rows
    # A third pass finds nothing due.
    again = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=300, check=True
    )
    assert {o["status"] for o in json.loads(again.stdout)} == {"not_due"}
    assert len(_runs(db.admin_url)) == len(names)


def _gated_worker(url: str, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.worker.blocking", url, mode],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _waiting_at_gate(url: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
            " WHERE l.locktype = 'advisory' AND NOT l.granted AND a.application_name = 'gated-job'"
            " AND a.datname = current_database()"
        ).fetchone()
    return bool(row and row[0])


def test_a_killed_job_is_rerun_to_completion(db: PgDatabase) -> None:
    with psycopg.connect(db.admin_url, autocommit=True) as gate:
        gate.execute(STEPS)
        gate.execute("SELECT pg_advisory_lock(%s)", (GATE,))
        proc = _gated_worker(db.admin_url, "once")
        try:
            _wait("the job to wait at the gate", lambda: _waiting_at_gate(db.admin_url))
            assert [r[1] for r in _runs(db.admin_url, "gated")] == ["active"]
        finally:
            proc.kill()
            proc.communicate(timeout=60)
        gate.execute("SELECT pg_advisory_unlock(%s)", (GATE,))
    outcomes = Worker(db.admin_url, [JOB], name="rerun").run_due()
    assert [(o.job, o.status, o.attempt) for o in outcomes] == [("gated", "completed", 2)]
    rows = _runs(db.admin_url, "gated")
    assert [r[1] for r in rows] == ["failed", "completed"]
    assert "abandoned" in rows[0][4] and rows[0][3] == "gated-once" and rows[1][3] == "rerun"
    with psycopg.connect(db.admin_url) as conn:
        steps = [s for (s,) in conn.execute("SELECT step FROM worker_steps ORDER BY at").fetchall()]
    assert steps == ["started", "started", "finished"]


def test_sigterm_ends_the_run_cleanly(db: PgDatabase) -> None:
    with psycopg.connect(db.admin_url, autocommit=True) as gate:
        gate.execute(STEPS)
        gate.execute("SELECT pg_advisory_lock(%s)", (GATE,))
        proc = _gated_worker(db.admin_url, "loop")
        try:
            _wait("the job to wait at the gate", lambda: _waiting_at_gate(db.admin_url))
            proc.send_signal(signal.SIGTERM)
            gate.execute("SELECT pg_advisory_unlock(%s)", (GATE,))
            _out, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    rows = _runs(db.admin_url, "gated")
    # Whether the signal landed before or after the gate opened, the run is closed, not active.
    assert len(rows) == 1 and rows[0][1] in ("cancelled", "completed")
    if rows[0][1] == "cancelled":
        assert "stopped" in rows[0][4]
        # A cancelled run is due again at once.
        again = Worker(db.admin_url, [JOB]).run_due()
        assert [o.status for o in again] == ["completed"]


def test_failed_runs_retry_with_backoff(db: PgDatabase) -> None:
    calls: list[int] = []

    def flaky(ctx: JobContext) -> dict[str, Any]:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError(f"transient failure {len(calls)}")
        return {"calls": len(calls)}

    job = Job("flaky", dt.timedelta(hours=1), flaky, retry_after=dt.timedelta(0))
    worker = Worker(db.admin_url, [job], settings=Settings())
    statuses = [worker.run_due()[0] for _ in range(4)]
    assert [(o.status, o.attempt) for o in statuses] == [
        ("failed", 1),
        ("failed", 2),
        ("completed", 3),
        ("not_due", 0),
    ]
    rows = _runs(db.admin_url, "flaky")
    assert [(r[1], r[2]) for r in rows] == [("failed", 1), ("failed", 2), ("completed", 3)]
    assert "transient failure 1" in rows[0][4]


def test_due_waits_out_the_backoff_and_the_interval() -> None:
    job = Job("j", dt.timedelta(hours=1), lambda ctx: {}, retry_after=dt.timedelta(minutes=1))
    run = lambda status, attempts, age: LastRun(  # noqa: E731
        id=None, status=status, attempts=attempts, max_attempts=3, finished_at=None, age_s=age
    )
    assert due(job, None) == 1
    assert due(job, run("failed", 1, 30)) is None
    assert due(job, run("failed", 1, 60)) == 2
    assert due(job, run("failed", 2, 60)) is None and due(job, run("failed", 2, 120)) == 3
    # Attempts used up: wait for the next scheduled run.
    assert due(job, run("failed", 3, 600)) is None and due(job, run("failed", 3, 3600)) == 1
    assert due(job, run("completed", 1, 3599)) is None and due(job, run("completed", 1, 3600)) == 1
    assert due(job, run("cancelled", 1, 0)) == 1


def test_worker_refuses_unknown_jobs(db: PgDatabase, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "advisoros_db.cli.app", "worker", "--once", "--job", "nope"],
        env=_cli_env(db.admin_url, tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0 and "no job nope" in done.stderr
