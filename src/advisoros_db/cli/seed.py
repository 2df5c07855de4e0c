"""`seed`: fill the primary with a deterministic synthetic data set, with a progress bar per table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import ProgressColumn, Task
from rich.text import Text

from advisoros_db.cli import servers
from advisoros_db.cli.output import JsonOption, command, console, hide_progress, print_json

if TYPE_CHECKING:
    from rich.progress import Progress

app = typer.Typer()

ScaleOption = Annotated[
    str, typer.Option("--scale", help="Data set size: tiny, small, medium or large.")
]


class RateColumn(ProgressColumn):
    """Rows so far, and rows/s and MB/s since the task started (bytes from its `bytes` field)."""

    def render(self, task: Task) -> Text:
        done = f"{task.completed:,.0f}" + (f"/{task.total:,.0f}" if task.total else "")
        elapsed = task.finished_time if task.finished else task.elapsed
        if not elapsed or not task.completed:
            return Text(done)
        mb = task.fields.get("bytes", 0) / 1e6 / elapsed
        rate = f"{task.completed / elapsed:,.0f} rows/s" + (f", {mb:,.1f} MB/s" if mb else "")
        return Text(f"{done}  {rate}")


def progress_bar(quiet: bool) -> Progress:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description:<46}"),
        BarColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=quiet,
    )


@app.command()
@command
def seed(
    *,
    scale: ScaleOption = "tiny",
    orgs: Annotated[
        int | None, typer.Option("--orgs", help="Organizations (default: the scale's).")
    ] = None,
    seed_value: Annotated[int, typer.Option("--seed", help="Same seed, same data.")] = 42,
    replace: Annotated[
        bool, typer.Option("--replace", help="Truncate every table before seeding.")
    ] = False,
    keep_indexes: Annotated[
        bool,
        typer.Option("--keep-indexes", help="Load with indexes in place (to compare the speed)."),
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Processes generating rows (default: one per core); same rows whatever the number.",
        ),
    ] = None,
    measure_limit: Annotated[
        bool,
        typer.Option(
            "--measure-limit",
            help="Then load the same rows again from files, nothing generating: the server's "
            "ingest limit, reported beside the loader's rate.",
        ),
    ] = False,
    json_out: JsonOption = False,
) -> None:
    """Generate realistic data for every table and bulk-load it through the primary."""
    from rich.table import Table

    from advisoros_db import datagen  # numpy and Faker: only when run
    from advisoros_db.datagen.limit import checkpoints

    datagen.get_scale(scale, orgs)  # a bad scale fails before any server starts
    target = servers.target()
    with progress_bar(hide_progress(json_out)) as progress:
        report = datagen.seed(
            target.admin_url,
            scale,
            organizations=orgs,
            seed=seed_value,
            replace=replace,
            keep_indexes=keep_indexes,
            progress=progress,
            measure_limit=measure_limit,
            workers=workers,
        )
    if json_out:
        print_json(report.as_dict())
        return
    table = Table(title=f"seeded scale {report.scale} (seed {report.seed})")
    for col in ("table", "rows", "seconds", "rows/s"):
        table.add_column(col, justify="left" if col == "table" else "right")
    for t in sorted(report.tables, key=lambda t: -t.rows)[:12]:
        table.add_row(t.table, f"{t.rows:,}", f"{t.seconds:.2f}", f"{t.rows_per_second:,.0f}")
    console.print(table)
    console.print(
        f"{report.rows:,} rows in {len(report.tables)} tables, {report.seconds:.1f} s: "
        f"[bold]{report.rows_per_second:,.0f} rows/s[/] overall "
        f"({report.megabytes / report.seconds if report.seconds else 0:,.1f} MB/s of binary COPY "
        f"data, {report.workers} generator processes)"
    )
    if report.limit is not None:
        limit = report.limit
        console.print(
            f"ingest limit (same rows from files, nothing generating): {limit.rows:,} rows in "
            f"{limit.seconds:.1f} s = [bold]{limit.rows_per_second:,.0f} rows/s[/] "
            f"({limit.megabytes:,.0f} MB; COPY {sum(t.copy_seconds for t in limit.tables):.1f} s, "
            f"indexes and foreign keys {sum(t.index_seconds for t in limit.tables):.1f} s summed "
            f"over connections); the loader ran at "
            f"[bold]{report.limit_dict()['percent_of_limit']} %[/] of it"
        )
        console.print(f"[dim]{checkpoints(report.checkpoint_seconds, limit.checkpoint_seconds)}[/]")
    for name, why in report.skipped.items():
        console.print(f"[dim]{name}: not generated ({why})[/]")
