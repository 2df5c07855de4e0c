"""`insights [--json]` and `insights check`: thin shells over advisoros_db.ops.insights."""

from __future__ import annotations

from typing import Any

import typer

from advisoros_db.cli import servers
from advisoros_db.cli.output import JsonOption, command, console, id_column, print_json

SHOWN = 25
"""Rows of a long list printed for people; --json has them all."""

app = typer.Typer(help="What the database is doing: indexes, sizes, activity, queries, upkeep.")


def _mib(n: int | None) -> str:
    return "-" if n is None else f"{n / 2**20:,.1f} MiB"


def _report() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from advisoros_db.ops import insights
    from advisoros_db.settings import get_settings

    settings = get_settings()
    report = insights.collect(servers.target(settings).admin_url, settings)
    return report, insights.problems(report, settings)


@app.callback(invoke_without_command=True)
@command
def show(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """Print every section of the report (or `insights check`)."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table

    report, problems = _report()
    if json_out:
        print_json({**report, "problems": problems})
        return
    ix, sz = report["indexes"], report["sizes"]
    console.print(
        f"[bold]{report['database']}[/]: {_mib(sz['database_bytes'])}; tables "
        f"{_mib(sz['table_bytes'])}, indexes {_mib(sz['index_bytes'])}; cache hit "
        f"{sz['cache_hit_ratio']}"
    )
    table = Table(title=f"unused indexes (no scan since {ix['since']})")
    shown = ix["unused"][:SHOWN]
    id_column(table, "table", (i["table"] for i in shown))
    id_column(table, "index", (i["index"] for i in shown))
    table.add_column("size")
    for i in shown:
        table.add_row(i["table"], i["index"], _mib(i["bytes"]))
    console.print(table)
    if len(ix["unused"]) > SHOWN:
        console.print(f"... and {len(ix['unused']) - SHOWN} smaller ones (--json lists all)")
    for i in ix["redundant"]:
        console.print(
            f"{i['kind']} index {i['index']} on {i['table']}: covered by {i['covered_by']}"
        )
    for i in ix["invalid"]:
        console.print(f"[red]invalid index[/] {i['index']} on {i['table']}")
    act = report["activity"]
    console.print(
        f"connections {act['total']} of {act['max_connections']}; blocked {len(act['blocked'])}; "
        f"idle in transaction {len(act['idle_in_transaction'])}; long running "
        f"{len(act['long_running'])}"
    )
    statements = report["statements"]
    if not statements["available"]:
        console.print(f"[yellow]top queries:[/] {statements['hint']}")
    else:
        queries = Table(title="top queries by total time")
        for column in ("calls", "total ms", "mean ms"):
            queries.add_column(column)
        queries.add_column("query", overflow="fold", ratio=1)
        for q in statements["by_total"]:
            queries.add_row(
                str(q["calls"]), f"{q['total_ms']:.1f}", f"{q['mean_ms']:.2f}", q["query"][:120]
            )
        console.print(queries)
    for slot in report["replication"]["slots"]:
        console.print(
            f"slot {slot['slot']}: {'active' if slot['active'] else 'INACTIVE'}, retains "
            f"{_mib(slot['retained_bytes'])}"
        )
    for runway in report["partitions"]["runway"]:
        if runway["partitioned"]:
            console.print(
                f"{runway['table']}: {runway['ahead']} {runway['unit']} of partitions ahead"
            )
    for job in report["jobs"][:10]:
        console.print(
            f"job {job['job']}: {job['status']} at {job['finished_at']} {job['error'] or ''}"
        )
    _print_problems(problems)


def _print_problems(problems: list[dict[str, Any]]) -> None:
    for p in problems:
        console.print(f"[red]problem[/] {p['check']}: {p['message']}", highlight=False)
    if not problems:
        console.print("no problems over their thresholds")


@app.command()
@command
def check(json_out: JsonOption = False) -> None:
    """Exit 1 and list every problem over its threshold (thresholds: ADVISOROS_INSIGHTS_*)."""
    _, problems = _report()
    if json_out:
        print_json(problems)
    else:
        _print_problems(problems)
    if problems:
        raise typer.Exit(1)
