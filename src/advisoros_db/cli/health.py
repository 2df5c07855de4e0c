"""`health`: probe every node once and print where reads would go."""

from __future__ import annotations

import psycopg
import typer
from rich.table import Table

from advisoros_db.cli.output import JsonOption, command, console, print_json
from advisoros_db.embedded import existing
from advisoros_db.partitioning import RollbackWindow, open_windows_at
from advisoros_db.routing import Router, RouterOptions
from advisoros_db.settings import Settings, get_settings
from advisoros_db.targets import NO_DATABASE, NoDatabaseConfigured, Target, configured

app = typer.Typer()


def _what_is_there(settings: Settings) -> Target:
    """The configured servers, else the embedded cluster as it is: `health` never starts or
    restarts a server (a stopped primary is reported down), even with `--embedded`."""
    if settings.database_url is not None:
        return configured(settings)
    found = existing(settings)
    if found is None:
        raise NoDatabaseConfigured(NO_DATABASE)
    return found


def _windows(admin_url: str) -> list[RollbackWindow]:
    """Open partition rollback windows (each doubles a table's writes); none if the primary is
    unreachable (the node table already says so)."""
    try:
        return open_windows_at(admin_url)
    except psycopg.OperationalError:
        return []


@app.command()
@command
def health(json_out: JsonOption = False) -> None:
    """Probe the primary and every replica once: role, lag, latency, usable for reads."""
    settings = get_settings()
    target = _what_is_there(settings)
    with Router.for_target(target, RouterOptions.from_settings(settings), monitor=False) as router:
        report = router.health()
    windows = _windows(target.admin_url)
    if json_out:
        shown = {k: v for k, v in report.items() if k != "counters"}
        print_json({**shown, "rollback_windows": [w.as_dict() for w in windows]})
    else:
        table = Table(title="advisoros-db nodes")
        for column in ("name", "role", "port", "healthy", "reads", "lag s", "latency ms", "note"):
            table.add_column(column)
        for node in report["nodes"]:
            table.add_row(
                node["name"],
                node["server_role"] or node["routing_role"],
                str(node["port"]),
                "yes" if node["healthy"] else "NO",
                "yes" if node["usable_for_reads"] else "no",
                "-" if node["lag_seconds"] is None else f"{node['lag_seconds']:.3f}",
                "-" if node["latency_ms"] is None else f"{node['latency_ms']:.1f}",
                node["warning"] or node["last_error"] or node["eject_reason"] or "",
            )
        console.print(table)
        if report["reads_on_primary"]:
            console.print("[yellow]no replica is usable: reads go to the primary[/]")
        for window in windows:
            console.print(f"[yellow]warning:[/] {window.warning()}", highlight=False)
    if not report["primary"]["available"]:
        raise typer.Exit(1)
