"""What the documents_keys registry adds to a document insert (issue 16.2), in both designs.

Starts its own embedded primary (no replicas) in a temporary home, migrates a scratch database to
head, and times document inserts as the application role inside a tenant transaction, with the
registry's insert trigger on and off (ALTER TABLE ... DISABLE TRIGGER partition_register, which
only a benchmark may do: it leaves ids unregistered), and with the registry's triggers in the
row-level design (revisions 0004/0011) and the statement-level one (0017). Sides alternate in
random order per round.

    .venv/bin/python scripts/bench_document_keys.py [ROUNDS] [SINGLE_ROWS] [BATCH_ROWS]

Prints JSON: per side the median µs per row for single-row inserts (one transaction each, the
application's shape) and for one multi-row INSERT ... SELECT (rolled back), and the overhead; and,
server-side from EXPLAIN ANALYZE, the registry trigger's time as a share of the rest of the insert
(one-row statements and one multi-row statement), which a loaded machine distorts less.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

from advisoros_db import migrations
from advisoros_db.cluster import Cluster
from advisoros_db.partitioning import DOCUMENTS, keys
from advisoros_db.tenancy import APP_ROLE, apply_tenant, tenant_transaction
from advisoros_db.urls import with_database

_SETUP = """
INSERT INTO organizations (id, name, slug) VALUES (%(org)s, 'Bench CPA', 'bench-cpa');
INSERT INTO users (id, organization_id, email, name)
    VALUES (%(user)s, %(org)s, 'bench@example.com', 'Bench');
INSERT INTO clients (id, organization_id, business_name) VALUES (%(client)s, %(org)s, 'Client');
"""
_ONE = (
    "INSERT INTO documents (organization_id, client_id, uploaded_by, file_name, file_url,"
    " file_type, tax_year) VALUES (%s, %s, %s, 'w2.pdf', 's3://x', 'pdf', %s)"
)
_MANY = (
    "INSERT INTO documents (organization_id, client_id, uploaded_by, file_name, file_url,"
    " file_type, tax_year) SELECT %s, %s, %s, 'w2.pdf', 's3://x', 'pdf', 2020 + g %% 11"
    " FROM generate_series(1, %s) g"
)


def _single(app_url: str, ids: dict[str, uuid.UUID], rows: int) -> float:
    with psycopg.connect(app_url) as app:
        started = time.perf_counter()
        for i in range(rows):
            with tenant_transaction(app, ids["org"]):
                app.execute(_ONE, (ids["org"], ids["client"], ids["user"], 2020 + i % 11))
        return (time.perf_counter() - started) / rows * 1e6


def _batch(app_url: str, ids: dict[str, uuid.UUID], rows: int) -> float:
    with psycopg.connect(app_url) as app:
        apply_tenant(app, ids["org"])  # in the connection's implicit transaction, rolled back
        started = time.perf_counter()
        app.execute(_MANY, (ids["org"], ids["client"], ids["user"], rows))
        spent = time.perf_counter() - started
        app.rollback()
        return spent / rows * 1e6


def _trigger_share(app_url: str, ids: dict[str, uuid.UUID], rows: int, statements: int) -> float:
    """Server-side: the registry trigger's time over the rest of the insert's execution time, in %,
    from EXPLAIN ANALYZE of `statements` inserts of `rows` rows each (rolled back). Less exposed to
    a loaded machine's scheduling than wall-clock time: both parts come from the same statements."""
    trigger = rest = 0.0
    with psycopg.connect(app_url) as app:
        apply_tenant(app, ids["org"])
        for _ in range(statements):
            plan = app.execute(
                "EXPLAIN (ANALYZE, FORMAT JSON) " + _MANY,
                (ids["org"], ids["client"], ids["user"], rows),
            ).fetchone()
            assert plan is not None
            top = plan[0][0]
            spent = sum(
                t["Time"]
                for t in top.get("Triggers", [])
                if t["Trigger Name"] == "partition_register"
            )
            trigger += spent
            rest += top["Execution Time"] - spent
        app.rollback()
    return 100 * trigger / rest


_SIDES = ("row_registry", "statement_registry", "no_registry")


def _registry(admin: psycopg.Connection[Any], side: str) -> None:
    if side != "no_registry":
        keys.set_design(admin, DOCUMENTS, side == "statement_registry")
    on = side != "no_registry"
    admin.execute(
        f"ALTER TABLE documents {'ENABLE ALWAYS' if on else 'DISABLE'} TRIGGER partition_register"
    )


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    single_rows = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    batch_rows = int(sys.argv[3]) if len(sys.argv) > 3 else 5000
    scratch = Path(tempfile.mkdtemp(prefix="advisoros-keys-"))
    scratch.chmod(0o755)  # world-traversable: as root, the server runs as an unprivileged user
    cluster = Cluster(scratch / "home", app_role=APP_ROLE)
    info = cluster.up(0)
    try:
        name = f"bench_keys_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(with_database(info.primary_url, "postgres"), autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        admin_url = with_database(info.primary_url, name)
        app_url = cluster.url("primary", app=True, database=name)
        migrations.upgrade(admin_url)
        ids = {k: uuid.uuid4() for k in ("org", "user", "client")}
        figures: dict[str, dict[str, list[float]]] = {
            side: {"single_us": [], "batch_us": []} for side in _SIDES
        }
        shares: dict[str, dict[str, list[float]]] = {
            side: {"one_row_statements": [], "batch_statements": []} for side in _SIDES[:2]
        }
        with psycopg.connect(admin_url, autocommit=True) as admin:
            for statement in _SETUP.strip().split(";\n"):
                admin.execute(statement.rstrip(";"), {k: str(v) for k, v in ids.items()})
            _single(app_url, ids, 50)  # warm caches and plans once
            for _ in range(rounds):
                sides = list(_SIDES)
                random.shuffle(sides)
                for side in sides:
                    _registry(admin, side)
                    figures[side]["single_us"].append(_single(app_url, ids, single_rows))
                    figures[side]["batch_us"].append(_batch(app_url, ids, batch_rows))
            for _ in range(rounds):
                designs = list(_SIDES[:2])
                random.shuffle(designs)
                for side in designs:
                    _registry(admin, side)
                    share = shares[side]
                    share["one_row_statements"].append(_trigger_share(app_url, ids, 1, single_rows))
                    share["batch_statements"].append(_trigger_share(app_url, ids, batch_rows, 1))
            _registry(admin, "statement_registry")
        medians = {
            side: {k: round(statistics.median(v), 1) for k, v in f.items()}
            for side, f in figures.items()
        }
        overhead = {
            side: {
                k: round(
                    100
                    * (medians[side][k] - medians["no_registry"][k])
                    / medians["no_registry"][k],
                    1,
                )
                for k in ("single_us", "batch_us")
            }
            for side in _SIDES[:2]
        }
        print(
            json.dumps(
                {
                    "rounds": rounds,
                    "single_rows": single_rows,
                    "batch_rows": batch_rows,
                    "load_average": os.getloadavg(),
                    "cpus": os.cpu_count(),
                    "median_us_per_row": medians,
                    "registry_overhead_percent": overhead,
                    "explain_trigger_share_percent_median": {
                        side: {k: round(statistics.median(v), 1) for k, v in f.items()}
                        for side, f in shares.items()
                    },
                    "explain_trigger_share_percent_all": {
                        side: {k: [round(x, 1) for x in v] for k, v in f.items()}
                        for side, f in shares.items()
                    },
                    "all": figures,
                },
                indent=2,
            )
        )
    finally:
        cluster.destroy()


if __name__ == "__main__":
    main()
