"""Why some catalog queries run unprepared: on a busy entity their generic plan reads every row the
entity has, where the plan made for the values reads what the LIMIT needs. If PostgreSQL ever
plans them well generically, these tests fail and `custom_plan` can go."""

from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest

from advisoros_db.bench.sampling import Sample
from advisoros_db.schema import catalog
from tests.support import PgDatabase

CUSTOM = [q for q in catalog.QUERIES if q.custom_plan]
HISTORY = 3_000  # rows of one entity, spread over two years of partitions


def _rows_scanned(node: dict[str, Any]) -> int:
    own = (
        int(node["Actual Rows"] * node.get("Actual Loops", 1)) if "Scan" in node["Node Type"] else 0
    )
    return own + sum(_rows_scanned(child) for child in node.get("Plans", []))


def _numbered(query: str) -> tuple[str, list[str]]:
    """The query with $1, $2... in place of psycopg's named placeholders, and their order."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        names.append(match.group(1))
        return f"${len(names)}"

    return re.sub(r"%\((\w+)\)s", number, query), names


def test_the_entity_trail_is_marked() -> None:
    assert [q.name for q in CUSTOM] == ["audit.entity_trail"]


@pytest.mark.parametrize("query", CUSTOM, ids=lambda q: q.name)
def test_generic_plan_reads_the_whole_history_and_custom_plan_the_limit(
    query: catalog.CatalogQuery, plan_db: PgDatabase, plan_sample: Sample
) -> None:
    params = dict(query.bind(plan_sample))
    with psycopg.connect(plan_db.admin_url) as conn:  # one transaction, rolled back on exit
        conn.execute(
            "INSERT INTO audit_logs (organization_id, entity_type, entity_id, action, created_at)"
            " SELECT %(organization_id)s::uuid, %(entity_type)s::text, %(entity_id)s::uuid, 'view',"
            " now() - g * interval '6 hours' FROM generate_series(1, %(n)s) g",
            {**params, "n": HISTORY},
        )
        numbered, names = _numbered(query.sql)
        conn.execute("PREPARE trail AS " + numbered)
        conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        args = ", ".join(["%s"] * len(names))
        # EXECUTE's arguments as literals: the server cannot type bare parameters there.
        [[generic]] = (
            psycopg.ClientCursor(conn)
            .execute(
                f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE trail({args})",
                [params[n] for n in names],
            )
            .fetchall()
        )
        [[custom]] = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + query.sql, params).fetchall()
        conn.rollback()
    read_generic = _rows_scanned(generic[0]["Plan"])
    read_custom = _rows_scanned(custom[0]["Plan"])
    assert read_generic >= HISTORY, f"the generic plan read only {read_generic} rows"
    assert read_custom < 500, f"the custom plan read {read_custom} rows for a LIMIT of 100"
