"""What revision 0023's password check adds to a login of the application role (issue 13).

Starts its own embedded primary in a temporary home and makes three scratch databases: `at_0022`
(revision 0013's login guard: per-role settings only), and `at_head` and `at_head_other` (0023's
guard: settings and the recorded password). Each side is one login of the application role (SCRAM,
as the application logs in), `SELECT 1`, and close. Every side runs once per iteration in a random
order (`bench/router_cases._interleaved`), each login timed on its own; the figures are medians of
the per-iteration differences. `at_head_other` against `at_head` runs the same guard on two
databases, so it shows how far two sides differ anyway.

    .venv/bin/python scripts/bench_login_guard.py [ITERATIONS] [BLOCKS]

Prints JSON.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from advisoros_db import migrations
from advisoros_db.bench.router_cases import _interleaved, extra_us, paired
from advisoros_db.cluster import Cluster
from advisoros_db.tenancy import APP_ROLE
from advisoros_db.urls import with_database

BEFORE = "0022_fts_rows_field_search"
DATABASES = {"at_0022": BEFORE, "at_head": "head", "at_head_other": "head"}


def login(url: str) -> Callable[[], None]:
    def run() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SELECT 1").fetchone()

    return run


def main() -> None:
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    blocks = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    scratch = Path(tempfile.mkdtemp(prefix="advisoros-login-"))
    scratch.chmod(0o755)  # world-traversable: as root, the server runs as an unprivileged user
    cluster = Cluster(scratch / "home", app_role=APP_ROLE)
    info = cluster.up(0)
    try:
        # One migration from scratch; the others are copies of it, then brought to their
        # revision.
        template = None
        for name, revision in DATABASES.items():
            with psycopg.connect(with_database(info.primary_url, "postgres"), autocommit=True) as c:
                c.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                        sql.Identifier(name), sql.Identifier(template or "template1")
                    )
                )
            migrations.upgrade(with_database(info.primary_url, name), revision)
            template = name
        sides = {name: login(with_database(info.app_url, name)) for name in DATABASES}
        for _ in range(20):  # warm up
            for run in sides.values():
                run()
        load_before = os.getloadavg()
        timings: dict[str, list[float]] = {name: [] for name in sides}
        per_block = []
        for b in range(blocks):
            block = _interleaved(sides, iterations, offset=b * iterations)
            per_block.append(block)
            for name, samples in block.items():
                timings[name].extend(samples)

        def versus(side: str, base: str) -> dict[str, Any]:
            return {
                "paired_us": round(extra_us(timings[side], timings[base]), 1),
                "paired_pct": round(paired(timings[side], timings[base]), 1),
                "blocks_paired_us": [round(extra_us(b[side], b[base]), 1) for b in per_block],
            }

        print(
            json.dumps(
                {
                    "iterations_per_block": iterations,
                    "blocks": blocks,
                    "cpus": os.cpu_count(),
                    "median_us": {n: round(statistics.median(t), 1) for n, t in timings.items()},
                    "password_check_vs_0013": versus("at_head", "at_0022"),
                    "spread_head_other_vs_head": versus("at_head_other", "at_head"),
                    "loadavg_before_after": [load_before, os.getloadavg()],
                },
                indent=2,
            )
        )
    finally:
        cluster.destroy()


if __name__ == "__main__":
    main()
