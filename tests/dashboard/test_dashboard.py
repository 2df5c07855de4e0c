"""The dashboard: `GET /` in process and in a real browser against a running cluster, the token
guard, and `serve` refusing a non-loopback address without a token."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from advisoros_db.http.dashboard import create_dashboard_app
from advisoros_db.ops import insights
from advisoros_db.ops.worker import Worker, default_jobs
from advisoros_db.routing import Router, RouterOptions, nodes_from
from advisoros_db.settings import Settings
from tests.dashboard.browser import dump_dom, screenshot
from tests.support import PgDatabase

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = Settings(insights_unused_index_bytes=1 << 40, insights_slot_retained_bytes=1 << 50)


def _request(app: object, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(path, headers=headers)

    return asyncio.run(call())


def _collector(url: str) -> Any:
    def collect() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        report = insights.collect(url, SETTINGS)
        return report, insights.problems(report, SETTINGS)

    return collect


def _router(db: PgDatabase) -> Router:
    options = RouterOptions.from_settings(Settings(health_check_interval_s=0.2))
    return Router(nodes_from(db.admin_url, db.replica_urls), options, monitor=False)


def _index_names(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename IN ('audit_logs', 'documents')"
        ).fetchall()
    return {r[0] for r in rows}


def test_page_shows_nodes_partitions_indexes_and_jobs(db: PgDatabase) -> None:
    Worker(db.admin_url, default_jobs(), settings=SETTINGS).run_due()
    with _router(db) as router:
        app = create_dashboard_app(router, _collector(db.admin_url))
        page = _request(app, "/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        html = page.text
        for node in router.health()["nodes"]:
            assert f"<td>{node['name']}</td>" in html
        assert "<td>audit_logs</td>" in html and "<td>documents</td>" in html
        assert any(f"<td>{name}</td>" in html for name in _index_names(db.admin_url))
        assert "<td>partition_maintenance</td>" in html and "<svg" in html
        assert "<script" not in html
        scraped = _request(app, "/metrics").text
    for name in (
        "pg_stat_activity_count",
        "pg_settings_max_connections",
        "pg_database_size_bytes",
        "pg_stat_user_indexes_idx_scan_total",
        "pg_replication_slot_slot_is_active",
        "advisoros_partition_runway_periods",
        "advisoros_router_node_healthy",
    ):
        assert f"\n{name}{{" in scraped or f"\n{name} " in scraped, name


def test_page_escapes_what_the_database_holds(db: PgDatabase) -> None:
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        conn.execute('CREATE TABLE "<script>alert(1)</script>" (id int)')
        conn.execute(
            'CREATE INDEX "<img src=x onerror=alert(2)>" ON "<script>alert(1)</script>" (id)'
        )
    with _router(db) as router:
        html = _request(create_dashboard_app(router, _collector(db.admin_url)), "/").text
    assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_token_guards_every_path_but_health(db: PgDatabase) -> None:
    with _router(db) as router:
        app = create_dashboard_app(router, _collector(db.admin_url), token="s3cret-token")
        assert _request(app, "/").status_code == 401
        assert _request(app, "/metrics").status_code == 401
        assert _request(app, "/", {"Authorization": "Bearer wrong"}).status_code == 401
        assert _request(app, "/?token=wrong").status_code == 401
        assert _request(app, "/", {"Authorization": "Bearer s3cret-token"}).status_code == 200
        assert _request(app, "/?token=s3cret-token").status_code == 200
        assert _request(app, "/api/health").status_code == 200


def _serve_env(db: PgDatabase, tmp_path: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "ADVISOROS_HOME": str(tmp_path / "unused"),
        "ADVISOROS_DATABASE_URL": db.admin_url,
        "ADVISOROS_APP_DATABASE_URL": db.app_url,
        "ADVISOROS_READ_REPLICA_URLS": ",".join(db.replica_urls),
        "ADVISOROS_HEALTH_CHECK_INTERVAL_S": "0.5",
        "ADVISOROS_INSIGHTS_UNUSED_INDEX_BYTES": str(1 << 40),
    }
    env.pop("ADVISOROS_DASHBOARD_TOKEN", None)
    return env


def test_serve_refuses_another_address_without_a_token(db: PgDatabase, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "advisoros_db.cli.app", "serve", "--host", "0.0.0.0"],
        env=_serve_env(db, tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1 and "ADVISOROS_DASHBOARD_TOKEN" in done.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_console_errors_are_detected(tmp_path: Path) -> None:
    """The browser harness itself: a page that logs an error is caught (so a clean run means it)."""
    page = tmp_path / "bad.html"
    page.write_text("<!doctype html><p>x</p><script>console.error('boom-detected')</script>")
    _dom, console = dump_dom(page.as_uri(), tmp_path / "profile")
    assert any("boom-detected" in line for line in console), console


@pytest.mark.slow
def test_dashboard_in_headless_chromium(db: PgDatabase, tmp_path: Path) -> None:
    Worker(db.admin_url, default_jobs(), settings=SETTINGS).run_due()
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "advisoros_db.cli.app", "serve", "--port", str(port)],
            env=_serve_env(db, tmp_path),
            stdout=out,
            stderr=out,
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        url = f"http://127.0.0.1:{port}/"
        dom, console = dump_dom(url, tmp_path / "profile")
        assert console == [], console
        assert "replica1" in dom and "primary" in dom
        assert "audit_logs" in dom and "documents" in dom
        assert any(name in dom for name in _index_names(db.admin_url))
        assert 'id="partitions"' in dom and 'id="indexes"' in dom and "<svg" in dom
        shot = tmp_path / "dashboard.png"
        screenshot(url, tmp_path / "profile", shot)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
        if os.environ.get("ADVISOROS_UPDATE_SCREENSHOT"):
            shutil.copyfile(shot, ROOT / "docs" / "dashboard.png")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
