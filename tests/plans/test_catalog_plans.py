"""Every catalog query, on realistic data, is planned with the index it relies on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from advisoros_db.schema import catalog
from tests.support import PgDatabase


def _index_names(node: dict[str, Any]) -> Iterator[str]:
    if "Index Name" in node:
        yield node["Index Name"]
    for child in node.get("Plans", []):
        yield from _index_names(child)


@pytest.mark.parametrize("query", catalog.QUERIES, ids=lambda q: q.name)
def test_query_uses_its_index(
    query: catalog.CatalogQuery, plan_db: PgDatabase, plan_sample: catalog.Sample
) -> None:
    with psycopg.connect(plan_db.admin_url) as conn:
        # Parameters are bound server-side, as the application sends them.
        [[plan]] = conn.execute(
            "EXPLAIN (FORMAT JSON) " + query.sql, query.bind(plan_sample)
        ).fetchall()
        conn.execute(query.sql, query.bind(plan_sample))  # and the query itself runs
        root = (plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]
        # On a partitioned table the plan names each partition's index; count its parent's name.
        used = {
            row[0]
            for row in conn.execute(
                "SELECT coalesce(pg_partition_root(to_regclass(n))::regclass::text, n)"
                " FROM unnest(%s::text[]) n",
                (sorted(set(_index_names(root))),),
            ).fetchall()
        }
    assert query.index in used, f"{query.name} planned with {sorted(used) or 'no index'}"
