"""The scheduler: for each job, take its advisory lock (skip it when another worker holds it),
decide from job_executions whether it is due, run it and record the run."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import threading
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from advisoros_db.errors import AdvisorOSError
from advisoros_db.ops.worker import runs
from advisoros_db.settings import Settings

# Two-key advisory locks (class, hashtext(job name)): the class keeps them apart from anyone
# else's single-key locks, such as partition maintenance's.
JOB_LOCK_CLASS = 0x61647673


class Stopped(AdvisorOSError):
    """A job noticed the worker is stopping and ended between two steps."""


@dataclass
class JobContext:
    """What a job gets: where to work and whether to stop (SIGTERM) at its next step boundary."""

    admin_url: str
    stop: threading.Event
    settings: Settings = field(default_factory=Settings)

    def should_stop(self) -> bool:
        return self.stop.is_set()


@dataclass(frozen=True)
class Job:
    name: str
    every: dt.timedelta
    run: Callable[[JobContext], dict[str, Any]]
    max_attempts: int = 3
    retry_after: dt.timedelta = dt.timedelta(minutes=1)
    """First retry of a failed run waits this long; each further retry waits twice as long."""

    def backoff_s(self, attempt: int) -> float:
        """Wait after failed attempt number `attempt` (1-based), never longer than `every`."""
        wait = self.retry_after.total_seconds() * 2.0 ** (attempt - 1)
        return min(wait, self.every.total_seconds())


@dataclass(frozen=True)
class Outcome:
    job: str
    status: str
    """completed, failed, cancelled, skipped (another worker holds it) or not_due."""
    attempt: int = 0
    detail: Any = None


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def due(job: Job, last: runs.LastRun | None) -> int | None:
    """The attempt number to run now, or None when the job is not due."""
    if last is None:
        return 1
    if last.status == "failed" and last.attempts < last.max_attempts:
        if last.age_s is None or last.age_s >= job.backoff_s(last.attempts):
            return last.attempts + 1
        return None
    if last.status == "cancelled":
        return 1
    if last.age_s is None or last.age_s >= job.every.total_seconds():
        return 1
    return None


class Worker:
    """Runs `jobs` against `admin_url`. Several workers (threads, processes, hosts) may run the
    same jobs: the per-job advisory lock lets one do each run, and due-ness is decided under it."""

    def __init__(
        self,
        admin_url: str,
        jobs: Sequence[Job],
        *,
        settings: Settings | None = None,
        name: str | None = None,
    ) -> None:
        self.admin_url = admin_url
        self.jobs = list(jobs)
        self.settings = settings or Settings()
        self.name = name or worker_id()
        self.stop = threading.Event()

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT ask the worker to stop: the running job ends at its next step
        boundary (recorded `cancelled`, rerun next time) and the loop exits."""

        def handler(signum: int, _frame: object) -> None:
            self.stop.set()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def run_due(self) -> list[Outcome]:
        outcomes = []
        for job in self.jobs:
            if self.stop.is_set():
                break
            outcomes.append(self.run_job(job))
        return outcomes

    def run_forever(self, poll_s: float) -> None:
        while not self.stop.is_set():
            self.run_due()
            self.stop.wait(poll_s)

    def run_job(self, job: Job, *, force: bool = False) -> Outcome:
        with psycopg.connect(
            self.admin_url, autocommit=True, application_name=f"advisoros-worker {job.name}"
        ) as conn:
            got = conn.execute(
                "SELECT pg_try_advisory_lock(%s, hashtext(%s))", (JOB_LOCK_CLASS, job.name)
            ).fetchone()
            if not (got and got[0]):
                return Outcome(job.name, "skipped")
            try:
                return self._locked(conn, job, force=force)
            finally:
                conn.execute(
                    "SELECT pg_advisory_unlock(%s, hashtext(%s))", (JOB_LOCK_CLASS, job.name)
                )

    def _locked(self, conn: psycopg.Connection[Any], job: Job, *, force: bool) -> Outcome:
        try:
            abandoned = runs.abandon_active(conn, job.name)
            last = runs.last_run(conn, job.name)
            if force:
                attempt: int | None = 1
            elif abandoned and last is not None:
                # A run cut short by a dead worker is not the job's failure: rerun it now.
                attempt = last.attempts + 1
            else:
                attempt = due(job, last)
            if attempt is None:
                return Outcome(job.name, "not_due")
            run = runs.start(conn, job.name, self.name, attempt, job.max_attempts)
        except pg_errors.UndefinedTable as exc:
            raise AdvisorOSError(
                "job_executions does not exist in this database: run `advisoros-db migrate` first"
            ) from exc
        except pg_errors.InsufficientPrivilege as exc:
            raise AdvisorOSError(
                "the worker records runs in job_executions with no organization: connect as a "
                f"superuser or a BYPASSRLS role ({exc.diag.message_primary})"
            ) from exc
        context = JobContext(self.admin_url, self.stop, self.settings)
        try:
            result = job.run(context)
        except Stopped as exc:
            runs.finish(conn, run, "cancelled", error=str(exc))
            return Outcome(job.name, "cancelled", attempt, str(exc))
        except Exception as exc:  # a failed job is recorded and retried, never fatal to the worker
            runs.finish(conn, run, "failed", error=str(exc), stack=traceback.format_exc())
            return Outcome(job.name, "failed", attempt, str(exc))
        runs.finish(conn, run, "completed", result=result)
        return Outcome(job.name, "completed", attempt, result)
