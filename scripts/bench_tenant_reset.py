"""What tenant isolation adds to each pooled tenant transaction (issue 13): the reset every
connection gets on its return to a pool and the tenant read back before every commit
(`tenancy.verify_tenant`); and how the resets compare: `DISCARD ALL` (psycopg's cache of prepared
statements emptied with it, what the pools ran first) against the `session` reset that keeps
psycopg's statements (what they run now).

Starts its own embedded primary in a temporary home, migrates a scratch database to head, seeds it
at `tiny`, and times one tenant read transaction as the application role (BEGIN; the tenant's
`set_config`; one catalog query, `documents.list` unless named; COMMIT) with and without each
part. Every side runs once per iteration, in a random order per iteration, and each transaction is
timed on its own (`bench/router_cases._interleaved`, as `scripts/bench_routing.py`); the figures
are medians of per-iteration differences, so whatever the machine does at that moment lands on
both sides of a difference.

Sides, on three pooled connections N, R and S (psycopg_pool, one connection each, no reset of
their own): `plain` on N (no read-back, no reset), `readback` on N (read-back before COMMIT),
`reset` on R (no read-back; COMMIT, then `DISCARD ALL` as `pooler.pool_reset(discard_all)` runs
it), `both` on R (read-back and `DISCARD ALL`), `session_reset` on S (COMMIT, then the `session`
reset on return), `session_both` on S (read-back and the `session` reset: what ships). The
`DISCARD ALL` sides cannot share N or S: they empty the prepared statements the other sides would
reuse. So N, R and S take turns on the three server connections, one block each, and
`plain_other` (no read-back, no reset, on a fourth connection) against `plain` shows how far two
server connections differ anyway.

    .venv/bin/python scripts/bench_tenant_reset.py [ITERATIONS] [BLOCKS] [QUERY]

Prints JSON.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from advisoros_db import datagen, migrations, pooler
from advisoros_db.bench import sampling
from advisoros_db.bench.router_cases import _interleaved, extra_us, paired
from advisoros_db.cluster import Cluster
from advisoros_db.schema import catalog
from advisoros_db.tenancy import APP_ROLE, apply_tenant, verify_tenant
from advisoros_db.tenancy.reset import SessionReset
from advisoros_db.urls import with_database

Side = Callable[[], None]


def sides_for(
    connections: tuple[ConnectionPool, ConnectionPool, ConnectionPool, ConnectionPool],
    query: catalog.CatalogQuery,
    sample: sampling.Sample,
) -> dict[str, Side]:
    """`connections`: N, R, S and the control's (see the module docstring)."""
    n, r, s, other = connections
    params = query.bind(sample)
    prepare = False if query.custom_plan else None
    org = str(sample.organization_id)
    discard = pooler.pool_reset(
        SessionReset.DISCARD_ALL, "off"
    )  # the reset before issue 13's rework
    returned = pooler.pool_reset(SessionReset.SESSION, "off")  # SQLAlchemy engines, app pools

    def side(pool: ConnectionPool, *, read_back: bool, reset: Callable[..., Any] | None) -> Side:
        def run() -> None:
            with pool.connection() as conn:
                apply_tenant(conn, org)
                conn.execute(query.sql, params, prepare=prepare).fetchall()
                if read_back:
                    verify_tenant(conn, org)
                conn.commit()
                if reset is not None:
                    reset(conn)

        return run

    return {
        "plain": side(n, read_back=False, reset=None),
        "readback": side(n, read_back=True, reset=None),
        "reset": side(r, read_back=False, reset=discard),
        "both": side(r, read_back=True, reset=discard),
        "session_reset": side(s, read_back=False, reset=returned),
        "session_both": side(s, read_back=True, reset=returned),
        "plain_other": side(other, read_back=False, reset=None),
    }


def prepared_statements(pool: ConnectionPool) -> int:
    with pool.connection() as conn:
        row = conn.execute("SELECT count(*) FROM pg_prepared_statements", prepare=False).fetchone()
    return int(row[0]) if row else -1


def _rotation(
    x: ConnectionPool, y: ConnectionPool, z: ConnectionPool, block: int
) -> tuple[ConnectionPool, ConnectionPool, ConnectionPool]:
    """Which server connection serves N, R and S in this block: each in turn."""
    pools = (x, y, z)
    return pools[block % 3], pools[(block + 1) % 3], pools[(block + 2) % 3]


def measure(
    app_url: str,
    query: catalog.CatalogQuery,
    sample: sampling.Sample,
    *,
    iterations: int,
    blocks: int,
) -> dict[str, Any]:
    def pool() -> ConnectionPool:
        return ConnectionPool(app_url, min_size=1, max_size=1, open=True)

    with pool() as x, pool() as y, pool() as z, pool() as other:
        timings: dict[str, list[float]] = {}
        per_block = []
        for b in range(blocks):
            n, r, s = _rotation(x, y, z, b)
            sides = sides_for((n, r, s, other), query, sample)
            for _ in range(20):  # warm up; N prepares its statements again after a swap
                for run in sides.values():
                    run()
            block = _interleaved(sides, iterations, offset=b * iterations)
            per_block.append(block)
            for name, samples in block.items():
                timings.setdefault(name, []).extend(samples)
        # After the last block: N and S kept their prepared statements, R's DISCARD ALL dropped
        # them.
        n, r, s = _rotation(x, y, z, blocks - 1)
        statements = {
            "n": prepared_statements(n),
            "r": prepared_statements(r),
            "s": prepared_statements(s),
        }

    def versus(side: str, base: str) -> dict[str, Any]:
        return {
            "paired_us": round(extra_us(timings[side], timings[base]), 1),
            "paired_pct": round(paired(timings[side], timings[base]), 1),
            "blocks_paired_us": [round(extra_us(b[side], b[base]), 1) for b in per_block],
        }

    return {
        "median_us": {name: round(statistics.median(t), 1) for name, t in timings.items()},
        "readback_vs_plain": versus("readback", "plain"),
        "reset_vs_plain": versus("reset", "plain"),
        "both_vs_plain": versus("both", "plain"),
        "both_vs_reset": versus("both", "reset"),
        "session_reset_vs_plain": versus("session_reset", "plain"),
        "session_reset_vs_reset": versus("session_reset", "reset"),
        "session_both_vs_plain": versus("session_both", "plain"),
        "spread_plain_other_vs_plain": versus("plain_other", "plain"),
        "prepared_statements_after": statements,
    }


def main() -> None:
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    blocks = int(sys.argv[2]) if len(sys.argv) > 2 else 6
    name = sys.argv[3] if len(sys.argv) > 3 else "documents.list"
    query = next((q for q in catalog.QUERIES if q.name == name), None)
    if query is None or query.system:
        raise SystemExit(f"{name!r} is not a tenant query of the catalog (schema/catalog.py)")
    scratch = Path(tempfile.mkdtemp(prefix="advisoros-reset-"))
    scratch.chmod(0o755)  # world-traversable: as root, the server runs as an unprivileged user
    cluster = Cluster(scratch / "home", app_role=APP_ROLE)
    info = cluster.up(0)
    try:
        database = f"bench_reset_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(with_database(info.primary_url, "postgres"), autocommit=True) as c:
            c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        admin = with_database(info.primary_url, database)
        migrations.upgrade(admin)
        datagen.seed(admin, "tiny", seed=42, replace=True)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
            sample = sampling.sample(conn)
        load_before = os.getloadavg()
        figures = measure(
            with_database(info.app_url, database),
            query,
            sample,
            iterations=iterations,
            blocks=blocks,
        )
        result = {
            "query": name,
            "scale": "tiny",
            "iterations_per_block": iterations,
            "blocks": blocks,
            "cpus": os.cpu_count(),
            **figures,
            "loadavg_before_after": [load_before, os.getloadavg()],
        }
        print(json.dumps(result, indent=2))
    finally:
        cluster.destroy()


if __name__ == "__main__":
    main()
