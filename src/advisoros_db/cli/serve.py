"""`serve`: the health and metrics HTTP service, on loopback only."""

from __future__ import annotations

from typing import Annotated

import typer

from advisoros_db.cli.output import command, console
from advisoros_db.routing import Router, RouterOptions
from advisoros_db.settings import get_settings
from advisoros_db.targets import resolve

app = typer.Typer()

LOOPBACK = "127.0.0.1"


@app.command()
@command
def serve(
    port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1.", min=1, max=65535)] = 8765,
) -> None:
    """Serve GET /api/health and GET /metrics on 127.0.0.1 (never another interface)."""
    import uvicorn

    from advisoros_db.http import create_app  # FastAPI: only when served

    settings = get_settings()
    with Router.for_target(resolve(settings), RouterOptions.from_settings(settings)) as router:
        console.print(f"serving http://{LOOPBACK}:{port}/api/health and /metrics")
        uvicorn.run(create_app(router), host=LOOPBACK, port=port, log_level="warning")
