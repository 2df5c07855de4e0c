"""`GET /`: the operations dashboard, server-rendered (Jinja2, inline SVG; no script), next to
/api/health and /metrics; an optional token guards every path but /api/health."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from advisoros_db.http.charts import Bar, human_bytes, stacked_bars
from advisoros_db.http.health import BackupReport, HealthSource, create_app
from advisoros_db.ops.insights import metrics

Insights = Callable[[], tuple[dict[str, Any], list[dict[str, Any]]]]
"""Collects one insights report and its problems."""

OPEN_PATHS = frozenset({"/api/health"})

_templates = Environment(
    loader=PackageLoader("advisoros_db.http", "templates"),
    autoescape=select_autoescape(["html"]),
)


class _WithInsights:
    """The router's health and metrics, with the insights gauges appended to /metrics."""

    def __init__(self, source: HealthSource, insights: Insights) -> None:
        self.source = source
        self.insights = insights

    def health(self) -> dict[str, Any]:
        return self.source.health()

    def metrics_text(self) -> bytes:
        report, problems = self.insights()
        return self.source.metrics_text() + metrics.render(report, problems)


def _pct(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.1%}"


def render(
    health: dict[str, Any],
    report: dict[str, Any],
    problems: list[dict[str, Any]],
    *,
    min_runway: int,
) -> str:
    tables = report["sizes"]["tables"][:15]
    chart = stacked_bars(
        [Bar(t["table"], (t["table_bytes"], t["index_bytes"])) for t in tables],
        ("table", "indexes"),
        title="Largest tables: table and index bytes",
    )
    counters = [
        (name, labels, value)
        for name, samples in sorted(health.get("counters", {}).items())
        for labels, value in sorted(samples.items())
    ]
    most_used = sorted(report["indexes"]["usage"], key=lambda i: -i["scans"])[:15]
    return _templates.get_template("dashboard.html").render(
        health=health,
        report=report,
        problems=problems,
        size_chart=chart,
        most_used=most_used,
        counters=counters,
        min_runway=min_runway,
        human=human_bytes,
        pct=_pct,
    )


def create_dashboard_app(
    source: HealthSource,
    insights: Insights,
    *,
    token: str | None = None,
    min_runway: int = 2,
    backup: BackupReport | None = None,
) -> FastAPI:
    """The service `advisoros-db serve` runs: `/`, `/api/health`, `/metrics`. With `token`, every
    path but /api/health needs `Authorization: Bearer <token>` (or `?token=<token>`)."""
    app = create_app(_WithInsights(source, insights), backup)

    @app.get("/", response_class=HTMLResponse)
    def dashboard() -> HTMLResponse:
        report, problems = insights()
        return HTMLResponse(render(source.health(), report, problems, min_runway=min_runway))

    if token:
        expected = token.encode()

        @app.middleware("http")
        async def require_token(
            request: Request, call_next: Callable[[Request], Awaitable[Response]]
        ) -> Response:
            if request.url.path in OPEN_PATHS:
                return await call_next(request)
            header = request.headers.get("authorization", "")
            given = (
                header[7:]
                if header.lower().startswith("bearer ")
                else request.query_params.get("token", "")
            )
            if not hmac.compare_digest(given.encode(), expected):
                return PlainTextResponse(
                    "a dashboard token is required: send Authorization: Bearer <token>",
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
            return await call_next(request)

    return app
