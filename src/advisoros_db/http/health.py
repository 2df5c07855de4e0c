"""Health endpoints over a router's report, and `GET /metrics` over its Prometheus registry.

- `/api/health/live`: liveness, 200 while the process serves requests (it touches no server,
  so a database outage never gets the process restarted).
- `/api/health/ready`: readiness, 200 when writes have a node to go to (the legitimate primary
  answered the last probe) and the report is fresh; 503 otherwise, with the reason.
- `/api/health`: the full report (every node, masked URLs), 200/503 as readiness.

Every route answers HEAD as well as GET (load balancers probe with HEAD).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from advisoros_db.backup import health as backup_health

BackupReport = Callable[[], dict[str, Any] | None]
METHODS = ["GET", "HEAD"]


class HealthSource(Protocol):
    """What the endpoints need from a router (Router and AsyncRouter both fit)."""

    def health(self) -> dict[str, Any]: ...

    def metrics_text(self) -> bytes: ...


def readiness(report: dict[str, Any]) -> tuple[bool, str | None]:
    """Whether the report says the service is ready, and why not."""
    if report.get("stale"):
        return False, f"health report is stale: last probe {report.get('probe_age_s')} s ago"
    if not report["primary"]["available"]:
        warnings = report.get("warnings") or []
        node = report["primary"]["node"]
        return False, "; ".join(warnings) or f"primary {node!r} is not reachable"
    return True, None


def create_health_router(source: HealthSource, backup: BackupReport | None = None) -> APIRouter:
    """Routes that report on `source` (and `backup`, whose warnings never fail the check);
    mount them on any FastAPI app."""
    routes = APIRouter()

    @routes.api_route("/api/health", methods=METHODS)
    def health() -> JSONResponse:
        """200 when ready, 503 otherwise; per-node detail, passwords masked."""
        report = source.health()
        ready, _ = readiness(report)
        if backup is not None:
            report = {**report, "backup": backup()}
        return JSONResponse(report, status_code=200 if ready else 503)

    @routes.api_route("/api/health/ready", methods=METHODS)
    def ready() -> JSONResponse:
        report = source.health()
        ok, reason = readiness(report)
        body = {"ready": ok, "primary": report["primary"], "reason": reason}
        return JSONResponse(body, status_code=200 if ok else 503)

    @routes.api_route("/api/health/live", methods=METHODS)
    def live() -> JSONResponse:
        return JSONResponse({"live": True})

    @routes.api_route("/metrics", methods=METHODS)
    def metrics() -> Response:
        text = source.metrics_text()
        backups = backup() if backup is not None else None
        if backups is not None:
            text += backup_health.metrics_text(backups)
        return Response(text, media_type=CONTENT_TYPE_LATEST)

    return routes


def create_app(source: HealthSource, backup: BackupReport | None = None) -> FastAPI:
    """The service `advisoros-db serve` runs."""
    app = FastAPI(title="advisoros-db", docs_url=None, redoc_url=None)
    app.include_router(create_health_router(source, backup))
    return app
