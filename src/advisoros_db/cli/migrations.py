"""`migrate`, `rollback`, `current`, `history`, `check`: thin shells over advisoros_db.migrations."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from advisoros_db.cli import servers
from advisoros_db.cli.output import (
    JsonOption,
    command,
    console,
    err_console,
    fail,
    print_json,
)

app = typer.Typer()

AppMigrationsOption = Annotated[
    Path | None,
    typer.Option(
        "--app-migrations",
        help="Folder of the application's own revisions, on top of the library's "
        "(default: ADVISOROS_APP_MIGRATIONS).",
    ),
]


def _admin_url() -> str:
    return servers.target().admin_url


def _app(folder: Path | None) -> Path | None:
    from advisoros_db.settings import get_settings

    return folder if folder is not None else get_settings().app_migrations


def _at(url: str, json_out: bool, **fields: object) -> None:
    """Say which revision the database is at after a change."""
    from advisoros_db import migrations

    revision = migrations.current(url)
    if json_out:
        print_json({**fields, "revision": revision})
    else:
        console.print(f"database at {revision or 'base'}")


@app.command()
@command
def migrate(
    to: Annotated[str, typer.Option("--to", help="Target revision (default: head).")] = "head",
    sql: Annotated[
        bool, typer.Option("--sql", help="Print the SQL instead of running it (no connection).")
    ] = False,
    json_out: JsonOption = False,
    app_migrations: AppMigrationsOption = None,
) -> None:
    """Upgrade the database to a revision (head: the library's and the application's newest),
    or print that upgrade's SQL for review."""
    from advisoros_db import migrations

    folder = _app(app_migrations)
    if sql:
        script = migrations.upgrade_sql(to, app_migrations=folder)
        if json_out:
            print_json({"target": to, "sql": script})
        else:
            sys.stdout.write(script)
        return
    url = _admin_url()
    before = migrations.current(url)
    migrations.upgrade(url, to, on_wait=_say_waiting, app_migrations=folder)
    _at(url, json_out, action="upgrade", target=to, before=before)


def _say_waiting() -> None:
    err_console.print(
        "another migrate or rollback is running on this database; waiting for it to finish"
    )


@app.command()
@command
def rollback(
    to: Annotated[str | None, typer.Option("--to", help="Revision to roll back to.")] = None,
    steps: Annotated[
        int | None,
        typer.Option("--steps", help="Number of revisions to roll back.", min=1, max=1000),
    ] = None,
    yes: Annotated[
        bool,
        typer.Option("--yes", help="Roll back even if that drops tables holding rows."),
    ] = False,
    json_out: JsonOption = False,
    app_migrations: AppMigrationsOption = None,
) -> None:
    """Downgrade the database to a revision (--to) or by a number of revisions (--steps, the
    application's revisions first).

    A rollback that would drop tables holding rows is refused, listing them, unless --yes.
    """
    from advisoros_db import migrations

    if (to is None) == (steps is None):
        fail("give exactly one of --to REV or --steps N", code=2, kind="usage")
    folder = _app(app_migrations)
    url = _admin_url()
    before = migrations.current(url)
    if to is not None:
        done = migrations.downgrade(
            url, to, confirm=yes, on_wait=_say_waiting, app_migrations=folder
        )
    else:
        assert steps is not None
        done = migrations.downgrade_steps(
            url, steps, confirm=yes, on_wait=_say_waiting, app_migrations=folder
        )
    if json_out:
        print_json(
            {
                "action": "downgrade",
                "target": to,
                "steps": steps,
                "before": before,
                "undone": list(done.undone),
                "revision": done.at,
            }
        )
        return
    if done.undone:
        console.print(f"undid {', '.join(done.undone)}", highlight=False, soft_wrap=True)
    console.print(f"database at {done.at or 'base'}", highlight=False)


@app.command()
@command
def current(json_out: JsonOption = False) -> None:
    """The revision the database is at."""
    from advisoros_db import migrations

    revision = migrations.current(_admin_url())
    if json_out:
        print_json({"revision": revision})
    else:
        console.print(revision or "base")


@app.command()
@command
def history(json_out: JsonOption = False, app_migrations: AppMigrationsOption = None) -> None:
    """Every revision, from base to head (no connection)."""
    from advisoros_db import migrations

    rows = migrations.history(app_migrations=_app(app_migrations))
    if json_out:
        print_json([{"revision": r, "down_revision": d, "message": m} for r, d, m in rows])
        return
    for revision, _down, message in rows:
        console.print(
            f"{revision}  {message.splitlines()[0] if message else ''}",
            highlight=False,
            soft_wrap=True,
        )


@app.command()
@command
def check(
    json_out: JsonOption = False,
    app_migrations: AppMigrationsOption = None,
    app_metadata: Annotated[
        str | None,
        typer.Option(
            "--app-metadata",
            help="The application's models as package.module:attribute, compared too "
            "(default: ADVISOROS_APP_METADATA).",
        ),
    ] = None,
) -> None:
    """Compare the models with the database; exit 1 and list the differences if they disagree."""
    from advisoros_db import migrations
    from advisoros_db.settings import get_settings

    spec = app_metadata if app_metadata is not None else get_settings().app_metadata
    lines = migrations.drift(
        _admin_url(),
        app_migrations=_app(app_migrations),
        app_metadata=migrations.load_metadata(spec),
    )
    if json_out:
        print_json({"drift": lines})
    elif lines:
        console.print("[bold red]models and database disagree:[/]")
        for line in lines:
            console.print(f"  - {line}", highlight=False, soft_wrap=True)
    else:
        console.print("no drift: the database matches the models")
    if lines:
        raise typer.Exit(1)
