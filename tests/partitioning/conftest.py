"""Plain audit_logs, documents and document_processing (shaped like the schema's, with RLS, grants
and a foreign key into documents), so the partitioning machinery is tested on its own."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from advisoros_db.bench.partition_load import PLAIN_TABLES
from tests.support import PgDatabase


@pytest.fixture
def plain(empty_db: PgDatabase) -> Iterator[PgDatabase]:
    with psycopg.connect(empty_db.admin_url, autocommit=True) as conn:
        conn.execute(PLAIN_TABLES)
    yield empty_db


@pytest.fixture
def admin(plain: PgDatabase) -> Iterator[psycopg.Connection]:
    with psycopg.connect(plain.admin_url, autocommit=True) as conn:
        yield conn
