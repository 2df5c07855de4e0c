"""Same seed, same rows, whatever the number of generator processes: every table's content."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import sql

from advisoros_db.datagen.introspect import tables
from tests.datagen.conftest import seeded_database
from tests.support import PgDatabase, PgServer

# Order-independent content: rows may reach the server in another order with more processes.
CHECKSUM = sql.SQL(
    "SELECT count(*), md5(COALESCE(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {} t"
)


def checksums(url: str) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        return {
            name: conn.execute(CHECKSUM.format(sql.Identifier(name))).fetchone()
            for name in tables(conn)
        }


@pytest.mark.parametrize(("scale", "many"), [("tiny", 3), ("small", 2)])
def test_one_and_several_workers_load_identical_tables(
    server: PgServer, migrated_template: str, seeded: PgDatabase, scale: str, many: int
) -> None:
    # At tiny, the one-process side is the package's data set (seed 7, one worker, conftest.py).
    sums = [checksums(seeded.admin_url)] if scale == "tiny" else []
    for workers in (many,) if scale == "tiny" else (1, many):
        for db in seeded_database(server, migrated_template, 7, scale, workers=workers):
            sums.append(checksums(db.admin_url))
    one, several = sums
    assert one == several
    filled = [name for name, (rows, _) in one.items() if rows]
    assert len(filled) >= 40, filled  # every generated table took part in the comparison
    assert one["audit_logs"][0] == {"tiny": 6_000, "small": 200_000}[scale]
