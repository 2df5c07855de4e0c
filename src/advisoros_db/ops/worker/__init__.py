"""The upkeep worker: jobs on schedules, one runner per job (advisory locks), each run recorded in
job_executions, failed runs retried with backoff."""

from advisoros_db.ops.worker.jobs import default_jobs
from advisoros_db.ops.worker.scheduler import Job, JobContext, Outcome, Worker

__all__ = ["Job", "JobContext", "Outcome", "Worker", "default_jobs"]
