"""A worker whose one job waits on an advisory lock the test holds, run as its own process
(`python -m tests.worker.blocking URL once|loop`) so the test can kill or SIGTERM it mid-job."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import psycopg

from advisoros_db.ops.worker import Job, JobContext, Worker
from advisoros_db.ops.worker.scheduler import Stopped

GATE = 0x7E57
STEPS = "CREATE TABLE IF NOT EXISTS worker_steps (step text NOT NULL, at timestamptz DEFAULT now())"


def gated(ctx: JobContext) -> dict[str, Any]:
    """Step one, then wait for the gate, then step two (unless the worker is stopping)."""
    with psycopg.connect(ctx.admin_url, autocommit=True, application_name="gated-job") as conn:
        conn.execute("INSERT INTO worker_steps (step) VALUES ('started')")
        conn.execute("SELECT pg_advisory_lock(%s)", (GATE,))
        conn.execute("SELECT pg_advisory_unlock(%s)", (GATE,))
        if ctx.should_stop():
            raise Stopped("stopped before the second step")
        conn.execute("INSERT INTO worker_steps (step) VALUES ('finished')")
    return {"finished": True}


JOB = Job("gated", dt.timedelta(hours=1), gated)


def main() -> None:
    url, mode = sys.argv[1], sys.argv[2]
    worker = Worker(url, [JOB], name=f"gated-{mode}")
    worker.install_signal_handlers()
    if mode == "once":
        worker.run_due()
    else:
        worker.run_forever(0.2)


if __name__ == "__main__":
    main()
