"""Run the router's overhead case on a throwaway embedded primary + 2 replicas; print JSON.

Usage: .venv/bin/python scripts/bench_routing.py [QUERIES] [ROUNDS] [select1|catalog]
(`advisoros-db bench` runs the same case on the configured target.)
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from advisoros_db.bench.router_cases import DEFAULT_QUERY, routing_overhead
from advisoros_db.cluster import Cluster
from advisoros_db.targets import Target
from advisoros_db.urls import with_database


def caught_up(admin: str, replicas: list[str]) -> None:
    """Wait until the replicas have replayed what the primary has written (a fresh cluster)."""
    with psycopg.connect(admin, autocommit=True) as conn:
        lsn = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    for url in replicas:
        with psycopg.connect(url, autocommit=True) as conn:
            while conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", lsn).fetchone() != (
                True,
            ):
                time.sleep(0.05)


def main() -> None:
    queries = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    query = "SELECT 1" if sys.argv[3:] == ["select1"] else DEFAULT_QUERY
    # World-traversable: as root, the servers run as an unprivileged user.
    scratch = Path(tempfile.mkdtemp(prefix="advisoros-bench-"))
    scratch.chmod(0o755)
    cluster = Cluster(scratch / "home")
    info = cluster.up(2)
    try:
        admin = with_database(info.primary_url, "postgres")
        replicas = [with_database(u, "postgres") for u in info.replica_urls]
        caught_up(admin, replicas)
        target = Target(admin_url=admin, app_url=admin, replica_urls=replicas, cluster=cluster)
        load_before = os.getloadavg()
        figures = routing_overhead(target, queries=queries, rounds=rounds, query=query)
        figures["loadavg_before_after"] = [load_before, os.getloadavg()]
        print(json.dumps(figures, indent=2))
    finally:
        cluster.destroy()


if __name__ == "__main__":
    main()
