"""`tour`: a short, real walk through what the system does, on the running cluster."""

from __future__ import annotations

import typer

from advisoros_db import migrations, targets
from advisoros_db.cli.output import command, console
from advisoros_db.settings import get_settings
from advisoros_db.urls import mask

app = typer.Typer()


@app.command()
@command
def tour() -> None:
    """Show the cluster, the schema revision, and each capability at work on the demo data."""
    settings = get_settings()
    target = targets.resolve(settings)
    console.rule("1. Servers")
    console.print(f"primary   {mask(target.admin_url)}")
    for url in target.replica_urls:
        console.print(f"replica   {mask(url)}")
    console.rule("2. Schema")
    console.print(f"migrated to revision {migrations.current(target.admin_url) or 'base'}")
