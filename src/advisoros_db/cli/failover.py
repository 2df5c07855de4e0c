"""`failover` and `rejoin`: disaster recovery of the embedded cluster."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from advisoros_db.cli.output import JsonOption, command, console, print_json

if TYPE_CHECKING:
    from advisoros_db.backup.handover import Reservation

app = typer.Typer()


@app.command()
@command
def failover(
    to: Annotated[
        str | None,
        typer.Option(help="Replica to promote (default: the DR replica, else the least behind)."),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Fence the primary (stopped, read-only if restarted) and promote a replica in its place."""
    from advisoros_db import targets
    from advisoros_db.cluster import failover as failover_ops
    from advisoros_db.errors import ConfigError
    from advisoros_db.settings import get_settings
    from advisoros_db.urls import port_of

    settings = get_settings()
    if not settings.uses_embedded:
        raise ConfigError(
            "failover manages the embedded cluster; for configured servers promote the DR "
            "server with SELECT pg_promote() and point ADVISOROS_DATABASE_URL at it"
        )
    cluster = targets.embedded_cluster(settings)
    dr_port = port_of(settings.dr_url) if settings.dr_url else None
    archiving = settings.backup_encryption_key is not None and settings.backup_repository.exists()
    reservations: list[Reservation] = []
    prepare: Callable[[str], object] | None = None
    if archiving:
        from advisoros_db.cli.backup import backups_for

        archive = backups_for(settings, start=False)

        def reserve(standby_url: str) -> None:
            reservations.append(archive.reserve_on_standby(standby_url))

        prepare = reserve

    result = failover_ops.failover(cluster, to, dr_port=dr_port, prepare=prepare)
    archive_source = None
    if archiving:
        # Built again: the primary, the archive's source, is another node now.
        archive_source = backups_for(settings, start=False).stream().source
    gap = next((r for r in reservations if r.gap), None)
    if json_out:
        print_json(
            {
                "new_primary": result.new_primary,
                "old_primary": result.old_primary,
                "seconds": result.seconds,
                "repointed": result.repointed,
                "wal_archive_source": archive_source,
                "wal_archive_resumes_at": reservations[0].held_from if reservations else None,
                "wal_archive_gap": gap is not None,
            }
        )
        return
    console.print(
        f"{result.new_primary} is the primary ({result.seconds:.1f} s); {result.old_primary} is "
        f"fenced; replicas following: {', '.join(result.repointed) or 'none'}"
    )
    if archive_source is not None:
        console.print(
            f"WAL archive now streams from {archive_source}, from "
            f"{reservations[0].held_from if reservations else 'its slot'}"
        )
    if gap is not None:
        console.print(
            f"warning: the archive ended at {gap.archive_end}, before the WAL the new primary "
            f"still had ({gap.held_from}): take a full backup now"
        )
    console.print(
        f"next: `advisoros-db rejoin {result.old_primary}` to make it a replica, and "
        f"`advisoros-db backup create` (a new timeline starts with a new full backup)"
    )


@app.command()
@command
def rejoin(
    node: Annotated[str, typer.Argument(help="Fenced former primary (or a replica).")],
    json_out: JsonOption = False,
) -> None:
    """pg_rewind a former primary onto the current one and start it as a streaming replica."""
    from advisoros_db import targets
    from advisoros_db.cluster import failover as failover_ops
    from advisoros_db.settings import get_settings

    cluster = targets.embedded_cluster(get_settings())
    seconds = failover_ops.rejoin(cluster, node)
    if json_out:
        print_json({"node": node, "role": "replica", "seconds": seconds})
        return
    console.print(f"{node} streams from the primary again as a replica ({seconds:.1f} s)")
