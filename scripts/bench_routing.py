"""Run the router's cases on a throwaway embedded primary + 2 replicas; print JSON.

The overhead figures at the top level, read throughput (4 threads, 5 s per replica count) under
`read_throughput` (only when not pinned).

Usage: .venv/bin/python scripts/bench_routing.py [QUERIES] [ROUNDS] [select1|catalog] [same|other]
       .venv/bin/python scripts/bench_routing.py [QUERIES] [ROUNDS] [select1|catalog] pgbouncer

`pgbouncer` measures PgBouncer's own cost instead (`pgbouncer_overhead`): the same read
transaction direct to a throwaway primary and through Debian's PgBouncer in transaction mode
started in front of it (tests/pgbouncer_support.py, installed with apt when missing), paired and
interleaved like the router's sides.

`same` / `other` pin this process to CPU 1 and the measured replica's server processes to the
same CPU or to CPU 0 (Linux, 2+ CPUs): on this VM a round trip to a backend on the other CPU
took about three times as long as one on the client's CPU, and without pinning the scheduler
decides that per connection.
(`advisoros-db bench` runs the same case on the configured target.)
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, LiteralString

from psycopg_pool import ConnectionPool

from advisoros_db import pooler
from advisoros_db.bench.router_cases import (
    DEFAULT_QUERY,
    _interleaved,
    extra_us,
    paired,
    read_throughput,
    routing_overhead,
)
from advisoros_db.bench.runner import await_replicas
from advisoros_db.cluster import Cluster
from advisoros_db.cluster.node import postmaster_pid
from advisoros_db.routing import RouterOptions, nodes_from
from advisoros_db.routing.connection import sync_pools
from advisoros_db.targets import Target
from advisoros_db.tenancy import APP_ROLE
from advisoros_db.urls import with_database

# The PgBouncer of the tests (Debian's package, transaction mode), started from this checkout.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.pgbouncer_support import running_bouncer

# What docs/security.md asks of a PgBouncer in transaction mode: it resets each server
# connection itself, since the client's reset cannot reach the right one.
RESET_BY_POOLER = {"server_reset_query": "DISCARD ALL", "server_reset_query_always": "1"}


def pin(cluster: Cluster, placement: str) -> dict[str, list[int]]:
    """Pin this process and replica1's postmaster (its backends inherit it when forked)."""
    os.sched_setaffinity(0, {1})
    pid = postmaster_pid(cluster.node("replica1"))
    if pid is None:
        raise SystemExit("replica1 is not running: nothing to pin")
    os.sched_setaffinity(pid, {1} if placement == "same" else {0})
    return {
        "client": sorted(os.sched_getaffinity(0)),
        "replica1": sorted(os.sched_getaffinity(pid)),
    }


def pgbouncer_overhead(
    login_url: str,
    *,
    queries: int,
    rounds: int,
    query: LiteralString,
) -> dict[str, Any]:
    """The same single-query read transaction direct to the server of `login_url` and through
    PgBouncer in transaction mode in front of it, as that URL's role; every side once per
    iteration in random order, `rounds` blocks of `queries` iterations (as `routing_overhead`).

    Sides: `direct` (a pooled connection, psycopg's prepared statements on: prepared after five
    runs, as direct connections keep them), `direct_unprepared` (the same server connection,
    every run planned: what turning prepared statements off costs alone), `direct_other` (a
    second direct connection, prepared: the spread between two server connections, which the
    PgBouncer sides cannot share), `pgbouncer` (through PgBouncer, prepared statements off as
    `pooler.configure` turns them off there, no server reset: the tests' PgBouncer),
    `pgbouncer_reset` (the same through a PgBouncer that runs `DISCARD ALL` on each server
    connection after each transaction, as docs/security.md asks), and the library's own pools
    (`routing.connection.sync_pools`): `library_direct` (prepared statements on, `DISCARD ALL`
    from the client on every return) and `library_pgbouncer` (through the resetting PgBouncer,
    `ADVISOROS_PGBOUNCER=on`: no prepared statements, no client reset).
    """
    with (
        running_bouncer(login_url, [login_url]) as plain,
        running_bouncer(login_url, [login_url], RESET_BY_POOLER) as resetting,
        ConnectionPool(login_url, min_size=1, max_size=1, open=True) as direct_pool,
        ConnectionPool(login_url, min_size=1, max_size=1, open=True) as other_pool,
        ConnectionPool(
            plain.route(login_url),
            min_size=1,
            max_size=1,
            configure=lambda conn: pooler.configure(conn, "on"),
            open=True,
        ) as bouncer_pool,
        ConnectionPool(
            resetting.route(login_url),
            min_size=1,
            max_size=1,
            configure=lambda conn: pooler.configure(conn, "on"),
            open=True,
        ) as reset_pool,
    ):
        library = {
            "library_direct": sync_pools(
                nodes_from(login_url), RouterOptions(pgbouncer="off", pool_size=1)
            ),
            "library_pgbouncer": sync_pools(
                nodes_from(resetting.route(login_url)), RouterOptions(pgbouncer="on", pool_size=1)
            ),
        }
        try:

            def once(pool: ConnectionPool, prepare: bool | None = None) -> Callable[[], None]:
                def run() -> None:
                    with pool.connection() as conn:
                        conn.execute(query, prepare=prepare).fetchall()

                return run

            sides = {
                "direct": once(direct_pool),
                "direct_unprepared": once(direct_pool, prepare=False),
                "direct_other": once(other_pool),
                "pgbouncer": once(bouncer_pool),
                "pgbouncer_reset": once(reset_pool),
                **{name: once(p.get("primary")) for name, p in library.items()},
            }
            for _ in range(min(queries, 50)):  # warm the pools, PgBouncer and the server
                for run in sides.values():
                    run()
            blocks = [_interleaved(sides, queries, offset=r * queries) for r in range(rounds)]
            facts = _facts(direct_pool, bouncer_pool, library["library_pgbouncer"].get("primary"))
        finally:
            for pools in library.values():
                for pool in pools.drain():
                    pool.close()
    timings = {name: [t for block in blocks for t in block[name]] for name in sides}

    def versus(side: str, base: str) -> dict[str, Any]:
        return {
            "paired_us": round(extra_us(timings[side], timings[base]), 1),
            "paired_pct": round(paired(timings[side], timings[base]), 1),
            "rounds_paired_us": [round(extra_us(b[side], b[base]), 1) for b in blocks],
        }

    return {
        "case": "pgbouncer_overhead",
        "query": query,
        "queries_per_round": queries,
        "rounds": rounds,
        "median_us": {name: round(statistics.median(t), 1) for name, t in timings.items()},
        "pgbouncer_vs_direct": versus("pgbouncer", "direct"),
        "pgbouncer_reset_vs_direct": versus("pgbouncer_reset", "direct"),
        "unprepared_vs_prepared_direct": versus("direct_unprepared", "direct"),
        "pgbouncer_vs_direct_unprepared": versus("pgbouncer", "direct_unprepared"),
        "pgbouncer_reset_vs_pgbouncer": versus("pgbouncer_reset", "pgbouncer"),
        "library_pgbouncer_vs_library_direct": versus("library_pgbouncer", "library_direct"),
        "spread_direct_other_vs_direct": versus("direct_other", "direct"),
        **facts,
    }


def _facts(
    direct: ConnectionPool, bouncer: ConnectionPool, library: ConnectionPool
) -> dict[str, Any]:
    """What the sides ran as: prepared statements where expected, a pooler where expected."""
    with direct.connection() as conn:
        row = conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()
        prepared = row[0] if row else None
        direct_behind = pooler.behind_pooler(conn)
    with bouncer.connection() as conn:
        bouncer_behind = pooler.behind_pooler(conn)
        threshold = conn.prepare_threshold
    with library.connection() as conn:
        library_threshold = conn.prepare_threshold
    return {
        "direct_prepared_statements": prepared,
        "direct_behind_pooler": direct_behind,
        "pgbouncer_behind_pooler": bouncer_behind,
        "pgbouncer_prepare_threshold": threshold,
        "library_pgbouncer_prepare_threshold": library_threshold,
    }


def main() -> None:
    queries = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    words = set(sys.argv[3:])
    query = "SELECT 1" if "select1" in words else DEFAULT_QUERY
    if "pgbouncer" in words:
        print(json.dumps(measure_pgbouncer(queries, rounds, query), indent=2))
        return
    # World-traversable: as root, the servers run as an unprivileged user.
    scratch = Path(tempfile.mkdtemp(prefix="advisoros-bench-"))
    scratch.chmod(0o755)
    cluster = Cluster(scratch / "home", app_role=APP_ROLE)
    info = cluster.up(2)
    try:
        admin = with_database(info.primary_url, "postgres")
        replicas = [with_database(u, "postgres") for u in info.replica_urls]
        waited = await_replicas(admin, replicas, poll_s=0.05)
        if waited["behind"] or waited["unreachable"]:
            raise SystemExit(f"replicas not caught up: {waited}")
        target = Target(admin_url=admin, app_url=admin, replica_urls=replicas, cluster=cluster)
        placement = next((w for w in ("same", "other") if w in words), None)
        cpus = pin(cluster, placement) if placement else None
        load_before = os.getloadavg()
        figures = routing_overhead(target, queries=queries, rounds=rounds, query=query)
        figures["loadavg_before_after"] = [load_before, os.getloadavg()]
        figures["pinned_cpus"] = cpus
        if not placement:  # pinned to one client CPU, throughput would measure the pinning
            figures["read_throughput"] = read_throughput(target, seconds=5.0, query=query)
            figures["read_throughput"]["loadavg_after"] = os.getloadavg()
        print(json.dumps(figures, indent=2))
    finally:
        cluster.destroy()


def measure_pgbouncer(queries: int, rounds: int, query: LiteralString) -> dict[str, Any]:
    """`pgbouncer_overhead` on a throwaway embedded primary (no replicas), as the application
    role."""
    scratch = Path(tempfile.mkdtemp(prefix="advisoros-bench-"))
    scratch.chmod(0o755)
    cluster = Cluster(scratch / "home", app_role=APP_ROLE)
    info = cluster.up(0)
    try:
        login = info.app_url  # the application role connects to no database initdb made
        load_before = os.getloadavg()
        figures = pgbouncer_overhead(login, queries=queries, rounds=rounds, query=query)
        figures["loadavg_before_after"] = [load_before, os.getloadavg()]
        figures["cpus"] = os.cpu_count()
        return figures
    finally:
        cluster.destroy()


if __name__ == "__main__":
    main()
