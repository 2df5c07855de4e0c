"""`seed`: fill the primary with a deterministic synthetic data set, with a progress bar per table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from advisoros_db.cli import servers
from advisoros_db.cli.output import JsonOption, command, console, hide_progress, print_json

if TYPE_CHECKING:
    from rich.progress import Progress

app = typer.Typer()

ScaleOption = Annotated[
    str, typer.Option("--scale", help="Data set size: tiny, small, medium or large.")
]


def progress_bar(quiet: bool) -> Progress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn("{task.description:<46}"),
        BarColumn(),
        MofNCompleteColumn(),
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
    json_out: JsonOption = False,
) -> None:
    """Generate realistic data for every table and bulk-load it through the primary."""
    from rich.table import Table

    from advisoros_db import datagen  # numpy and Faker: only when run

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
        f"[bold]{report.rows_per_second:,.0f} rows/s[/] overall"
    )
    for name, why in report.skipped.items():
        console.print(f"[dim]{name}: not generated ({why})[/]")
