"""The B-tree catalog queries keep their index with the statistics of the `large` benchmark, not
only on the small hand-made data set of the other plan tests.

`large` has 200 firms sharing 1,000,000 documents (5,000 per firm, 12 per client, 416 clients
per firm), 500,000 tasks (4 per engagement) and 10,000,000 audit-log rows (50,000 per firm). The
generator at `small` scale with 4 firms makes the same per-firm shape (20,000 documents, 1,666
clients, 200,000 audit-log rows, the same uneven split between firms), so the planner sees the
same rows per firm, per client and per engagement as at `large`: real rows, analyzed, not
faked statistics. At `large` the plans of `documents.client_documents` and
`tasks.engagement_board` used the foreign-key indexes revision 0015 dropped.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from advisoros_db import datagen
from advisoros_db.bench import sampling
from advisoros_db.bench.plans import summary
from advisoros_db.datagen.scales import SCALES, get_scale
from advisoros_db.schema import catalog
from advisoros_db.tenancy import tenant_transaction
from tests.plans.function_plans import through_function
from tests.support import PgDatabase, PgServer, create_database, database_on, drop_database

FIRMS = 4
_OPERATORS = ("@>", "&&", "@@", "ILIKE")  # GIN and full-text: tests/plans/test_catalog_plans.py
# One live subscription per firm at every scale: 4 rows here (a sequential scan is right), 200 at
# `large`; tests/plans/test_catalog_plans.py covers it with 2,000 firms.
NOT_LARGE_LIKE = {"subscriptions.active", "users.advisor_directory"}
# Likewise users: 4 firms hold 80 users (one page, read whole), 200 firms about 4,000.
# The unique partial index exists for its rule (one live session per user and document); the
# foreign-key index on (organization_id, document_id), which ON DELETE of a document needs over
# every row, answers the read as well and is the one the planner takes, here as at `large`.
SERVED_BY = {
    "document_sessions.active_on_document": "ix_document_sessions_organization_id_document_id"
}
BTREE_QUERIES = [
    q
    for q in catalog.QUERIES
    if not q.system
    and not any(op in q.sql for op in _OPERATORS)
    and not through_function(q.sql)  # its own query's plan: tests/plans/test_catalog_plans.py
    # The JSONB/tag filter pages (spelled with the operators' functions) walk a tenant key:
    # tests/plans/test_filter_pages.py.
    and not catalog.is_page(q)
    # The search pages use their index inside a function: tests/plans/test_search_pages.py.
    and not catalog.is_search(q)
    and q.name not in NOT_LARGE_LIKE
]


@pytest.fixture(scope="module")
def large_like(server: PgServer, migrated_template: str) -> Iterator[PgDatabase]:
    name = f"large_like_{uuid.uuid4().hex[:10]}"
    create_database(server, name, template=migrated_template)
    db = database_on(server, name)
    try:
        datagen.seed(db.admin_url, "small", organizations=FIRMS)
        with psycopg.connect(db.admin_url, autocommit=True) as conn:
            conn.execute("VACUUM (FREEZE, ANALYZE)")
        yield db
    finally:
        drop_database(server, name)


@pytest.fixture(scope="module")
def sample(large_like: PgDatabase) -> sampling.Sample:
    with psycopg.connect(large_like.admin_url) as conn:
        return sampling.sample(conn)


def test_the_fixture_has_the_per_firm_shape_of_large() -> None:
    large, here = SCALES["large"], get_scale("small", FIRMS)
    assert here.documents / FIRMS == large.documents / large.organizations
    assert here.audit_logs / FIRMS == large.audit_logs / large.organizations
    assert abs(here.clients / FIRMS - large.clients / large.organizations) < 1
    assert here.tasks / here.engagements == large.tasks / large.engagements


def test_the_fixture_holds_the_rows(large_like: PgDatabase, sample: sampling.Sample) -> None:
    with psycopg.connect(large_like.admin_url) as conn:
        row = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE organization_id = %s) FROM documents",
            (sample.organization_id,),
        ).fetchone()
    assert row is not None and row[0] == 20_000 and row[1] >= 20_000 // FIRMS


@pytest.mark.parametrize("query", BTREE_QUERIES, ids=lambda q: q.name)
def test_btree_query_uses_its_index_as_the_application_role(
    query: catalog.CatalogQuery, large_like: PgDatabase, sample: sampling.Sample
) -> None:
    with (
        psycopg.connect(large_like.app_url, autocommit=True) as conn,
        tenant_transaction(conn, sample.organization_id),
    ):
        plan = summary(conn, query.sql, query.bind(sample))
    expected = SERVED_BY.get(query.name, query.index)
    assert expected in plan["indexes"], f"{query.name} planned with {plan['indexes']}"
