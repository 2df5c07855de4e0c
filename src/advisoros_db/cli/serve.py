"""`serve`: the dashboard (`/`), health and metrics over HTTP; loopback unless a token is set."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any

import typer

from advisoros_db.cli import servers
from advisoros_db.cli.output import command, console, fail

app = typer.Typer()

LOOPBACK = "127.0.0.1"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@app.command()
@command
def serve(
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8765,
    host: Annotated[
        str,
        typer.Option(
            help="Address to listen on. Anything but loopback needs ADVISOROS_DASHBOARD_TOKEN."
        ),
    ] = LOOPBACK,
) -> None:
    """Serve the dashboard (GET /), /api/health, /api/health/ready, /api/health/live and /metrics
    (GET and HEAD), on 127.0.0.1 by default."""
    import uvicorn

    from advisoros_db.backup import health as backup_health
    from advisoros_db.http.dashboard import create_dashboard_app  # FastAPI: only when served
    from advisoros_db.ops import insights
    from advisoros_db.routing import Router, RouterOptions
    from advisoros_db.settings import get_settings

    settings = get_settings()
    token = settings.dashboard_token.get_secret_value() if settings.dashboard_token else None
    if not is_loopback(host) and not token:
        fail(
            f"refusing to listen on {host} without a token: set ADVISOROS_DASHBOARD_TOKEN "
            "(every request but /api/health must then carry it), or keep the default 127.0.0.1"
        )
    target = servers.target(settings)

    def collect() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        report = insights.collect(target.admin_url, settings)
        return report, insights.problems(report, settings)

    with Router.for_target(target, RouterOptions.from_settings(settings)) as router:
        web = create_dashboard_app(
            router,
            collect,
            token=token,
            min_runway=settings.insights_min_runway,
            backup=lambda: backup_health.report(settings, target.admin_url),
        )
        console.print(f"serving http://{host}:{port}/ (dashboard), /api/health and /metrics")
        uvicorn.run(web, host=host, port=port, log_level="warning")
