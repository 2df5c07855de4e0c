"""`GET /api/health` and `GET /metrics` over a router's health report and Prometheus registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from advisoros_db.backup import health as backup_health

BackupReport = Callable[[], dict[str, Any] | None]


class HealthSource(Protocol):
    """What the endpoints need from a router (Router and AsyncRouter both fit)."""

    def health(self) -> dict[str, Any]: ...

    def metrics_text(self) -> bytes: ...


def create_health_router(source: HealthSource, backup: BackupReport | None = None) -> APIRouter:
    """Routes that report on `source` (and `backup`, whose warnings never fail the check);
    mount them on any FastAPI app."""
    routes = APIRouter()

    @routes.get("/api/health")
    def health() -> JSONResponse:
        """200 when the primary is healthy, 503 otherwise; per-node detail, passwords masked."""
        report = source.health()
        status = 200 if report["primary"]["isHealthy"] else 503
        if backup is not None:
            report = {**report, "backup": backup()}
        return JSONResponse(report, status_code=status)

    @routes.get("/metrics")
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
