"""`GET /api/health` and `GET /metrics` over a router's health report and Prometheus registry."""

from __future__ import annotations

from typing import Any, Protocol

from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST


class HealthSource(Protocol):
    """What the endpoints need from a router (Router and AsyncRouter both fit)."""

    def health(self) -> dict[str, Any]: ...

    def metrics_text(self) -> bytes: ...


def create_health_router(source: HealthSource) -> APIRouter:
    """Routes that report on `source`; mount them on any FastAPI app."""
    routes = APIRouter()

    @routes.get("/api/health")
    def health() -> JSONResponse:
        """200 when the primary is healthy, 503 otherwise; per-node detail, passwords masked."""
        report = source.health()
        status = 200 if report["primary"]["isHealthy"] else 503
        return JSONResponse(report, status_code=status)

    @routes.get("/metrics")
    def metrics() -> Response:
        return Response(source.metrics_text(), media_type=CONTENT_TYPE_LATEST)

    return routes


def create_app(source: HealthSource) -> FastAPI:
    """The service `advisoros-db serve` runs."""
    app = FastAPI(title="advisoros-db", docs_url=None, redoc_url=None)
    app.include_router(create_health_router(source))
    return app
