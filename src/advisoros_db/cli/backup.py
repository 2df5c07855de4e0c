"""`backup create|list|verify|restore|prune|stream`: encrypted backups and point-in-time restore."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from advisoros_db import targets
from advisoros_db.backup import BackupError, Backups, Target, parse_time
from advisoros_db.cli.output import JsonOption, command, console, print_json
from advisoros_db.settings import Settings, get_settings

app = typer.Typer(help="Encrypted base backups, the WAL archive, point-in-time restore.")


def backups_for(settings: Settings, *, start: bool) -> Backups:
    """The deployment's backups. `start`: bring the embedded cluster up (backups need the
    server); without it the cluster is only read from disk, so a restore works with it down."""
    if start or not settings.uses_embedded:
        return Backups.from_settings(settings, targets.resolve(settings))
    cluster = targets.embedded_cluster(settings)
    info = cluster.info()
    target = targets.Target(admin_url=info.primary_url, app_url=info.app_url, cluster=cluster)
    return Backups.from_settings(settings, target)


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


@app.command()
@command
def create(
    incremental: Annotated[
        bool, typer.Option(help="Copy only blocks changed since the last backup (PG 17+).")
    ] = False,
    max_rate: Annotated[
        str | None, typer.Option(help="Throttle the copy, as pg_basebackup --max-rate (e.g. 10M).")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Take a base backup (starting the WAL stream if it is not running), encrypted at rest."""
    record = backups_for(get_settings(), start=True).create(
        incremental=incremental, max_rate=max_rate
    )
    if json_out:
        print_json(record.to_json())
        return
    console.print(
        f"backup {record.id} ({record.kind}"
        + (f" on {record.parent}" if record.parent else "")
        + f"): {_mb(record.size_bytes)} encrypted, WAL {record.start_lsn}..{record.end_lsn}"
    )


@app.command("list")
@command
def list_(json_out: JsonOption = False) -> None:
    """Every backup: kind, state, when, size, WAL range."""
    records = backups_for(get_settings(), start=False).list()
    if json_out:
        print_json([r.to_json() for r in records])
        return
    table = Table(title="backups")
    for column in ("id", "kind", "parent", "status", "finished", "size", "WAL", "verified"):
        table.add_column(column)
    for r in records:
        table.add_row(
            r.id,
            r.kind,
            r.parent or "",
            r.status if r.status != "failed" else f"failed: {r.error}",
            r.finished_at or "",
            _mb(r.size_bytes),
            f"{r.start_lsn or '?'}..{r.end_lsn or '?'}",
            r.verified_at or "",
        )
    console.print(table)


@app.command()
@command
def verify(backup_id: Annotated[str, typer.Argument(help="Backup to verify.")]) -> None:
    """pg_verifybackup on the backup (and its chain), then a throwaway restore that must start
    and pass pg_amcheck."""
    result = backups_for(get_settings(), start=False).verify(backup_id)
    console.print(
        f"backup {backup_id}: pg_verifybackup passed for {', '.join(result.checked)}; "
        f"the restored copy started; {result.amcheck}"
    )


@app.command()
@command
def restore(
    *,
    to: Annotated[Path, typer.Option("--to", help="New folder: gets data/ and postgres.log.")],
    backup_id: Annotated[str | None, typer.Argument(help="Backup to start from.")] = None,
    latest: Annotated[
        bool, typer.Option("--latest", help="Start from the newest backup the target allows.")
    ] = False,
    target_time: Annotated[
        str | None, typer.Option(help="Replay up to this time (ISO 8601; no zone means UTC).")
    ] = None,
    target_lsn: Annotated[str | None, typer.Option(help="Replay up to this WAL position.")] = None,
    start: Annotated[
        bool, typer.Option("--start", help="Leave the restored server running.")
    ] = False,
) -> None:
    """Restore a backup into a new folder and replay the archived WAL to a point in time."""
    if (backup_id is None) == (not latest):
        raise BackupError("give a backup ID or --latest (one of them)")
    if target_time is not None and target_lsn is not None:
        raise BackupError("give --target-time or --target-lsn, not both")
    target = Target(
        time=parse_time(target_time) if target_time else None,
        lsn=target_lsn,
    )
    restored = backups_for(get_settings(), start=False).restore(
        to, backup_id=backup_id, target=target, keep_running=start
    )
    console.print(
        f"restored backup {restored.backup_id} into {restored.node.data_dir}, replayed to "
        f"{target.describe()}"
    )
    if start:
        console.print(f"running on 127.0.0.1:{restored.node.port} (pid in data/postmaster.pid)")
    else:
        console.print(
            f"stopped; start it with pg_ctl -D {restored.node.data_dir} start "
            f"(its port, {restored.node.port}, is in data/advisoros.conf)"
        )


@app.command()
@command
def prune(
    dry_run: Annotated[bool, typer.Option(help="Only show what would be removed.")] = False,
) -> None:
    """Remove backups and WAL not needed to restore to any point in the recovery window."""
    backups = backups_for(get_settings(), start=False)
    plan = backups.prune(dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    console.print(
        f"recovery window {backups.window / dt.timedelta(days=1):g} days: keeping "
        f"{', '.join(plan.keep) or 'nothing'}; {verb} {', '.join(plan.remove) or 'nothing'}"
    )


@app.command()
@command
def stream(
    stop: Annotated[bool, typer.Option("--stop", help="Stop the WAL streamer.")] = False,
) -> None:
    """Start (or stop) the background process streaming WAL into the encrypted archive."""
    settings = get_settings()
    backups = backups_for(settings, start=not stop)
    if stop:
        backups.stop_streaming()
        console.print("WAL streamer stopped (the segment in progress was encrypted)")
        return
    state = backups.stream()
    console.print(f"WAL streams from {state.source} into {backups.repo.wal} (pid {state.pid})")


@app.command()
@command
def health(json_out: JsonOption = False) -> None:
    """Age of the last good backup, WAL streaming, newest restorable point; exit 1 when stale."""
    report = backups_for(get_settings(), start=False).health()
    if json_out:
        print_json(report)
    else:
        console.print(
            f"last good backup: {report['last_good_backup'] or 'none'}; WAL streaming: "
            f"{'yes' if report['wal_streaming'] else 'NO'}; newest restorable LSN: "
            f"{report['newest_restorable_lsn'] or '-'}"
        )
        for warning in report["warnings"]:
            console.print(f"[yellow]warning:[/] {warning}")
    if report["stale"]:
        raise typer.Exit(1)
