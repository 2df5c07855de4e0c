"""The `advisoros-db` Typer application: each capability registers its commands here."""

from __future__ import annotations

import typer

from advisoros_db.cli import (
    audit,
    backup,
    bench,
    cluster,
    embed,
    failover,
    health,
    insights,
    migrations,
    partitions,
    search,
    seed,
    serve,
    tour,
    worker,
)

app = typer.Typer(
    name="advisoros-db",
    help="The AdvisorOS PostgreSQL data layer: cluster, migrations, partitions, routing, search.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.registered_commands += cluster.app.registered_commands
app.registered_commands += tour.app.registered_commands
app.registered_commands += migrations.app.registered_commands
app.registered_commands += seed.app.registered_commands + bench.app.registered_commands
app.registered_commands += health.app.registered_commands + serve.app.registered_commands
app.registered_commands += embed.app.registered_commands
app.registered_commands += failover.app.registered_commands
app.add_typer(partitions.app, name="partitions")
app.add_typer(backup.app, name="backup")
app.add_typer(search.app, name="search")
app.add_typer(audit.app, name="audit")
app.add_typer(insights.app, name="insights")
app.registered_commands += worker.app.registered_commands


def main() -> None:
    app()


if __name__ == "__main__":
    main()
