"""Tenant-scoped reads on replicas over the real migrated schema (clients under row-level security)."""

from __future__ import annotations

import uuid

import psycopg
from sqlalchemy import text

from advisoros_db.cluster import Cluster
from advisoros_db.routing import ConsistencyToken, Router, nodes_from
from advisoros_db.routing.lsn import parse_lsn
from tests.routing.conftest import FAST, wait_for
from tests.support import PgDatabase


def test_a_read_session_sees_only_its_tenants_clients_on_a_replica(
    db: PgDatabase, cluster: Cluster
) -> None:
    orgs = [uuid.uuid4(), uuid.uuid4()]
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        for org in orgs:
            conn.execute(
                "INSERT INTO organizations (id, name, slug) VALUES (%s, %s, %s)",
                (org, f"Firm {org}", f"firm-{org.hex[:12]}"),
            )
            conn.execute(
                "INSERT INTO clients (organization_id, business_name) VALUES (%s, %s)",
                (org, f"Client of {org}"),
            )
        row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    assert row is not None
    # A token made from another writer's WAL position works the same as the router's own.
    token = ConsistencyToken(parse_lsn(row[0]))
    nodes = nodes_from(
        cluster.url("primary", app=True, database=db.name),
        [cluster.url(f"replica{i}", app=True, database=db.name) for i in (1, 2)],
    )
    with Router(nodes, FAST) as router:
        # The new database may not have reached the replicas yet: they return once probes pass.
        wait_for(
            lambda: all(n["usable_for_reads"] for n in router.health()["nodes"][1:]),
            what="replicas serving the new database",
        )
        for org in orgs:
            with router.session("read", organization_id=org, token=token) as s:
                names = s.execute(text("SELECT business_name FROM clients")).scalars().all()
                assert s.execute(text("SELECT pg_is_in_recovery()")).scalar() is True
            assert names == [f"Client of {org}"]
