"""The COPY loader is all-or-nothing per table, and puts back what it set aside."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from advisoros_db.datagen.assemble import Batch
from advisoros_db.datagen.introspect import describe
from advisoros_db.datagen.loader import load_table
from advisoros_db.errors import CheckViolation
from tests.support import PgDatabase

INDEXES = "SELECT indexname FROM pg_indexes WHERE tablename = 'clients' ORDER BY 1"
FOREIGN_KEYS = "SELECT conname FROM pg_constraint WHERE conrelid = 'clients'::regclass AND contype = 'f' ORDER BY 1"


def snapshot(conn: psycopg.Connection[Any]) -> tuple[list[Any], list[Any]]:
    return conn.execute(INDEXES).fetchall(), conn.execute(FOREIGN_KEYS).fetchall()


def test_a_bad_row_loads_nothing_and_keeps_indexes_and_keys(db: PgDatabase) -> None:
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        org = uuid.uuid4()
        conn.execute(
            "INSERT INTO organizations (id, name, slug) VALUES (%s, 'Acme CPAs', 'acme')", (org,)
        )
        before = snapshot(conn)
        assert before[0], "the migrated clients table should have secondary indexes"
        types = [
            describe(conn, "clients").columns[c].oid
            for c in ("id", "organization_id", "business_name", "status")
        ]
        good = Batch(
            ["id", "organization_id", "business_name", "status"],
            types,
            [(uuid.uuid4(), org, "Fine Co", "active")],
        )
        bad = Batch(good.columns, types, [(uuid.uuid4(), org, "Broken Co", "not-a-status")])
        with pytest.raises(CheckViolation):
            load_table(conn, "public", "clients", [good, bad])
        assert conn.execute("SELECT count(*) FROM clients").fetchone() == (0,)
        assert snapshot(conn) == before

        result = load_table(conn, "public", "clients", [good])
        assert result.rows == 1
        assert snapshot(conn) == before
