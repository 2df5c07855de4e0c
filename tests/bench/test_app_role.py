"""The benchmark measures what the application sees: tenant cases run as the application role in a
tenant transaction for the sampled firm, on both sides under the same row-level security; the
owner's column bypasses it. Checked inside the measured transactions, on a seeded database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from advisoros_db import bench
from advisoros_db.bench import (
    catalog_cases,
    index_costs,
    naive,
    sampling,
    write_breakdown,
    write_cases,
)
from advisoros_db.bench.cases import Budget, QueryCase, Sides
from advisoros_db.datagen.introspect import describe
from advisoros_db.errors import ConfigError
from advisoros_db.tenancy import APP_ROLE
from tests.bench.conftest import tiny_clone
from tests.support import PgDatabase, PgServer

BUDGET = Budget(warmup=1, min_reps=2, max_reps=2, seconds=0.0, write_reps=1)
NAIVE_PATH = f"-c search_path={naive.NAIVE},public"

# Partitions carry copies of their parent's policy; the naive side has no partitions.
_POLICIES = """
SELECT p.tablename::text, p.policyname::text, p.cmd, p.roles::text[], p.qual, p.with_check
  FROM pg_policies p
  JOIN pg_class c ON c.relname = p.tablename AND c.relnamespace = to_regnamespace(p.schemaname)
 WHERE p.schemaname = %s AND NOT c.relispartition ORDER BY 1, 2
"""
_SECURITY = """
SELECT c.relname::text, c.relrowsecurity, c.relforcerowsecurity,
       has_table_privilege(%s, c.oid, 'SELECT'), has_table_privilege(%s, c.oid, 'INSERT'),
       has_table_privilege(%s, c.oid, 'UPDATE'), has_table_privilege(%s, c.oid, 'DELETE')
  FROM pg_class c
 WHERE c.relnamespace = to_regnamespace(%s) AND c.relkind IN ('r', 'p') AND NOT c.relispartition
 ORDER BY 1
"""


@pytest.fixture(scope="module")
def seeded(server: PgServer, tiny_template: str) -> Iterator[PgDatabase]:
    """Seeded at `tiny` with the naive copy built (a clone of the session's data set)."""
    yield from tiny_clone(server, tiny_template, "app")


@pytest.fixture
def sides(seeded: PgDatabase) -> Iterator[Sides]:
    with (
        psycopg.connect(seeded.app_url, autocommit=True) as app,
        psycopg.connect(seeded.app_url, autocommit=True, options=NAIVE_PATH) as app_naive,
        psycopg.connect(seeded.admin_url, autocommit=True) as owner,
        psycopg.connect(seeded.admin_url, autocommit=True, options=NAIVE_PATH) as owner_naive,
    ):
        org = sampling.sample(owner).organization_id
        yield Sides(app, app_naive, org, owner, owner_naive)


def _count(conn: psycopg.Connection[Any], query: str, *params: Any) -> int:
    row = conn.execute(query, params).fetchone()
    return int(row[0]) if row else -1


def test_the_naive_side_has_the_same_policies_and_grants(seeded: PgDatabase) -> None:
    with psycopg.connect(seeded.admin_url) as conn:
        conn.execute("SET search_path = ''")  # expressions rendered with their schema
        public = conn.execute(_POLICIES, ("public",)).fetchall()
        copied = conn.execute(_POLICIES, (naive.NAIVE,)).fetchall()
        role = (APP_ROLE,) * 4
        optimized_access = {r[0]: r[1:] for r in conn.execute(_SECURITY, (*role, "public"))}
        naive_access = {r[0]: r[1:] for r in conn.execute(_SECURITY, (*role, naive.NAIVE))}
    assert len(public) > 40 and copied == public
    assert set(naive_access) == set(optimized_access) - {"alembic_version"}
    assert naive_access == {t: optimized_access[t] for t in naive_access}


def test_query_cases_run_as_the_application_role_in_the_sampled_tenant(sides: Sides) -> None:
    tenant_clients = _count(
        sides.owner_optimized,
        "SELECT count(*) FROM clients WHERE organization_id = %s",
        sides.organization_id,
    )
    every_client = _count(sides.owner_optimized, "SELECT count(*) FROM clients")
    assert 0 < tenant_clients < every_client
    # A row per client, but only where the statement runs as the application role for the
    # sampled firm: read inside the timed executions themselves.
    probe = QueryCase(
        "probe.session",
        "probe",
        "who runs the timed statements",
        "SELECT id FROM clients WHERE current_user = %(role)s"
        " AND current_setting('app.organization_id', true) = %(org)s",
        {"role": APP_ROLE, "org": str(sides.organization_id)},
    )
    result = probe.run(sides, BUDGET)
    assert result.role == "application"
    assert result.optimized is not None and result.naive is not None
    assert result.optimized.rows == result.naive.rows == tenant_clients
    expected = {"role": APP_ROLE, "tenant": str(sides.organization_id)}
    assert result.notes["session"] == {"optimized": expected, "naive": expected}
    # The owner's column runs the same statement without the role and the tenant.
    assert result.owner_optimized is not None and result.owner_optimized.rows == 0

    # Row-level security is in the measured path on both sides: the firm's clients only, where
    # the owner reads every firm's.
    everything = QueryCase("probe.rls", "probe", "all clients", "SELECT id FROM clients", {})
    seen = everything.run(sides, BUDGET)
    assert seen.optimized is not None and seen.naive is not None
    assert seen.optimized.rows == seen.naive.rows == tenant_clients
    assert seen.owner_optimized is not None and seen.owner_naive is not None
    assert seen.owner_optimized.rows == seen.owner_naive.rows == every_client


def test_system_queries_run_as_the_owner(sides: Sides) -> None:
    sample = sampling.sample(sides.owner_optimized)
    case = next(c for c in catalog_cases.cases(sample) if c.system)
    result = case.run(sides, BUDGET)
    assert result.role == "owner" and "session" not in result.notes
    assert result.owner_optimized is None  # one column: it is the owner's figure


def test_inserts_run_as_the_application_role_and_leave_nothing(sides: Sides) -> None:
    before = _count(sides.owner_optimized, "SELECT count(*) FROM documents")
    before_naive = _count(sides.owner_naive, "SELECT count(*) FROM documents")
    tenant_docs = _count(
        sides.owner_optimized,
        "SELECT count(*) FROM documents WHERE organization_id = %s",
        sides.organization_id,
    )
    result = write_cases.insert_cost("documents", 10_000).run(sides, BUDGET)
    expected = {"role": APP_ROLE, "tenant": str(sides.organization_id)}
    assert result.notes["session"] == {"optimized": expected, "naive": expected}
    assert result.optimized is not None and result.naive is not None
    # Copies of the sampled firm's own documents (all it has: fewer than 10,000 at tiny).
    assert result.optimized.work == result.naive.work == tenant_docs
    assert _count(sides.owner_optimized, "SELECT count(*) FROM documents") == before
    assert _count(sides.owner_naive, "SELECT count(*) FROM documents") == before_naive


def test_audit_log_inserts_leave_time_and_user_to_the_database(sides: Sides) -> None:
    result = write_cases.insert_cost("audit_logs", 20).run(sides, BUDGET)
    assert result.optimized is not None and result.optimized.work == 20
    assert result.naive is not None and result.naive.work == 20


def test_write_costs_put_every_index_back(sides: Sides) -> None:
    conn = sides.owner_optimized
    indexes = index_costs.inventory(conn)
    tasks = [i for i in indexes if i.table == "tasks"]
    inserts, costs = index_costs.write_costs(conn, tasks, 100, 1)
    assert inserts["tasks"]["rows"] == 100 and inserts["tasks"]["rows_per_second"] > 0
    droppable = {i.name for i in tasks if i.droppable}
    assert set(costs) == droppable and droppable
    for name in droppable:
        assert costs[name]["rows_per_second_without"] > 0
    assert [i.name for i in index_costs.inventory(conn) if i.table == "tasks"] == [
        i.name for i in tasks
    ]
    assert _count(conn, "SELECT count(*) FROM pg_class WHERE relname = 'bench_index_rows'") == 0


_CONTENT = "SELECT md5(string_agg(t::text, ',' ORDER BY t.id)) FROM {} t"


@pytest.mark.parametrize("table", ["users", "organizations"])
def test_write_costs_reinsert_the_rows_of_a_table_whose_unique_rules_copies_break(
    sides: Sides, table: str
) -> None:
    # Regression: copies of users (one e-mail per firm) and organizations (one slug) broke a
    # unique rule, so 15 tables of the `large` report had no write cost for their indexes.
    conn = sides.owner_optimized
    content = sql.SQL(_CONTENT).format(sql.Identifier(table))
    before = conn.execute(content).fetchone()
    children = _count(conn, "SELECT count(*) FROM clients")
    members = [i for i in index_costs.inventory(conn) if i.table == table]
    with pytest.raises(psycopg.errors.UniqueViolation), conn.transaction(force_rollback=True):
        conn.execute(index_costs.copies(table, index_costs.keep_rows(conn, table, 5)).statement)
    inserts, costs = index_costs.write_costs(conn, members, 50, 1)
    assert inserts[table]["method"] == "reinsert" and inserts[table]["rows"] > 0
    droppable = {i.name for i in members if i.droppable}
    assert set(costs) == droppable and droppable
    assert all(costs[name]["rows_per_second_without"] > 0 for name in droppable)
    # Rolled back: the same rows, the children the delete did not cascade to, every index.
    assert conn.execute(content).fetchone() == before
    assert _count(conn, "SELECT count(*) FROM clients") == children
    assert [i.name for i in index_costs.inventory(conn) if i.table == table] == [
        i.name for i in members
    ]
    assert conn.execute("SHOW session_replication_role").fetchone() == ("origin",)


def test_without_the_application_role_the_benchmark_refuses(seeded: PgDatabase) -> None:
    with pytest.raises(ConfigError, match=APP_ROLE):
        bench.run(seeded.admin_url, scale="tiny")


def test_the_inventory_sizes_every_index_once(sides: Sides) -> None:
    # Regression: plain tables' indexes were sized 0 (pg_partition_tree is empty for them), and an
    # index a foreign key references was listed once more per such key.
    conn = sides.owner_optimized
    found = index_costs.inventory(conn)
    assert len({i.name for i in found}) == len(found)
    sizes = {i.name: i.bytes for i in found}
    assert sizes["pk_tasks"] == _count(conn, "SELECT pg_relation_size('pk_tasks')") > 0
    partitions = _count(
        conn,
        "SELECT sum(pg_relation_size(relid)) FROM pg_partition_tree('idx_documents_org_client_status')",
    )
    assert sizes["idx_documents_org_client_status"] == partitions > 0
    assert {i.constraint for i in found} == {None, "p", "u"}


_SHAPE = """
SELECT (SELECT array_agg(tgname::text || tgenabled::text ORDER BY tgname) FROM pg_trigger
         WHERE tgrelid = %(rel)s::regclass AND NOT tgisinternal),
       (SELECT array_agg(conname::text ORDER BY conname) FROM pg_constraint
         WHERE conrelid = %(rel)s::regclass),
       (SELECT array_agg(indexrelid::regclass::text ORDER BY 1) FROM pg_index
         WHERE indrelid = %(rel)s::regclass),
       (SELECT relrowsecurity FROM pg_class WHERE oid = %(rel)s::regclass),
       to_regclass('bench_breakdown_plain')
"""


def test_the_naive_documents_have_the_primary_key_of_their_registry(sides: Sides) -> None:
    """An untuned schema still has a primary key: the optimized side's is in documents_keys."""
    conn = sides.owner_naive
    key = conn.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = 'naive.documents'::regclass AND contype = 'p'"
    ).fetchone()
    assert key == ("PRIMARY KEY (id)",)
    cols = sql.SQL(", ").join(
        sql.Identifier(c.name)
        for c in describe(conn, "documents", naive.NAIVE).columns.values()
        if not c.generated
    )
    with pytest.raises(psycopg.errors.UniqueViolation), conn.transaction():
        conn.execute(
            sql.SQL(
                "INSERT INTO naive.documents ({}) SELECT {} FROM naive.documents LIMIT 1"
            ).format(cols, cols)
        )


@pytest.mark.parametrize(
    ("table", "schema", "expected"),
    [
        (
            "audit_logs",
            "public",
            {
                "trigger audit_chain_stamp",
                "trigger audit_rollup_reopen",
                "key pk_audit_logs",
                "index idx_audit_logs_entity_time",
                "row-level security",
            },
        ),
        ("documents", "public", {"trigger partition_register", "index idx_documents_tenant_fts"}),
        ("documents", naive.NAIVE, {"key pk_documents", "row-level security"}),
    ],
)
def test_the_insert_breakdown_takes_each_item_away_and_puts_it_back(
    sides: Sides, table: str, schema: str, expected: set[str]
) -> None:
    conn = sides.owner_naive if schema == naive.NAIVE else sides.owner_optimized
    name = sql.Identifier(schema, table)
    rel = {"rel": name.as_string(conn)}
    counting = sql.SQL("SELECT count(*) FROM {}").format(name).as_string(conn)
    shape = conn.execute(_SHAPE, rel).fetchone()
    count = _count(conn, counting)
    result = write_breakdown.measure(conn, table, 20, 1, schema=schema).as_dict()
    names = {item["without"] for item in result["items"]}
    assert expected <= names
    assert {write_breakdown.BARE, write_breakdown.PLAIN} <= names
    assert result["rows"] == 20 and result["execution_ms"] > 0
    # Everything it took away is back, and nothing it inserted stayed.
    assert conn.execute(_SHAPE, rel).fetchone() == shape
    assert _count(conn, counting) == count
