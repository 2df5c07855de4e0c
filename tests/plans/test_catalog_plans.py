"""Every catalog query, on realistic data, is planned with the index it relies on: as the table
owner (what the planner can do) and, for tenant queries, as the application role under row-level
security (what production gets)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from advisoros_db.schema import catalog
from advisoros_db.tenancy.context import apply_tenant
from tests.support import PgDatabase

_ROOT_INDEX = (
    "SELECT coalesce(pg_partition_root(to_regclass(n))::regclass::text, n)"
    " FROM unnest(%s::text[]) n"
)


def _index_names(node: dict[str, Any]) -> Iterator[str]:
    if "Index Name" in node:
        yield node["Index Name"]
    for child in node.get("Plans", []):
        yield from _index_names(child)


def _indexes_used(
    conn: psycopg.Connection[Any], query: catalog.CatalogQuery, sample: catalog.Sample
) -> set[str]:
    # Parameters are bound server-side, as the application sends them.
    [[plan]] = conn.execute("EXPLAIN (FORMAT JSON) " + query.sql, query.bind(sample)).fetchall()
    conn.execute(query.sql, query.bind(sample))  # and the query itself runs
    names = sorted(set(_index_names(plan[0]["Plan"])))
    # On a partitioned table the plan names each partition's index; count its parent's name.
    rows = conn.execute(_ROOT_INDEX, (names,)).fetchall()
    return {str(row[0]) for row in rows}


@pytest.mark.parametrize("query", catalog.QUERIES, ids=lambda q: q.name)
def test_query_uses_its_index(
    query: catalog.CatalogQuery, plan_db: PgDatabase, plan_sample: catalog.Sample
) -> None:
    with psycopg.connect(plan_db.admin_url) as conn:
        used = _indexes_used(conn, query, plan_sample)
    assert query.index in used, f"{query.name} planned with {sorted(used) or 'no index'}"


# RLS evaluates the policy before any user predicate that is not LEAKPROOF, so such a predicate
# can never become an index condition; revision 0007 marks the operators behind the GIN and
# full-text quals (@>, &&, @@, ILIKE, to_tsvector) LEAKPROOF, so every tenant query, these
# included, gets its index as the application role.
_TENANT_QUERIES = [q for q in catalog.QUERIES if not q.system]


@pytest.mark.parametrize("query", _TENANT_QUERIES, ids=lambda q: q.name)
def test_tenant_query_uses_its_index_under_row_level_security(
    query: catalog.CatalogQuery, plan_db: PgDatabase, plan_sample: catalog.Sample
) -> None:
    with psycopg.connect(plan_db.app_url) as conn, conn.transaction():
        apply_tenant(conn, plan_sample.organization_id)
        used = _indexes_used(conn, query, plan_sample)
    assert query.index in used, f"{query.name} planned with {sorted(used) or 'no index'}"
