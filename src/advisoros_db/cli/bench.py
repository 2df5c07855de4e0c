"""`bench`: measure every case on the optimized schema and the naive baseline, write the report."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from advisoros_db.cli import servers
from advisoros_db.cli.output import JsonOption, command, console, hide_progress, print_json
from advisoros_db.cli.seed import ScaleOption, progress_bar

if TYPE_CHECKING:
    from advisoros_db.bench.cases import CaseResult

app = typer.Typer()


@app.command()
@command
def bench(
    *,
    scale: ScaleOption = "tiny",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder for bench.json, report.md and charts (default docs/bench/SCALE, or "
            "docs/bench/SCALE-partial with --only).",
            file_okay=False,
        ),
    ] = None,
    seed_value: Annotated[int, typer.Option("--seed", help="Seed of the data set.")] = 42,
    reseed: Annotated[
        bool, typer.Option("--reseed", help="Load the data set again even if it is there.")
    ] = False,
    measure_limit: Annotated[
        bool,
        typer.Option(
            "--measure-limit",
            help="When loading, also measure the server's ingest limit (the rows loaded again "
            "from files) and report the loader's rate as a share of it.",
        ),
    ] = False,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            metavar="PATTERN",
            help="Measure only the cases whose name matches (shell-style, repeatable: "
            "--only 'documents.*search*'; another area's case is <module>.<case>) on the data "
            "set already loaded; the report says it is a partial run.",
        ),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Load (or reuse) data at a scale, then measure each case side by side against a naive baseline."""
    from advisoros_db import bench as benchmark  # numpy, Faker and matplotlib: only when run
    from advisoros_db import datagen
    from advisoros_db.datagen.room import ensure_room

    size = datagen.get_scale(scale)
    if only and (reseed or measure_limit):
        raise typer.BadParameter(
            "--only re-measures cases on the data set already loaded and loads nothing: drop "
            "--reseed and --measure-limit, or run the full benchmark to reload"
        )
    # A partial run never overwrites the full report by default.
    folder = out or Path("docs/bench") / (f"{scale}-partial" if only else scale)
    target = servers.target()
    if target.cluster is not None:  # a configured server's disk is its operator's to size
        ensure_room(
            target.cluster.home, size, len(target.cluster.nodes()), measure_limit=measure_limit
        )

    def case_done(result: CaseResult, i: int, total: int) -> None:
        if json_out:
            return
        if result.skipped:
            console.print(f"[{i}/{total}] {result.name}: [yellow]skipped[/] ({result.skipped})")
            return
        ratio = result.ratio_p50
        p95 = result.optimized.p95 if result.optimized else float("nan")
        console.print(
            f"[{i}/{total}] {result.name}: optimized p95 {p95:.2f} ms"
            + (f", {ratio:.1f}x faster than naive" if ratio else "")
        )

    with progress_bar(hide_progress(json_out)) as progress:
        report = benchmark.run(
            target.admin_url,
            scale=scale,
            seed=seed_value,
            app_url=target.tenant_url,
            replica_urls=target.replica_urls,
            notify=lambda msg: None if json_out else console.print(msg),
            on_case=case_done,
            reseed=reseed,
            progress=progress,
            measure_limit=measure_limit,
            only=only or (),
        )
    data = report.as_dict()
    written = benchmark.write(data, folder, "advisoros-db " + shlex.join(sys.argv[1:]))
    if json_out:
        print_json({**data, "files": [str(p) for p in written]})
        return
    for key, goal in data["goals"].items():
        met = sum(1 for c in goal["cases"] if c["met"])
        console.print(f"goal {key} ({goal['goal']}): {met} of {len(goal['cases'])} met")
    console.print(f"wrote {', '.join(str(p) for p in written)}")
