"""The JSONB and tag filter pages of the catalog, run as the application role: keyset pages walk
the tenant's matching rows newest first without gaps or repeats, and each page reads at most the
rows it needs through the tenant's (organization_id, id) key (never a GIN index of all tenants)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from advisoros_db.bench.sampling import Sample
from advisoros_db.schema import catalog
from advisoros_db.tenancy.context import apply_tenant
from tests.support import PgDatabase

PAGES = [q for q in catalog.QUERIES if catalog.is_page(q)]


def _ids(conn: psycopg.Connection[Any], query: str, bound: dict[str, Any]) -> list[uuid.UUID]:
    return [row[0] for row in conn.execute(sql.SQL(query), bound)]


@pytest.mark.parametrize("query", PAGES, ids=lambda q: q.name)
def test_pages_walk_every_match_once_newest_first(
    query: catalog.CatalogQuery, plan_db: PgDatabase, plan_sample: Sample
) -> None:
    bound = dict(query.bind(plan_sample))
    with psycopg.connect(plan_db.app_url) as conn, conn.transaction():
        apply_tenant(conn, plan_sample.organization_id)
        everything = _ids(conn, query.sql.replace(catalog.PAGE_TAIL, " ORDER BY id DESC"), bound)
        walked: list[uuid.UUID] = []
        for _ in range(3):
            page = _ids(conn, query.sql, bound)
            assert len(page) <= 50
            walked += page
            if len(page) < 50:
                break
            bound["before"] = page[-1]
    assert walked == everything[: len(walked)]
    assert len(walked) == min(len(everything), 150)
    assert len(set(walked)) == len(walked)


def test_the_first_page_reads_no_more_than_it_returns_plus_the_misses(
    plan_db: PgDatabase, plan_sample: Sample
) -> None:
    # The busiest tenant's client tags: the page stops as soon as it has 50 rows, so the rows it
    # reads are the 50 it returns and the non-matching rows between them, never the whole tenant.
    query = catalog.get("tasks.tagged")
    with psycopg.connect(plan_db.app_url) as conn, conn.transaction():
        apply_tenant(conn, plan_sample.organization_id)
        [[plan]] = conn.execute(
            sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) ") + sql.SQL(query.sql),
            query.bind(plan_sample),
        ).fetchall()
        total = conn.execute(
            "SELECT count(*) FROM tasks WHERE organization_id = %s", (plan_sample.organization_id,)
        ).fetchone()
    assert total is not None
    scans = list(_scans(plan[0]["Plan"]))
    assert scans and all(node.get("Index Name") == query.index for node in scans), scans
    read = sum(node["Actual Rows"] + node.get("Rows Removed by Filter", 0) for node in scans)
    assert plan[0]["Plan"]["Actual Rows"] == 50
    assert read < total[0], f"the page read {read} of the tenant's {total[0]} tasks"


def _scans(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if "Scan" in node["Node Type"]:
        yield node
    for child in node.get("Plans", []):
        yield from _scans(child)
