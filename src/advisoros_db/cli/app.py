"""The `advisoros-db` Typer application: each capability registers its commands here.

Command modules import only Typer, Rich and each other at load time; the library (SQLAlchemy,
Alembic, psycopg, numpy, FastAPI...) is imported inside the command that runs, so `--help` starts
fast (tests/cli/test_startup.py holds that).
"""

from __future__ import annotations

from typing import Annotated

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
    output,
    partitions,
    roles,
    search,
    seed,
    serve,
    servers,
    tour,
    worker,
)
from advisoros_db.cli.logs import LogFormat, configure

app = typer.Typer(
    name="advisoros-db",
    help="The AdvisorOS PostgreSQL data layer: cluster, migrations, partitions, routing, search.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def options(
    embedded: Annotated[
        bool,
        typer.Option(
            "--embedded",
            help="Let the command start the embedded cluster when no database URL is set "
            "(without it, only `up` starts servers).",
        ),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also log progress (INFO), e.g. each revision.")
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", help="Only results and errors: no progress bars, no warnings."
        ),
    ] = False,
    log_format: Annotated[
        LogFormat,
        typer.Option("--log-format", help="Log records on stderr as plain text or JSON lines."),
    ] = LogFormat.plain,
) -> None:
    """The AdvisorOS PostgreSQL data layer: cluster, migrations, partitions, routing, search."""
    if verbose and quiet:
        raise typer.BadParameter("give --verbose or --quiet, not both")
    servers.allow_embedded(embedded)
    configure(verbose=verbose, quiet=quiet, fmt=log_format)
    output.set_quiet(quiet)


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
app.add_typer(roles.app, name="roles")
app.add_typer(insights.app, name="insights")
app.registered_commands += worker.app.registered_commands


def main() -> None:
    app()


if __name__ == "__main__":
    main()
