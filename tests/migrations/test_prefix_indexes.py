"""Revision 0016 merges overlapping B-trees: on a populated database it drops the seven foreign-key
indexes that lead a wider B-tree, its downgrade builds them again, and no data moves."""

from __future__ import annotations

import importlib
from typing import Any

import psycopg
from psycopg import sql

from advisoros_db import datagen, migrations
from advisoros_db.bench.index_costs import inventory, overlaps
from tests.support import PgDatabase

REVISION = importlib.import_module("advisoros_db.migrations.versions.0016_bench_app_prefix_indexes")
MERGED = {name: (table, columns, wider) for name, table, columns, wider in REVISION.MERGED}

_COLUMNS = """
SELECT c.relname::text, array_agg(a.attname::text ORDER BY k.n)
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_class c ON c.oid = i.indrelid
  JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n) ON true
  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
 WHERE ic.relname = %s AND c.relnamespace = 'public'::regnamespace
 GROUP BY c.relname
"""


def _state(url: str) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        found = {i.name: i for i in inventory(conn)}
        columns = {
            name: conn.execute(_COLUMNS, (name,)).fetchone() for name in MERGED if name in found
        }
        counts = {
            table: conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            ).fetchone()
            for table in {t for t, _, _ in MERGED.values()}
        }
        return {"found": found, "columns": columns, "counts": counts}


def test_downgrade_rebuilds_the_prefix_indexes_and_upgrade_merges_them(db: PgDatabase) -> None:
    datagen.seed(db.admin_url, "tiny")
    head = _state(db.admin_url)
    assert not set(MERGED) & set(head["found"])
    for name, (_, _, wider) in MERGED.items():
        assert wider in head["found"], f"{name} is merged into {wider}, which must exist"
    assert overlaps(head["found"].values()) == {}

    migrations.downgrade(db.admin_url, REVISION.down_revision)
    before = _state(db.admin_url)
    assert before["counts"] == head["counts"]
    for name, (table, columns, _) in MERGED.items():
        assert before["columns"][name] == (table, list(columns))
    # Exactly the seven pairs the revision merges overlap, each with the wider index it names.
    assert overlaps(before["found"].values()) == {n: w for n, (_, _, w) in MERGED.items()}

    migrations.upgrade(db.admin_url)
    after = _state(db.admin_url)
    assert not set(MERGED) & set(after["found"])
    assert after["counts"] == head["counts"]
    assert migrations.drift(db.admin_url) == []
