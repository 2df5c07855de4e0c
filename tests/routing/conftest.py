"""Routing fixtures: one database on the session cluster with a small table, and routers over it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace

import psycopg
import pytest

from advisoros_db.cluster import Cluster
from advisoros_db.routing import NodeConfig, Router, RouterOptions, core, nodes_from
from advisoros_db.urls import with_database
from tests.support import PgServer, create_database, drop_database, revive_replica

FAST = RouterOptions(
    interval_s=0.1,
    max_lag_s=1.0,
    # Also the connect timeout (rounded up) and, doubled, the pool checkout timeout: at 1 s a
    # new connection on a machine running two suites timed out (PoolTimeout after 2 s).
    probe_timeout_s=3.0,
    return_after=2,
    ryw_wait_s=0.1,
    retry_deadline_s=10.0,
    pool_size=4,
)

# A router built with monitor=False dates replicas only by the probe at its construction: a read
# more than max_lag_s after it cannot be proven fresh and goes to the primary (by design). Tests
# about where reads run, not about how stale they may be, use a bound no test outlives: with
# FAST's one second, two suites on two cores sent their reads to the primary.
ONE_SHOT = replace(FAST, max_lag_s=120.0)

SETUP_SQL = """
CREATE TABLE items (id bigserial PRIMARY KEY, organization_id uuid, v text NOT NULL);
GRANT SELECT, INSERT, UPDATE, DELETE ON items TO advisoros_app;
GRANT USAGE ON SEQUENCE items_id_seq TO advisoros_app;
ALTER TABLE items ENABLE ROW LEVEL SECURITY;
CREATE POLICY items_tenant ON items
    USING (organization_id = NULLIF(current_setting('app.organization_id', true), '')::uuid)
    WITH CHECK (organization_id = NULLIF(current_setting('app.organization_id', true), '')::uuid);
"""


@pytest.fixture(autouse=True)
def patient_first_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    """A router's first probe waits up to SETTLE_S (a quarter second) for a replica just behind
    the primary's one WAL sample, else dates it by its last replayed commit and, on a quiet
    cluster, calls it stale: reads then go to the primary. With two suites on two cores that
    quarter second is often too short, and tests asserting where reads run failed (a read on the
    primary instead of replica1). The wait ends as soon as the replica has caught up, so only a
    router built while a replica is paused waits the whole window."""
    monkeypatch.setattr(core, "SETTLE_S", 5.0)


def wait_for(predicate: Callable[[], object], timeout: float = 120.0, what: str = "") -> None:
    """Poll `predicate` until it holds. The deadline only bounds a hang: it returns as soon as
    the condition holds, and replication, a restart or an ejection can take tens of seconds on
    two busy cores (15 s was too short for a failover's followers under a full suite)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"condition not met within {timeout}s: {what}")


def replicated(urls: list[str]) -> None:
    """Wait until every replica has replayed everything the primary has written so far."""

    def has_table(url: str) -> bool:
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                row = conn.execute("SELECT to_regclass('items') IS NOT NULL").fetchone()
        except psycopg.OperationalError:
            return False  # the database itself has not been replayed yet
        return row == (True,)

    for url in urls:
        wait_for(lambda u=url: has_table(u), what=f"table replicated to {url}")


@pytest.fixture(scope="session")
def routing_db(server: PgServer, cluster: Cluster) -> Iterator[str]:
    """The name of a database holding `items` (with an RLS policy), replicated to both replicas."""
    name = f"routing_{uuid.uuid4().hex[:8]}"
    create_database(server, name)
    with psycopg.connect(with_database(server.admin_url, name), autocommit=True) as conn:
        conn.execute(SETUP_SQL)
    replicated([with_database(u, name) for u in server.replica_urls])
    try:
        yield name
    finally:
        drop_database(server, name)


@pytest.fixture(scope="session")
def server_admin_url(server: PgServer, routing_db: str) -> str:
    return with_database(server.admin_url, routing_db)


def settle(admin_urls: list[str], timeout: float = 60.0) -> None:
    """Wait until every replica has replayed all the primary had written when this was called.

    Earlier tests (a database cloned from a template, a restarted replica) can leave replicas
    seconds behind on a loaded machine, and the router would rightly keep reads off them.
    """
    with psycopg.connect(admin_urls[0], autocommit=True) as conn:
        row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    assert row is not None
    for url in admin_urls[1:]:
        with psycopg.connect(url, autocommit=True) as conn:
            wait_for(
                lambda c=conn: (
                    c.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (row[0],)).fetchone()
                    == (True,)
                ),
                timeout=timeout,
                what=f"replica at {url.rsplit('@', 1)[-1]} caught up",
            )


@pytest.fixture(scope="session")
def admin_node_list(server: PgServer, routing_db: str) -> tuple[NodeConfig, ...]:
    return nodes_from(
        with_database(server.admin_url, routing_db),
        [with_database(u, routing_db) for u in server.replica_urls],
    )


@pytest.fixture
def admin_nodes(
    cluster: Cluster, admin_node_list: tuple[NodeConfig, ...]
) -> tuple[NodeConfig, ...]:
    """Superuser URLs (RLS bypassed) of the primary and the two replicas, replicas caught up."""
    for node in admin_node_list[1:]:
        # A replica an earlier test left down is brought back (or rebuilt) here rather than
        # failing every test after it.
        revive_replica(cluster, node.name)
    settle([n.url for n in admin_node_list])
    return admin_node_list


@pytest.fixture
def revive(cluster: Cluster) -> Iterator[list[str]]:
    """Names of replicas a test stops, kills or pauses: afterwards each is running, replaying
    and streaming again (rebuilt from a fresh base backup if it will not come back)."""
    touched: list[str] = []
    yield touched
    for name in touched:
        revive_replica(cluster, name)


@pytest.fixture
def app_nodes(
    cluster: Cluster, routing_db: str, admin_nodes: tuple[NodeConfig, ...]
) -> tuple[NodeConfig, ...]:
    """Application-role URLs (RLS applies) of the primary and the two replicas, caught up."""
    return nodes_from(
        cluster.url("primary", app=True, database=routing_db),
        [cluster.url(f"replica{i}", app=True, database=routing_db) for i in (1, 2)],
    )


@pytest.fixture
def router(admin_nodes: tuple[NodeConfig, ...]) -> Iterator[Router]:
    with Router(admin_nodes, FAST) as routed:
        yield routed


@pytest.fixture
def replica1_paused(cluster: Cluster, admin_nodes: tuple[NodeConfig, ...]) -> Iterator[int]:
    """replica1 with replay paused (after `admin_nodes` has caught it up); yields its port."""
    cluster.pause_replay("replica1")
    try:
        yield cluster.node("replica1").port
    finally:
        cluster.resume_replay("replica1")
