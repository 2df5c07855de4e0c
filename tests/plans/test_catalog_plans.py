"""Every catalog query, on realistic data, is planned with the index it relies on: as the table
owner (what the planner can do) and, for tenant queries, as the application role under row-level
security (what production gets)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from advisoros_db.bench.sampling import Sample
from advisoros_db.schema import catalog, indexes
from advisoros_db.tenancy.context import apply_tenant
from tests.plans.function_plans import inner_indexes, through_function
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
    conn: psycopg.Connection[Any], query: catalog.CatalogQuery, sample: Sample
) -> set[str]:
    # Parameters are bound server-side, as the application sends them.
    [[plan]] = conn.execute("EXPLAIN (FORMAT JSON) " + query.sql, query.bind(sample)).fetchall()
    conn.execute(query.sql, query.bind(sample))  # and the query itself runs
    names = sorted(set(_index_names(plan[0]["Plan"])))
    # On a partitioned table the plan names each partition's index; count its parent's name.
    rows = conn.execute(_ROOT_INDEX, (names,)).fetchall()
    return {str(row[0]) for row in rows}


_THROUGH_FUNCTION = [q for q in catalog.QUERIES if through_function(q.sql)]
# The search pages (revision 0022) use their index inside a SECURITY DEFINER function, which
# EXPLAIN of the query does not show: tests/plans/test_search_pages.py reads it with auto_explain.
_PLANNED_HERE = [
    q for q in catalog.QUERIES if not catalog.is_search(q) and q not in _THROUGH_FUNCTION
]


@pytest.mark.parametrize("query", _PLANNED_HERE, ids=lambda q: q.name)
def test_query_uses_its_index(
    query: catalog.CatalogQuery, plan_db: PgDatabase, plan_sample: Sample
) -> None:
    with psycopg.connect(plan_db.admin_url) as conn:
        used = _indexes_used(conn, query, plan_sample)
    assert query.index in used, f"{query.name} planned with {sorted(used) or 'no index'}"


# RLS evaluates the policy before any user predicate that is not LEAKPROOF, so such a predicate can
# never become an index condition: the full-text queries (@@) on all-tenant indexes of documents
# read the tenant's own rows and filter them, and never another tenant's index entries.
# Marking those operators LEAKPROOF (what revision 0007 once did) opened the GIN indexes to the
# application role and let EXPLAIN ANALYZE count other tenants' matches (tests/security). Every
# other tenant query gets its index as the application role, the JSONB and tag filter pages
# (@>, &&) included: they walk the tenant's (organization_id, id) key and stop at 50 rows.
_GIN_KINDS = (indexes.IndexKind.GIN, indexes.IndexKind.FULL_TEXT)
_ALL_TENANT = {n for n, ix in indexes.by_name().items() if indexes.kind_of(ix) in _GIN_KINDS}
_TENANT_QUERIES = [q for q in _PLANNED_HERE if not q.system]
_SEARCH_QUERIES = [q for q in _TENANT_QUERIES if q.index in _ALL_TENANT]
_INDEXED_QUERIES = [q for q in _TENANT_QUERIES if q not in _SEARCH_QUERIES]
_PAGES = [q for q in _INDEXED_QUERIES if catalog.is_page(q)]


def test_the_split_covers_every_gin_and_full_text_tenant_query() -> None:
    # No catalog query names an index of all tenants any more: documents' searches go through
    # 0021's function, the other tables' through 0022's pages.
    assert len(_SEARCH_QUERIES) == 0 and len(_INDEXED_QUERIES) == 41 and len(_PAGES) == 14
    assert {q.name for q in _THROUGH_FUNCTION} == {
        "documents.file_name_search",
        "documents.description_search",
    }
    assert len([q for q in catalog.QUERIES if catalog.is_search(q)]) == 10


@pytest.mark.parametrize("query", _INDEXED_QUERIES, ids=lambda q: q.name)
def test_tenant_query_uses_its_index_under_row_level_security(
    query: catalog.CatalogQuery, plan_db: PgDatabase, plan_sample: Sample
) -> None:
    with psycopg.connect(plan_db.app_url) as conn, conn.transaction():
        apply_tenant(conn, plan_sample.organization_id)
        used = _indexes_used(conn, query, plan_sample)
    assert query.index in used, f"{query.name} planned with {sorted(used) or 'no index'}"


# Revision 0021's document searches answer through a SECURITY DEFINER function: the application
# role's plan is a Function Scan whoever calls it, and the function's own query (run as its owner,
# inside the caller's tenant) is what must use the index: the tenant-keyed GIN index.
@pytest.mark.parametrize("query", _THROUGH_FUNCTION, ids=lambda q: q.name)
def test_a_search_through_a_function_runs_on_its_index_and_answers_the_app_role(
    query: catalog.CatalogQuery, plan_db: PgDatabase, plan_sample: Sample
) -> None:
    used, rows = inner_indexes(
        plan_db.admin_url, query.sql, query.bind(plan_sample), plan_sample.organization_id
    )
    assert query.index in used, f"{query.name} planned inside with {sorted(used) or 'no index'}"
    assert rows, f"{query.name} found nothing for the sample's value"
    with psycopg.connect(plan_db.app_url) as conn, conn.transaction():
        apply_tenant(conn, plan_sample.organization_id)
        assert conn.execute(query.sql, query.bind(plan_sample)).fetchall() == rows
