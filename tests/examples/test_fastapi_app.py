"""The example application (examples/fastapi_app) against the embedded cluster: its migration on
top of the library's, its lifespan, tenant dependency, read-your-writes across requests, error
statuses and mounted health routes."""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from advisoros_db import migrations
from advisoros_db.cluster import Cluster
from advisoros_db.errors import MigrationError
from advisoros_db.routing import AsyncRouter
from advisoros_db.settings import Settings
from examples.fastapi_app import create_app
from tests.http.test_health_schema import validate
from tests.migrations.test_app_migrations import app_heads
from tests.routing.conftest import settle, wait_for
from tests.support import PgDatabase, wait_until_replay_paused

EXAMPLE = Path(__file__).parents[2] / "examples" / "fastapi_app"
MIGRATIONS = EXAMPLE / "migrations"
MODELS = "examples.fastapi_app.models:Base"


def _reachable(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture
def example_db(db: PgDatabase) -> PgDatabase:
    """The library's schema plus the example's own revision, replicated to both replicas."""
    migrations.upgrade(db.admin_url, app_migrations=MIGRATIONS)
    for url in db.replica_urls:
        wait_for(lambda u=url: _reachable(u), timeout=60, what="database on the replica")
    settle([db.admin_url, *db.replica_urls])
    return db


def _org(db: PgDatabase) -> str:
    org = uuid.uuid4()
    with psycopg.connect(db.admin_url) as conn:
        conn.execute(
            "INSERT INTO organizations (id, name, slug) VALUES (%s, %s, %s)",
            (org, f"Firm {org.hex[:6]}", f"firm-{org.hex[:12]}"),
        )
    return str(org)


class Client:
    """Requests to the app in-process, each in its own task as a server runs them: what one
    request sets in its context (the router's token) never leaks into the next."""

    def __init__(self, http: httpx.AsyncClient, app: Any) -> None:
        self.http = http
        self.app = app

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await asyncio.create_task(self.http.get(path, **kwargs))

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await asyncio.create_task(self.http.post(path, **kwargs))


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Client]:
    """The app with its lifespan run (the router built at startup, closed at shutdown)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://example") as http:
            yield Client(http, app)


def run(settings: Settings, scenario: Callable[[Client], Awaitable[None]]) -> None:
    async def main() -> None:
        async with serving(settings) as client:
            await scenario(client)

    asyncio.run(main())


@pytest.fixture
def settings(example_db: PgDatabase, cluster: Cluster, tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path,
        database_url=example_db.admin_url,
        app_database_url=example_db.app_url,
        read_replica_urls=[
            cluster.url(f"replica{i}", app=True, database=example_db.name) for i in (1, 2)
        ],
        health_check_interval_s=0.2,
        # Paused replicas below must keep serving reads, however loaded the machine: neither
        # their lag nor a probe slowed by the load may take them out of the read path (a 1 s
        # probe timed out in a suite run beside another, and the token-less read went to the
        # primary).
        max_replica_lag_s=600,
        probe_timeout_s=60,
    )


def test_the_migration_sits_on_top_of_the_librarys(example_db: PgDatabase) -> None:
    metadata = migrations.load_metadata(MODELS)
    assert app_heads(example_db.admin_url) == ("fastapi_app_0001_client_tags",)
    assert (
        migrations.drift(example_db.admin_url, app_migrations=MIGRATIONS, app_metadata=metadata)
        == []
    )
    org = _org(example_db)
    with psycopg.connect(example_db.admin_url) as conn:
        client_id = conn.execute(
            "INSERT INTO clients (organization_id, business_name) VALUES (%s, 'Kept') RETURNING id",
            (org,),
        ).fetchone()
        assert client_id is not None
        conn.execute(
            "INSERT INTO client_tags (organization_id, client_id, tag) VALUES (%s, %s, 'vip')",
            (org, client_id[0]),
        )
    # Down on a populated database: refused while it would drop the tags, then with consent the
    # application's table goes and the library's data stays.
    with pytest.raises(MigrationError, match=r"client_tags \(1\)"):
        migrations.downgrade_steps(example_db.admin_url, 1, app_migrations=MIGRATIONS)
    migrations.downgrade_steps(example_db.admin_url, 1, confirm=True, app_migrations=MIGRATIONS)
    with psycopg.connect(example_db.admin_url) as conn:
        assert conn.execute("SELECT to_regclass('client_tags')").fetchone() == (None,)
        assert conn.execute("SELECT count(*) FROM clients").fetchone() == (1,)
    assert migrations.drift(example_db.admin_url) == []
    migrations.upgrade(example_db.admin_url, app_migrations=MIGRATIONS)
    assert (
        migrations.drift(example_db.admin_url, app_migrations=MIGRATIONS, app_metadata=metadata)
        == []
    )


def test_health_and_metrics_are_mounted(settings: Settings) -> None:
    async def scenario(client: Client) -> None:
        response = await client.get("/api/health")
        assert response.status_code == 200, response.text
        body = response.json()
        validate(body)
        assert [n["name"] for n in body["nodes"]] == ["primary", "replica1", "replica2"]
        assert (await client.get("/api/health/ready")).json()["ready"] is True
        metrics = await client.get("/metrics")
        assert 'advisoros_router_node_up{node="primary"} 1.0' in metrics.text

    run(settings, scenario)


def test_a_write_is_read_back_across_requests_with_the_token_header(
    settings: Settings, example_db: PgDatabase, cluster: Cluster
) -> None:
    headers = {"X-Organization-Id": _org(example_db)}

    async def scenario(client: Client) -> None:
        await asyncio.to_thread(pause_once_dated, client.app.state.router, cluster, example_db)
        created = await client.post("/clients", json={"business_name": "Acme"}, headers=headers)
        assert created.status_code == 201, created.text
        token = created.headers["X-Consistency-Token"]
        client_id = created.json()["id"]
        assert created.json()["status"] == "active"  # a server default, read after commit
        # Without the token a replica serves the read, and both are paused before the write.
        assert (await client.get(f"/clients/{client_id}", headers=headers)).status_code == 404
        # With it, the read waits for a replica or goes to the primary: the write is there.
        with_token = {**headers, "X-Consistency-Token": token}
        read = await client.get(f"/clients/{client_id}", headers=with_token)
        assert read.status_code == 200, read.text
        assert read.json() == {**created.json(), "tags": []}
        tagged = await client.post(
            f"/clients/{client_id}/tags", json={"tag": "vip"}, headers=with_token
        )
        assert tagged.status_code == 201, tagged.text
        later = {**headers, "X-Consistency-Token": tagged.headers["X-Consistency-Token"]}
        assert (await client.get(f"/clients/{client_id}", headers=later)).json()["tags"] == ["vip"]

    try:
        run(settings, scenario)
    finally:
        for name in REPLICAS:
            cluster.resume_replay(name)


REPLICAS = ("replica1", "replica2")


def pause_once_dated(router: AsyncRouter, cluster: Cluster, db: PgDatabase) -> None:
    """Pause both replicas only after the router has seen them replay one of its own samples of
    the primary: from then on their staleness is dated whatever the cluster writes next.

    Paused before the router's first sample, a replica is behind every sample as soon as any
    database of the shared cluster writes WAL (another test, a database dropped in the
    background), its staleness cannot be dated, and reads rightly leave it (CI saw exactly that).
    """
    wait_for(
        lambda: all(
            router.core.routes.fresh.get(name, -math.inf) > time.monotonic() + 300
            for name in REPLICAS
        ),
        timeout=60,
        what="the router dating both replicas",
    )
    for name in REPLICAS:
        cluster.pause_replay(name)
    for url in db.replica_urls:
        wait_until_replay_paused(url)
    # What any other database could do now: WAL the paused replicas will not replay.
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        conn.execute("SELECT pg_logical_emit_message(false, 'test', 'after the pause')")


def test_tenants_are_isolated_and_errors_have_statuses(
    settings: Settings, example_db: PgDatabase
) -> None:
    mine, theirs = {"X-Organization-Id": _org(example_db)}, {"X-Organization-Id": _org(example_db)}

    async def scenario(client: Client) -> None:
        created = await client.post("/clients", json={"business_name": "Mine"}, headers=mine)
        client_id, token = created.json()["id"], created.headers["X-Consistency-Token"]
        mine_now = {**mine, "X-Consistency-Token": token}
        theirs_now = {**theirs, "X-Consistency-Token": token}
        tags = f"/clients/{client_id}/tags"
        # Another organization neither sees the client nor can tag it.
        assert (await client.get(f"/clients/{client_id}", headers=theirs_now)).status_code == 404
        foreign = await client.post(tags, json={"tag": "x"}, headers=theirs_now)
        assert (foreign.status_code, foreign.json()["error"]) == (422, "ForeignKeyViolation")

        assert (await client.post(tags, json={"tag": "vip"}, headers=mine)).status_code == 201
        twice = await client.post(tags, json={"tag": "vip"}, headers=mine)
        assert (twice.status_code, twice.json()["error"]) == (409, "UniqueViolation")
        long = await client.post(tags, json={"tag": "x" * 41}, headers=mine)
        assert (long.status_code, long.json()["error"]) == (422, "CheckViolation")
        bad = await client.get(
            f"/clients/{client_id}", headers={**mine, "X-Consistency-Token": "nonsense"}
        )
        assert (bad.status_code, bad.json()["error"]) == (400, "InvalidToken")
        assert (await client.get(f"/clients/{client_id}")).status_code == 400  # no organization
        not_uuid = await client.get(f"/clients/{client_id}", headers={"X-Organization-Id": "x"})
        assert not_uuid.status_code == 400 and "not a UUID" in not_uuid.text
        # The failed writes left nothing behind.
        after = await client.get(f"/clients/{client_id}", headers=mine_now)
        assert after.json()["tags"] == ["vip"]

    run(settings, scenario)
