"""`partitions maintain|archive|stats|convert|rollback|finalize`: thin shells over advisoros_db.partitioning."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Annotated

import typer

from advisoros_db.cli import servers
from advisoros_db.cli.output import (
    JsonOption,
    cell,
    command,
    console,
    fail,
    hide_progress,
    id_column,
    print_json,
)

app = typer.Typer(no_args_is_help=True, help="Partitioned audit_logs and documents.")

TableArgument = Annotated[str, typer.Argument(help="audit_logs or documents")]
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """'90s', '15m', '1h', '1d' in seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", text)
    if match is None or float(match.group(1)) <= 0:
        raise typer.BadParameter(f"{text!r} is not a duration; write e.g. 30s, 15m, 1h or 1d")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _admin_url() -> str:
    return servers.target().admin_url


@app.command()
@command
def maintain(
    every: Annotated[
        str | None, typer.Option(help="Keep running, one pass per DURATION (30s, 15m, 1h, 1d).")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Keep a runway of future partitions, analyze the parents, report the runway and warnings."""
    from advisoros_db import partitioning

    interval = parse_duration(every) if every else None
    url = _admin_url()
    while True:
        report = partitioning.maintain(url)
        if json_out:
            print_json(report.as_dict())
        elif not report.ran:
            console.print("another maintainer holds the lock; nothing done")
        else:
            for table in report.tables:
                created = ", ".join(table.created) or "none"
                console.print(
                    f"[bold]{table.table}[/]: runway {table.runway[0] if table.runway else '-'} .. "
                    f"{table.runway[-1] if table.runway else '-'}; created {created}; "
                    f"{table.default_rows} rows in default"
                )
                for warning in table.warnings:
                    console.print(f"[yellow]warning:[/] {warning}")
        if interval is None:
            return
        time.sleep(interval)


@app.command()
@command
def archive(
    table: Annotated[
        str, typer.Argument(help="audit_logs (by month) or documents (by tax year)")
    ] = ("audit_logs"),
    keep_months: Annotated[
        int | None,
        typer.Option(help="Months of audit logs to keep attached (0-1200).", min=0, max=1200),
    ] = None,
    keep_years: Annotated[
        int | None,
        typer.Option(help="Tax years of documents to keep besides the current one.", min=0),
    ] = None,
    export: Annotated[
        Path | None,
        typer.Option(help="Export each archived partition to DIR, verify it, then drop the table."),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Detach audit-log months older than --keep-months, or document tax years older than
    --keep-years, into the archive schema (with --export: to verified files, then dropped)."""
    from advisoros_db import partitioning

    done = partitioning.archive(
        _admin_url(),
        keep_months=keep_months,
        keep_years=keep_years,
        export_dir=export,
        spec=partitioning.spec_for(table),
    )
    if json_out:
        print_json([a.__dict__ for a in done])
        return
    if not done:
        console.print("nothing to archive")
    for item in done:
        where = f"exported to {item.file}, dropped" if item.dropped else "kept in schema archive"
        console.print(f"{item.partition}: {item.rows} rows, {where}")


@app.command()
@command
def restore(
    file: Annotated[
        Path, typer.Argument(help="An exported .copy file (its .json manifest beside it).")
    ],
    schema: Annotated[str, typer.Option(help="Schema to restore the table into.")] = "archive",
    json_out: JsonOption = False,
) -> None:
    """Load an archived month or tax year back from its export, checking sha256 and row checksum."""

    from advisoros_db import partitioning, pooler

    if not file.is_file() or not file.with_suffix(".json").is_file():
        fail(
            f"{file} or its manifest {file.with_suffix('.json')} is missing; give an exported .copy file"
        )
    with pooler.connect(_admin_url(), autocommit=True) as conn:
        rows, checksum = partitioning.restore(conn, file, schema=schema)
    if json_out:
        print_json({"file": str(file), "schema": schema, "rows": rows, "checksum": checksum})
    else:
        console.print(f"restored {rows} rows into schema {schema} (checksum {checksum})")


@app.command()
@command
def stats(json_out: JsonOption = False) -> None:
    """Rows, size, bounds and last analyze of every partition."""
    from rich.table import Table

    from advisoros_db import partitioning

    rows = partitioning.stats(_admin_url())
    if json_out:
        print_json(rows)
        return
    windows = partitioning.open_windows_at(_admin_url())
    table = Table(title="partitions")
    id_column(table, "parent", (row["parent_table"] for row in rows))
    id_column(table, "partition", (row["partition_name"] for row in rows))
    for column in ("rows", "size"):
        table.add_column(column, justify="right")
    table.add_column("bounds", overflow="fold", ratio=1)
    table.add_column("last analyze")
    for row in rows:
        table.add_row(
            row["parent_table"],
            row["partition_name"],
            cell(row["row_estimate"]),
            cell(row["total_size"]),
            cell(row["bounds"]),
            str(row["last_analyze"] or row["last_autoanalyze"] or "never"),
        )
    console.print(table)
    for window in windows:
        console.print(f"[yellow]warning:[/] {window.warning()}")


@app.command()
@command
def convert(
    table: TableArgument,
    batch_size: Annotated[int, typer.Option(help="Rows per backfill batch.", min=1)] = 5000,
    pause_ms: Annotated[
        int, typer.Option(help="Pause between batches, to spare a busy primary.", min=0)
    ] = 0,
    repair: Annotated[
        bool, typer.Option(help="First re-copy the id ranges the last verify found different.")
    ] = False,
    json_out: JsonOption = False,
) -> None:
    """Convert a populated table online (resumable): prepare, sync, backfill, verify, swap."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from advisoros_db import partitioning, pooler
    from advisoros_db.partitioning import convert as conversion

    spec = partitioning.spec_for(table)
    started = time.perf_counter()
    url = _admin_url()
    with conversion.exclusive(url, table), pooler.connect(url, autocommit=True) as conn:
        if repair:
            console.print(f"re-copied {conversion.repair(conn, spec)} rows")
        with Progress(
            TextColumn("backfill {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:>10,.0f} rows/s"),
            TimeElapsedColumn(),
            console=console,
            disable=hide_progress(json_out),
        ) as bar:
            task = bar.add_task(table, total=None, rate=0.0)

            def progress(done: int, total: int) -> None:
                elapsed = max(time.perf_counter() - started, 1e-9)
                bar.update(task, completed=done, total=total, rate=done / elapsed)

            result = conversion.run(
                conn, spec, batch_size=batch_size, progress=progress, pause_s=pause_ms / 1000
            )
        current = conversion.state(conn, table)
    if result is None:
        fail(
            f"{table} is already swapped (phase {current.phase if current else '?'}); "
            f"use `partitions rollback {table}` or `partitions finalize {table}`"
        )
    payload = {
        "table": table,
        "phase": current.phase if current else None,
        "rows_copied": current.rows_copied if current else 0,
        "swap_lock_ms": round(result.lock_ms, 2),
    }
    if json_out:
        print_json(payload)
    else:
        console.print(
            f"{table} swapped in {result.lock_ms:.1f} ms; {payload['rows_copied']} rows copied. "
            f"The plain table stays as {spec.old_name} until `partitions finalize {table}`"
        )


@app.command()
@command
def rollback(table: TableArgument, json_out: JsonOption = False) -> None:
    """Swap the plain table back in (during the rollback window)."""
    from advisoros_db import partitioning, pooler
    from advisoros_db.partitioning import convert as conversion

    spec = partitioning.spec_for(table)
    url = _admin_url()
    with conversion.exclusive(url, table), pooler.connect(url, autocommit=True) as conn:
        result = conversion.rollback(conn, spec)
    if json_out:
        print_json({"table": table, "partitioned": False, "swap_lock_ms": round(result.lock_ms, 2)})
        return
    console.print(f"{table} is plain again (swap took {result.lock_ms:.1f} ms)")


@app.command()
@command
def finalize(table: TableArgument, json_out: JsonOption = False) -> None:
    """End the rollback window: drop the plain table kept since the swap."""

    from advisoros_db import partitioning, pooler
    from advisoros_db.partitioning import convert as conversion

    spec = partitioning.spec_for(table)
    url = _admin_url()
    with conversion.exclusive(url, table), pooler.connect(url, autocommit=True) as conn:
        conversion.finalize(conn, spec)
    if json_out:
        print_json({"table": table, "partitioned": True, "dropped": spec.old_name})
        return
    console.print(f"dropped {spec.old_name}; {table} is partitioned for good")
