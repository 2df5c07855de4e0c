"""`backup create|list|verify|restore|prune|stream`: encrypted backups and point-in-time restore."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from advisoros_db.cli import servers
from advisoros_db.cli.output import JsonOption, cell, command, console, id_column, print_json

if TYPE_CHECKING:
    from advisoros_db.backup import Backups
    from advisoros_db.settings import Settings

app = typer.Typer(help="Encrypted base backups, the WAL archive, point-in-time restore.")


def backups_for(settings: Settings, *, start: bool) -> Backups:
    """The deployment's backups. `start`: bring the embedded cluster up (backups need the
    server); without it the cluster is only read from disk, so a restore works with it down."""
    from advisoros_db import targets
    from advisoros_db.backup import Backups

    if start or not settings.uses_embedded:
        return Backups.from_settings(settings, servers.target(settings))
    cluster = targets.embedded_cluster(settings)
    info = cluster.info()
    target = targets.Target(admin_url=info.primary_url, app_url=info.app_url, cluster=cluster)
    return Backups.from_settings(settings, target)


def _backups(*, start: bool) -> Backups:
    from advisoros_db.settings import get_settings

    return backups_for(get_settings(), start=start)


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
    record = _backups(start=True).create(incremental=incremental, max_rate=max_rate)
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
    records = _backups(start=False).list()
    if json_out:
        print_json([r.to_json() for r in records])
        return
    from rich.table import Table

    table = Table(title="backups")
    id_column(table, "id", (r.id for r in records))
    table.add_column("kind")
    id_column(table, "parent", (r.parent for r in records))
    for column in ("status", "finished", "size", "WAL", "verified"):
        table.add_column(column)
    for r in records:
        table.add_row(
            r.id,
            r.kind,
            cell(r.parent),
            r.status if r.status != "failed" else f"failed: {r.error}",
            cell(r.finished_at),
            _mb(r.size_bytes),
            f"{r.start_lsn or '?'}..{r.end_lsn or '?'}",
            cell(r.verified_at),
        )
    console.print(table)


@app.command()
@command
def verify(
    backup_id: Annotated[str, typer.Argument(help="Backup to verify.")],
    json_out: JsonOption = False,
) -> None:
    """pg_verifybackup on the backup (and its chain), then a throwaway restore that must start
    and pass pg_amcheck."""
    result = _backups(start=False).verify(backup_id)
    if json_out:
        print_json({"backup": backup_id, "checked": result.checked, "amcheck": result.amcheck})
        return
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
    json_out: JsonOption = False,
) -> None:
    """Restore a backup into a new folder and replay the archived WAL to a point in time."""
    from advisoros_db.backup import BackupError, Target, parse_time

    if (backup_id is None) == (not latest):
        raise BackupError("give a backup ID or --latest (one of them)")
    if target_time is not None and target_lsn is not None:
        raise BackupError("give --target-time or --target-lsn, not both")
    target = Target(
        time=parse_time(target_time) if target_time else None,
        lsn=target_lsn,
    )
    restored = _backups(start=False).restore(
        to, backup_id=backup_id, target=target, keep_running=start
    )
    if json_out:
        print_json(
            {
                "backup": restored.backup_id,
                "data_dir": str(restored.node.data_dir),
                "port": restored.node.port,
                "replayed_to": target.describe(),
                "running": start,
            }
        )
        return
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
    json_out: JsonOption = False,
) -> None:
    """Remove backups and WAL not needed to restore to any point in the recovery window."""
    backups = _backups(start=False)
    plan = backups.prune(dry_run=dry_run)
    if json_out:
        print_json(
            {
                "window_days": backups.window / dt.timedelta(days=1),
                "keep": plan.keep,
                "remove": plan.remove,
                "dry_run": dry_run,
            }
        )
        return
    verb = "would remove" if dry_run else "removed"
    console.print(
        f"recovery window {backups.window / dt.timedelta(days=1):g} days: keeping "
        f"{', '.join(plan.keep) or 'nothing'}; {verb} {', '.join(plan.remove) or 'nothing'}"
    )


@app.command()
@command
def stream(
    stop: Annotated[bool, typer.Option("--stop", help="Stop the WAL streamer.")] = False,
    json_out: JsonOption = False,
) -> None:
    """Start (or stop) the background process streaming WAL into the encrypted archive."""
    backups = _backups(start=not stop)
    if stop:
        backups.stop_streaming()
        if json_out:
            print_json({"streaming": False})
            return
        console.print("WAL streamer stopped (the segment in progress was encrypted)")
        return
    state = backups.stream()
    if json_out:
        print_json(
            {"streaming": True, "source": state.source, "wal": backups.repo.wal, "pid": state.pid}
        )
        return
    console.print(f"WAL streams from {state.source} into {backups.repo.wal} (pid {state.pid})")


@app.command()
@command
def reserve(
    standby_url: Annotated[
        str, typer.Argument(help="Superuser URL of the standby you are about to promote.")
    ],
    json_out: JsonOption = False,
) -> None:
    """Before promoting a standby yourself (configured servers): hold its WAL from where the
    archive ends, so `backup stream` on it after the promotion leaves no gap."""
    reservation = _backups(start=False).reserve_on_standby(standby_url)
    if json_out:
        print_json(
            {
                "slot": reservation.slot,
                "held_from": reservation.held_from,
                "archive_end": reservation.archive_end,
                "gap": reservation.gap,
            }
        )
        return
    console.print(
        f"the standby holds WAL from {reservation.held_from} in slot {reservation.slot} "
        f"(the archive ends at {reservation.archive_end or 'nothing yet'})"
    )
    if reservation.gap:
        console.print(
            "warning: it no longer had WAL back to the archive's end: after the "
            "promotion take a full backup"
        )


@app.command()
@command
def health(json_out: JsonOption = False) -> None:
    """Age of the last good backup, WAL streaming, newest restorable point; exit 1 when stale."""
    report = _backups(start=False).health()
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
