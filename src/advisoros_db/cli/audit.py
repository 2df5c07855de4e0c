"""`audit verify`: prove the audit trail's hash chain (a thin shell over advisoros_db.audit)."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from advisoros_db.cli import servers
from advisoros_db.cli.output import JsonOption, command, console, fail, print_json

app = typer.Typer(no_args_is_help=True, help="The tamper-evident audit trail.")


def _organization(text: str | None) -> uuid.UUID | None:
    if text is None:
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an organization id (a UUID)") from None


@app.command()
@command
def verify(
    org: Annotated[
        str | None, typer.Option("--org", help="Only this organization's chain (its id).")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Recompute every audit entry's hash and link; exit 1 naming the first bad row of each chain."""
    import psycopg

    from advisoros_db import audit

    organization = _organization(org)
    with psycopg.connect(servers.target().admin_url, autocommit=True) as conn:
        report = audit.verify(conn, organization)
    if json_out:
        print_json(report.as_dict())
        if not report.ok:
            raise typer.Exit(1)
        return
    if report.ok:
        console.print(
            f"audit chain verified: {report.rows} entries of {report.organizations} organization(s)"
        )
        return
    fail(
        f"audit chain broken ({len(report.breaks)} organization(s)); first bad entry of each:\n"
        + "\n".join(f"  {b.describe()}" for b in report.breaks)
    )
