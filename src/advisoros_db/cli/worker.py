"""`worker [--once]`: run the upkeep jobs on their schedules, recording runs in job_executions."""

from __future__ import annotations

from typing import Annotated

import typer

from advisoros_db.cli import servers
from advisoros_db.cli.output import JsonOption, command, console, print_json

app = typer.Typer()


@app.command()
@command
def worker(
    once: Annotated[
        bool, typer.Option(help="Run every due job once, then exit (for cron).")
    ] = False,
    job: Annotated[
        list[str] | None, typer.Option(help="Only this job (repeatable); default: all.")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Run partition maintenance, ANALYZE of new partitions, retention and a nightly insights
    check on their schedules. Safe to run on several hosts; SIGTERM stops at a step boundary."""
    from advisoros_db.ops.worker import Worker, default_jobs
    from advisoros_db.settings import get_settings

    settings = get_settings()
    jobs = default_jobs()
    if job:
        unknown = set(job) - {j.name for j in jobs}
        if unknown:
            raise typer.BadParameter(
                f"no job {', '.join(sorted(unknown))}; jobs: {', '.join(j.name for j in jobs)}"
            )
        jobs = [j for j in jobs if j.name in job]
    runner = Worker(servers.target(settings).admin_url, jobs, settings=settings)
    runner.install_signal_handlers()
    if not once:
        console.print(
            f"worker {runner.name}: {len(jobs)} jobs, looking every {settings.worker_poll_s:g} s"
        )
        runner.run_forever(settings.worker_poll_s)
        return
    outcomes = runner.run_due()
    if json_out:
        print_json([o.__dict__ for o in outcomes])
        return
    for o in outcomes:
        console.print(f"{o.job}: {o.status}" + (f" ({o.detail})" if o.status == "failed" else ""))
