"""What `up` does once the servers run: migrate to head, then optionally load demo data."""

from __future__ import annotations

from advisoros_db import migrations
from advisoros_db.cli.output import console
from advisoros_db.targets import Target


def after_up(target: Target, *, demo: bool, quiet: bool) -> None:
    migrations.upgrade(target.admin_url)
    if not quiet:
        console.print(f"migrated to {migrations.current(target.admin_url) or 'base'}")
    if demo and not quiet:
        console.print("[yellow]demo data arrives with the data generator[/]")
