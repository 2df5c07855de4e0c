"""`health`: probe every node once and print where reads would go."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from advisoros_db.cli.output import JsonOption, cell, command, console, id_column, print_json

if TYPE_CHECKING:
    from advisoros_db.partitioning import RollbackWindow
    from advisoros_db.settings import Settings
    from advisoros_db.targets import Target

app = typer.Typer()


def _what_is_there(settings: Settings) -> Target:
    """The configured servers, else the embedded cluster as it is: `health` never starts or
    restarts a server (a stopped primary is reported down), even with `--embedded`."""
    from advisoros_db.targets import NO_DATABASE, NoDatabaseConfigured, configured

    if settings.database_url is not None:
        return configured(settings)
    from advisoros_db.embedded import existing

    found = existing(settings)
    if found is None:
        raise NoDatabaseConfigured(NO_DATABASE)
    return found


def _windows(admin_url: str) -> list[RollbackWindow]:
    """Open partition rollback windows (each doubles a table's writes); none if the primary is
    unreachable (the node table already says so)."""
    import psycopg

    from advisoros_db.partitioning import open_windows_at

    try:
        return open_windows_at(admin_url)
    except psycopg.OperationalError:
        return []


def probe() -> tuple[dict[str, Any], list[RollbackWindow]]:
    """Every node probed once, and the open partition rollback windows."""
    from advisoros_db.routing import Router, RouterOptions
    from advisoros_db.settings import get_settings

    settings = get_settings()
    target = _what_is_there(settings)
    with Router.for_target(target, RouterOptions.from_settings(settings), monitor=False) as router:
        report = router.health()
    return report, _windows(target.admin_url)


def as_json(report: dict[str, Any], windows: list[RollbackWindow]) -> dict[str, Any]:
    """What `health --json` prints."""
    shown = {k: v for k, v in report.items() if k != "counters"}
    return {**shown, "rollback_windows": [w.as_dict() for w in windows]}


@app.command()
@command
def health(json_out: JsonOption = False) -> None:
    """Probe the primary and every replica once: role, lag, latency, usable for reads."""
    from rich.table import Table

    report, windows = probe()
    if json_out:
        print_json(as_json(report, windows))
    else:
        table = Table(title="advisoros-db nodes")
        id_column(table, "name", (node["name"] for node in report["nodes"]))
        for column in ("role", "port", "healthy", "reads", "lag s", "latency ms", "note"):
            table.add_column(column)
        for node in report["nodes"]:
            table.add_row(
                node["name"],
                node["server_role"] or node["routing_role"],
                str(node["port"]),
                "yes" if node["healthy"] else "NO",
                "yes" if node["usable_for_reads"] else "no",
                "" if node["lag_seconds"] is None else f"{node['lag_seconds']:.3f}",
                "" if node["latency_ms"] is None else f"{node['latency_ms']:.1f}",
                cell(node["warning"] or node["last_error"] or node["eject_reason"]),
            )
        console.print(table)
        if report["reads_on_primary"]:
            console.print("[yellow]no replica is usable: reads go to the primary[/]")
        for window in windows:
            console.print(f"[yellow]warning:[/] {window.warning()}", highlight=False)
    if not report["primary"]["available"]:
        raise typer.Exit(1)
