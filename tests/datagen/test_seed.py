"""Seeding at tiny scale: every table filled, every constraint and tenant rule kept, realistic shape."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import sql

from advisoros_db import datagen
from advisoros_db.datagen.introspect import describe, tables
from advisoros_db.errors import ConfigError
from tests.datagen.conftest import ANCHOR
from tests.support import PgDatabase


def count(conn: psycopg.Connection[Any], query: str | sql.Composable, *params: Any) -> int:
    row = conn.execute(query, params).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return int(row[0])


def test_every_table_is_filled_except_derived_ones(seeded: PgDatabase) -> None:
    with psycopg.connect(seeded.admin_url) as conn:
        empty = [
            name for name in tables(conn) if count(conn, f'SELECT count(*) FROM "{name}"') == 0
        ]
    assert set(empty) <= {"document_embeddings", "documents_keys", "audit_logs_keys"}


def test_recorded_counts_match_the_tables(seeded: PgDatabase) -> None:
    run = datagen.last_run(seeded.admin_url)
    assert run is not None and run["scale"] == "tiny" and run["seed"] == 7
    counts: dict[str, int] = run["row_counts"]  # type: ignore[assignment]
    assert counts["documents"] == datagen.SCALES["tiny"].documents
    assert counts["audit_logs"] == datagen.SCALES["tiny"].audit_logs
    with psycopg.connect(seeded.admin_url) as conn:
        for name, n in counts.items():
            assert count(conn, f'SELECT count(*) FROM "{name}"') == n, name


def test_every_foreign_key_is_validated(seeded: PgDatabase) -> None:
    # The loader either drops and re-adds foreign keys (re-adding validates every row) or keeps
    # them and checks them by query; a constraint left NOT VALID would mean a reference was
    # never checked.
    with psycopg.connect(seeded.admin_url) as conn:
        unvalidated = conn.execute(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint"
            " WHERE contype IN ('f', 'c') AND NOT convalidated"
            " AND connamespace = 'public'::regnamespace"
        ).fetchall()
    assert unvalidated == []


TENANT_PAIRS = [
    ("documents", "client_id", "clients"),
    ("documents", "uploaded_by", "users"),
    ("tasks", "engagement_id", "engagements"),
    ("tasks", "assignee_id", "users"),
    ("invoices", "client_id", "clients"),
    ("invoices", "engagement_id", "engagements"),
    ("engagements", "client_id", "clients"),
    ("notes", "author_id", "users"),
    ("document_processing", "document_id", "documents"),
]


@pytest.mark.parametrize(("child", "column", "parent"), TENANT_PAIRS)
def test_children_reference_parents_of_their_own_firm(
    seeded: PgDatabase, child: str, column: str, parent: str
) -> None:
    query = sql.SQL(
        "SELECT count(*) FILTER (WHERE p.organization_id <> c.organization_id),"
        " count(*) FILTER (WHERE p.id IS NOT NULL)"
        " FROM {} c LEFT JOIN {} p ON p.id = c.{}"
    ).format(sql.Identifier(child), sql.Identifier(parent), sql.Identifier(column))
    with psycopg.connect(seeded.admin_url) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    cross, linked = row
    assert cross == 0
    assert linked > 0


def test_audit_entities_belong_to_the_same_firm(seeded: PgDatabase) -> None:
    with psycopg.connect(seeded.admin_url) as conn:
        foreign = count(
            conn,
            "SELECT count(*) FROM audit_logs a JOIN documents d ON d.id = a.entity_id"
            " WHERE a.entity_type = 'document' AND d.organization_id <> a.organization_id",
        )
        linked = count(
            conn,
            "SELECT count(*) FROM audit_logs a JOIN documents d ON d.id = a.entity_id"
            " WHERE a.entity_type = 'document'",
        )
    assert foreign == 0
    assert linked > 0


def test_data_has_the_shape_the_hot_paths_need(seeded: PgDatabase) -> None:
    with psycopg.connect(seeded.admin_url) as conn:
        overdue_tasks = count(
            conn,
            "SELECT count(*) FROM tasks WHERE due_date < %s"
            " AND status NOT IN ('completed', 'cancelled')",
            ANCHOR.date(),
        )
        overdue_invoices = count(
            conn,
            "SELECT count(*) FROM invoices WHERE status = 'overdue' AND due_date < %s",
            ANCHOR.date(),
        )
        years = conn.execute(
            "SELECT min(tax_year), max(tax_year), count(*) FILTER (WHERE tax_year IS NULL)"
            " FROM documents"
        ).fetchone()
        months = count(
            conn, "SELECT count(DISTINCT date_trunc('month', created_at)) FROM audit_logs"
        )
        with_text = count(
            conn,
            "SELECT count(*) FROM documents WHERE extracted_text ~ '(W-2|1099-NEC|K-1|statement)'",
        )
        sizes = conn.execute(
            "SELECT max(n), min(n) FROM (SELECT count(*) n FROM documents GROUP BY organization_id) s"
        ).fetchone()
        in_review = count(conn, "SELECT count(*) FROM documents WHERE needs_review")
    assert overdue_tasks > 0 and overdue_invoices > 0
    assert years is not None and years[0] >= 2020 and years[1] <= 2030 and years[2] > 0
    assert months >= 24  # 24 months of history
    assert with_text > datagen.SCALES["tiny"].documents // 2
    assert sizes is not None and sizes[0] >= 3 * sizes[1]  # a few large firms, many small
    assert in_review > 0


def test_seeding_over_data_is_refused_and_changes_nothing(seeded: PgDatabase) -> None:
    with psycopg.connect(seeded.admin_url) as conn:
        before = count(conn, "SELECT count(*) FROM documents")
    with pytest.raises(ConfigError, match="--replace"):
        datagen.seed(seeded.admin_url, "tiny", seed=7, anchor=ANCHOR)
    with psycopg.connect(seeded.admin_url) as conn:
        assert count(conn, "SELECT count(*) FROM documents") == before


def test_seeding_an_unmigrated_database_says_to_migrate(empty_db: PgDatabase) -> None:
    with pytest.raises(ConfigError, match="migrate it first"):
        datagen.seed(empty_db.admin_url, "tiny")


def test_schema_statuses_are_respected(seeded: PgDatabase) -> None:
    # Labels outside a CHECK list would have failed the load; this proves the generator spread
    # rows over the schema's own vocabulary rather than collapsing onto one label.
    with psycopg.connect(seeded.admin_url) as conn:
        info = describe(conn, "documents")
        statuses = {r[0] for r in conn.execute("SELECT DISTINCT status FROM documents")}
    assert statuses <= set(info.allowed_values("status"))
    assert len(statuses) >= 4


def test_every_index_is_valid_and_on_every_partition(seeded: PgDatabase) -> None:
    # Regression: indexes of a partitioned table were put back `ON ONLY` the parent after the
    # load, leaving invalid parent indexes and partitions with no index at all.
    with psycopg.connect(seeded.admin_url) as conn:
        invalid = conn.execute(
            "SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid"
        ).fetchall()
        missing = conn.execute(
            "SELECT p.indexrelid::regclass::text, c.relname FROM pg_index p"
            " JOIN pg_class t ON t.oid = p.indrelid AND t.relkind = 'p'"
            " JOIN pg_inherits i ON i.inhparent = t.oid JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE NOT EXISTS (SELECT 1 FROM pg_inherits x JOIN pg_index ci"
            "   ON ci.indexrelid = x.inhrelid WHERE x.inhparent = p.indexrelid"
            "   AND ci.indrelid = c.oid)"
        ).fetchall()
    assert invalid == []
    assert missing == []


LEAVES = (
    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
    " WHERE i.inhparent = %s::regclass ORDER BY 1"
)


@pytest.mark.parametrize(("table", "filled"), [("documents", 5), ("audit_logs", 24)])
def test_partitioned_tables_are_loaded_frozen_leaf_by_leaf(
    seeded: PgDatabase, table: str, filled: int
) -> None:
    # COPY FREEZE is refused on a partitioned table: the loader copies each bucket of rows into
    # its leaf, truncated in the load's transaction. Every row is frozen, in every leaf (a row
    # another test inserts and rolls back is neither frozen nor counted).
    with psycopg.connect(seeded.admin_url) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")  # rolled back below
        with_rows = []
        for (leaf,) in conn.execute(LEAVES, (table,)).fetchall():
            rows = count(conn, sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(leaf)))
            frozen = count(
                conn,
                "SELECT count(*) FROM generate_series(0, pg_relation_size(%s::regclass) / 8192 - 1)"
                " p, heap_page_items(get_raw_page(%s, p::int)) WHERE t_infomask & 768 = 768",
                leaf,
                leaf,
            )
            assert frozen == rows, leaf
            if rows:
                with_rows.append(leaf)
        conn.rollback()
    assert len(with_rows) >= filled, with_rows


def test_followers_hold_exactly_the_rows_of_their_tables(seeded: PgDatabase) -> None:
    # The loader fills the key registry (and a conversion's rollback copy, when one is open; a
    # migrated database has none) set-based instead of through their row triggers; they must hold
    # what the triggers would have written.
    pairs = [
        ("SELECT id, organization_id FROM documents", "SELECT * FROM documents_keys"),
    ]
    with psycopg.connect(seeded.admin_url) as conn:
        for table, follower in pairs:
            assert count(conn, f"SELECT count(*) FROM ({table}) t") > 0
            assert count(conn, f"SELECT count(*) FROM ({table} EXCEPT {follower}) d") == 0
            assert count(conn, f"SELECT count(*) FROM ({follower} EXCEPT {table}) d") == 0


def test_after_seeding_the_row_triggers_keep_followers_in_step_again(seeded: PgDatabase) -> None:
    with psycopg.connect(seeded.admin_url) as conn:
        conn.execute("CREATE TEMP TABLE d AS SELECT * FROM documents LIMIT 1")
        conn.execute("UPDATE d SET id = gen_random_uuid()")
        conn.execute("INSERT INTO documents SELECT * FROM d")
        assert count(conn, "SELECT count(*) FROM documents_keys JOIN d USING (id)") == 1
        conn.rollback()


CATALOG = {
    "indexes": (
        "SELECT t.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x"
        " JOIN pg_class t ON t.oid = x.indrelid"
        " WHERE t.relnamespace = 'public'::regnamespace AND NOT t.relispartition"
    ),
    "constraints": (
        "SELECT t.relname, c.conname, pg_get_constraintdef(c.oid), c.convalidated"
        " FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid"
        " WHERE t.relnamespace = 'public'::regnamespace AND NOT t.relispartition"
    ),
    "triggers": (
        "SELECT t.relname, g.tgname, g.tgenabled FROM pg_trigger g"
        " JOIN pg_class t ON t.oid = g.tgrelid"
        " WHERE t.relnamespace = 'public'::regnamespace AND NOT t.relispartition"
        " AND NOT g.tgisinternal"
    ),
}


def test_seeding_leaves_the_schema_exactly_as_migrated(seeded: PgDatabase, db: PgDatabase) -> None:
    # Indexes, keys and foreign keys are set aside and put back, triggers switched off and on:
    # the result must not differ from a freshly migrated database in any of them.
    with psycopg.connect(seeded.admin_url) as after, psycopg.connect(db.admin_url) as fresh:
        for what, query in CATALOG.items():
            assert sorted(after.execute(query).fetchall()) == sorted(
                fresh.execute(query).fetchall()
            ), what
