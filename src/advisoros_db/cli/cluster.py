"""`up`, `down`, `status`: the embedded cluster's lifecycle."""

from __future__ import annotations

from typing import Annotated

import typer

from advisoros_db.cli import lifecycle
from advisoros_db.cli.output import JsonOption, cell, command, console, id_column, print_json

app = typer.Typer()


@app.command()
@command
def up(
    replicas: Annotated[
        int | None, typer.Option(help="Streaming replicas to run (default: settings).", min=0)
    ] = None,
    demo: Annotated[bool, typer.Option("--demo/--no-demo", help="Load demo data.")] = False,
    json_out: JsonOption = False,
) -> None:
    """Start (or reuse) the embedded cluster, migrate it to head, optionally load demo data.

    With ADVISOROS_DATABASE_URL set, nothing is started: the configured servers are migrated."""
    from rich.table import Table

    from advisoros_db import embedded
    from advisoros_db.settings import get_settings
    from advisoros_db.urls import mask

    settings = get_settings()
    wanted = settings.embedded_replicas if replicas is None else replicas
    if settings.database_url is not None:
        target = embedded.resolve(settings)
    else:
        target = embedded.start(settings, replicas=wanted)
    lifecycle.after_up(target, demo=demo, quiet=json_out)
    if json_out:
        # Passwords stay out of the output: they are in the 0600 credentials file (embedded) or
        # the operator's own configuration, never on a terminal, in CI logs or in shell history.
        print_json(
            {
                "primary": mask(target.admin_url),
                "replicas": [mask(url) for url in target.replica_urls],
                "app_url": None if target.app_url is None else mask(target.app_url),
                "embedded": target.embedded,
            }
        )
        return
    table = Table(title="advisoros-db cluster")
    table.add_column("role")
    table.add_column("url")
    table.add_row("primary", mask(target.admin_url))
    for url in target.replica_urls:
        table.add_row("replica", mask(url))
    table.add_row(
        "application role", "not configured" if target.app_url is None else mask(target.app_url)
    )
    console.print(table)


@app.command()
@command
def down(
    destroy: Annotated[bool, typer.Option(help="Also delete all data and credentials.")] = False,
    json_out: JsonOption = False,
) -> None:
    """Stop the embedded cluster (and with --destroy, delete it)."""
    from advisoros_db import embedded
    from advisoros_db.settings import get_settings

    cluster = embedded.embedded_cluster(get_settings())
    if destroy:
        cluster.destroy()
    else:
        cluster.down()
    if json_out:
        print_json({"home": str(cluster.home), "stopped": True, "destroyed": destroy})
    elif destroy:
        console.print(f"destroyed the cluster in {cluster.home}")
    else:
        console.print(f"stopped the cluster in {cluster.home} (data kept)")


@app.command()
@command
def status(json_out: JsonOption = False) -> None:
    """Show every node of the embedded cluster: role, pid, port, replication lag."""
    from rich.table import Table

    from advisoros_db import embedded
    from advisoros_db.backup import health as backup_health
    from advisoros_db.settings import get_settings

    settings = get_settings()
    cluster = embedded.embedded_cluster(settings)
    nodes = cluster.status()
    primary = next((n for n in nodes if n.role == "primary" and n.running), None)
    backups = backup_health.report(settings, cluster.url(primary.name) if primary else None)
    if json_out:
        print_json(
            {
                "home": str(cluster.home),
                "nodes": [
                    {
                        "name": n.name,
                        "role": n.role,
                        "port": n.port,
                        "pid": n.pid,
                        "running": n.running,
                        "in_recovery": n.in_recovery,
                        "lag_bytes": n.lag_bytes,
                        "replay_paused": n.replay_paused,
                        "log_file": str(n.log_file),
                    }
                    for n in nodes
                ],
                "backup": backups,
            }
        )
        return
    if not nodes:
        console.print(f"no cluster in {cluster.home}; run `advisoros-db up`")
        return
    table = Table(title=f"cluster in {cluster.home}")
    id_column(table, "node", (n.name for n in nodes))
    for column in ("role", "port", "pid", "running", "lag (bytes)", "replay"):
        table.add_column(column)
    for n in nodes:
        replay = "" if n.replay_paused is None else ("paused" if n.replay_paused else "streaming")
        table.add_row(
            n.name,
            n.role,
            str(n.port),
            cell(n.pid),
            "yes" if n.running else "no",
            cell(n.lag_bytes),
            replay,
        )
    console.print(table)
    if backups is not None:
        console.print(
            f"last good backup: {backups['last_good_backup'] or 'none'}; WAL streaming: "
            f"{'yes' if backups['wal_streaming'] else 'NO'}"
        )
        for warning in backups["warnings"]:
            console.print(f"[yellow]backup warning:[/] {warning}")
