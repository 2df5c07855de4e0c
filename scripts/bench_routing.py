"""Run the router's cases on a throwaway embedded primary + 2 replicas; print JSON.

The overhead figures at the top level, read throughput (4 threads, 5 s per replica count) under
`read_throughput` (only when not pinned).

Usage: .venv/bin/python scripts/bench_routing.py [QUERIES] [ROUNDS] [select1|catalog] [same|other]

`same` / `other` pin this process to CPU 1 and the measured replica's server processes to the
same CPU or to CPU 0 (Linux, 2+ CPUs): on this VM a round trip to a backend on the other CPU
took about three times as long as one on the client's CPU, and without pinning the scheduler
decides that per connection.
(`advisoros-db bench` runs the same case on the configured target.)
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from advisoros_db.bench.router_cases import DEFAULT_QUERY, read_throughput, routing_overhead
from advisoros_db.bench.runner import await_replicas
from advisoros_db.cluster import Cluster
from advisoros_db.cluster.node import postmaster_pid
from advisoros_db.targets import Target
from advisoros_db.tenancy import APP_ROLE
from advisoros_db.urls import with_database


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


def main() -> None:
    queries = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    query = "SELECT 1" if sys.argv[3:4] == ["select1"] else DEFAULT_QUERY
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
        placement = sys.argv[4] if len(sys.argv) > 4 else None
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


if __name__ == "__main__":
    main()
