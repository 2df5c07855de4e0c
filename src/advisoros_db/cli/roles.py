"""`roles record-password`: record the application role's password after an operator set it (a
thin shell over advisoros_db.tenancy.password_guard)."""

from __future__ import annotations

import typer

from advisoros_db.cli import servers
from advisoros_db.cli.output import JsonOption, command, console, print_json

app = typer.Typer(no_args_is_help=True, help="The application role's login.")


@app.command("record-password")
@command
def record_password(json_out: JsonOption = False) -> None:
    """Record advisoros_app's current password as the operator's (needs a superuser in
    ADVISOROS_DATABASE_URL). Until then, a login of advisoros_app with a password changed since
    the last record is refused: run this after you set or rotate the password yourself."""
    import psycopg

    from advisoros_db.tenancy.password_guard import record_app_password

    with psycopg.connect(servers.target().admin_url, autocommit=True) as conn:
        recorded = record_app_password(conn)
    if json_out:
        print_json(recorded.as_dict())
    else:
        console.print(recorded.describe())
