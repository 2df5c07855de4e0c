"""The demo data set `up --demo` loads: the `tiny` scale, once, into an empty database."""

from __future__ import annotations

import psycopg
from rich.progress import Progress

from advisoros_db.datagen.seed import SeedReport, last_run, seed

DEMO_SCALE = "tiny"
DEMO_SEED = 2024


def load_demo(url: str, *, progress: Progress | None = None) -> SeedReport | None:
    """Seed the demo data unless the database already holds organizations (then None)."""
    if last_run(url) is not None or _has_organizations(url):
        return None
    return seed(url, DEMO_SCALE, seed=DEMO_SEED, progress=progress)


def _has_organizations(url: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        table = conn.execute("SELECT to_regclass('public.organizations')").fetchone()
        if table is None or table[0] is None:
            return False
        found = conn.execute("SELECT EXISTS (SELECT 1 FROM organizations)").fetchone()
        return bool(found and found[0])
