"""The health and metrics endpoints, the `health` and `serve` commands, against the real cluster."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import psutil
import psycopg
import pytest
from typer.testing import CliRunner

from advisoros_db.cli.app import app as cli
from advisoros_db.cluster import Cluster
from advisoros_db.http import create_app
from advisoros_db.http.health import readiness
from advisoros_db.routing import NodeConfig, Router, nodes_from
from advisoros_db.routing.probe import Prober
from advisoros_db.routing.state import Snapshot
from advisoros_db.tenancy import APP_ROLE
from advisoros_db.urls import port_of
from tests.routing.conftest import FAST, settle, wait_for
from tests.support import scratch_path


def get(app: object, path: str) -> httpx.Response:
    """One request to the ASGI app in-process (no socket, no TestClient)."""

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(path)

    return asyncio.run(call())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def secret_of(url: str) -> str:
    return url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]


def test_health_is_200_with_masked_per_node_detail(admin_nodes: tuple[NodeConfig, ...]) -> None:
    with Router(admin_nodes, FAST, monitor=False) as router:
        app = create_app(router)
        response = get(app, "/api/health")
        assert response.status_code == 200
        body = response.json()
        assert body["primary"]["available"] is True
        assert [n["name"] for n in body["nodes"]] == ["primary", "replica1", "replica2"]
        assert body["replica1"]["replication_lag_ms"] is not None
        assert secret_of(admin_nodes[0].url) not in response.text
        assert "***" in body["nodes"][0]["url"]
        metrics = get(app, "/metrics")
        assert metrics.status_code == 200
        assert 'advisoros_router_node_healthy{node="replica2"} 1.0' in metrics.text
        assert "advisoros_router_staleness_seconds" in metrics.text


def test_health_is_503_when_the_primary_is_down(admin_nodes: tuple[NodeConfig, ...]) -> None:
    # With no primary sample, a replica's lag is the age of its last replayed commit: make one now,
    # or an idle stretch earlier in the suite leaves it "stale" (this failed in full runs only).
    with psycopg.connect(admin_nodes[0].url, autocommit=True) as conn:
        conn.execute("INSERT INTO items (v) VALUES ('health-503')")
    settle([admin_nodes[0].url, admin_nodes[1].url])
    dead = admin_nodes[0].url.replace(f":{port_of(admin_nodes[0].url)}/", f":{free_port()}/")
    with Router(nodes_from(dead, [admin_nodes[1].url]), FAST, monitor=False) as router:
        response = get(create_app(router), "/api/health")
    assert response.status_code == 503
    body = response.json()
    assert body["primary"]["available"] is False
    assert body["nodes"][0]["last_error"]
    assert body["replica1"]["available"] is True


@pytest.fixture
def cli_env(
    cluster: Cluster, routing_db: str, admin_nodes: tuple[NodeConfig, ...], tmp_path: Path
) -> dict[str, str]:
    replicas = [cluster.url(f"replica{i}", app=True, database=routing_db) for i in (1, 2)]
    return {
        "ADVISOROS_HOME": str(tmp_path / "unused"),
        "ADVISOROS_DATABASE_URL": cluster.url("primary", database=routing_db),
        "ADVISOROS_APP_DATABASE_URL": cluster.url("primary", app=True, database=routing_db),
        "ADVISOROS_READ_REPLICA_URLS": ",".join(replicas),
    }


def test_health_command_prints_every_node_as_json(
    cli_env: dict[str, str], cluster: Cluster
) -> None:
    result = CliRunner().invoke(cli, ["health", "--json"], env=cli_env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    nodes = {n["name"]: n for n in report["nodes"]}
    assert set(nodes) == {"primary", "replica1", "replica2"}
    for name, node in nodes.items():
        assert node["port"] == cluster.node(name).port
        assert node["healthy"] is True and node["latency_ms"] is not None
        assert node["usable_for_reads"] is (name != "primary")
        assert node["lag_seconds"] is not None and node["lag_seconds"] < FAST.max_lag_s
        assert node["routing_role"] in {"primary", "read"}
    assert secret_of(cli_env["ADVISOROS_APP_DATABASE_URL"]) not in result.output
    table = CliRunner().invoke(cli, ["health"], env=cli_env)
    assert table.exit_code == 0 and "replica2" in table.output


def test_serve_listens_on_loopback_only(cli_env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, **cli_env}
    exe = Path(sys.executable).with_name("advisoros-db")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(exe), "serve", "--port", str(port)], env=env, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 120  # a CLI's imports take seconds on a busy machine
        response = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert response is not None, log.read_text()
        assert response.status_code == 200
        listening = {
            c.laddr.ip
            for c in psutil.Process(proc.pid).net_connections("inet")
            if c.status == psutil.CONN_LISTEN
        }
        assert listening == {"127.0.0.1"}
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def request(app: object, method: str, path: str) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, path)

    return asyncio.run(call())


@pytest.fixture
def lone_primary(cluster: Cluster) -> Iterator[Cluster]:
    """An own primary without replicas, to stop and start."""
    own = Cluster(scratch_path("advisoros-health-") / "home", app_role=APP_ROLE)
    try:
        own.up(0)
        yield own
    finally:
        own.destroy()


def test_readiness_follows_a_primary_outage_and_recovery_within_one_probe_round(
    lone_primary: Cluster,
) -> None:
    nodes = nodes_from(lone_primary.url("primary", app=True))
    with Router(nodes, FAST, monitor=False) as router:
        app = create_app(router)
        for method in ("GET", "HEAD"):
            for path in ("/api/health", "/api/health/ready", "/api/health/live", "/metrics"):
                answer = request(app, method, path)
                assert answer.status_code == 200, (method, path)
                assert (answer.content == b"") is (method == "HEAD"), (method, path)

        lone_primary.stop_node("primary")
        router.monitor.probe_once()  # one probe round after the outage began
        assert request(app, "GET", "/api/health/ready").status_code == 503
        assert request(app, "HEAD", "/api/health/ready").status_code == 503
        assert request(app, "GET", "/api/health").status_code == 503
        body = request(app, "GET", "/api/health/ready").json()
        assert body["ready"] is False and "not reachable" in body["reason"]
        assert request(app, "GET", "/api/health/live").status_code == 200, "liveness stays up"

        lone_primary.start_node("primary")
        router.monitor.probe_once()  # one probe round after it came back
        assert request(app, "GET", "/api/health/ready").status_code == 200
        assert request(app, "GET", "/api/health").status_code == 200


def test_the_monitor_reflects_an_outage_and_a_recovery_within_two_probe_rounds(
    lone_primary: Cluster,
) -> None:
    """With the monitor running: counted in probe rounds (each starts at most one interval after
    the last, `jittered()`), not in seconds, so a loaded machine cannot make it flaky. Each
    round's readiness is recorded by the monitor thread as the round ends: how often the test's
    own thread gets to look (two more rounds can pass while it waits for a core) counts for
    nothing."""
    nodes = nodes_from(lone_primary.url("primary", app=True))
    with Router(nodes, replace(FAST, interval_s=0.2), monitor=True) as router:
        app = create_app(router)
        core = router.core
        rounds: list[tuple[int, bool]] = []  # (round, ready as that round left the report)
        probe_all = core.probe_all

        def recorded(probers: dict[str, Prober]) -> Snapshot:
            snapshot = probe_all(probers)
            rounds.append((core.rounds, readiness(core.health())[0]))
            return snapshot

        core.probe_all = recorded  # type: ignore[method-assign]

        def ready() -> bool:
            return request(app, "GET", "/api/health/ready").status_code == 200

        def first_round_after(before: int, ok: bool) -> int | None:
            return next((n for n, was in list(rounds) if n > before and was is ok), None)

        wait_for(ready, what="readiness 200 at the start")
        lone_primary.stop_node("primary")
        before = core.rounds
        wait_for(lambda: first_round_after(before, False), what="a round finding the outage")
        assert (first_round_after(before, False) or 0) - before <= 2
        assert not ready(), "the endpoint says what the round found"
        lone_primary.start_node("primary")
        before = core.rounds
        wait_for(lambda: first_round_after(before, True), what="a round finding the recovery")
        assert (first_round_after(before, True) or 0) - before <= 2
        wait_for(ready, what="readiness 200 (not stale) through the endpoint")


def test_a_monitor_that_stops_probing_makes_the_report_stale(
    admin_nodes: tuple[NodeConfig, ...],
) -> None:
    with Router(admin_nodes, FAST, monitor=True) as router:
        app = create_app(router)
        assert request(app, "GET", "/api/health/ready").status_code == 200
        router.monitor.stop()  # the probes stop; the last report would otherwise stay "healthy"
        deadline = router.core.report_deadline_s
        assert deadline is not None
        wait_for(lambda: router.health()["stale"], timeout=deadline + 10, what="stale")
        answer = request(app, "GET", "/api/health/ready")
        assert answer.status_code == 503 and "stale" in answer.json()["reason"]
