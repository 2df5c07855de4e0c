"""Same seed, same data; another seed, other data."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.datagen.conftest import seeded_database
from tests.support import PgDatabase, PgServer

FINGERPRINT = "SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) FROM {} t"
TABLES = ("organizations", "clients", "documents", "tasks", "invoices", "audit_logs", "api_keys")


def fingerprints(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return {
            name: conn.execute(FINGERPRINT.format(name)).fetchone()[0]  # type: ignore[index]
            for name in TABLES
        }


@pytest.fixture(scope="module")
def twin(server: PgServer, migrated_template: str) -> Iterator[PgDatabase]:
    yield from seeded_database(server, migrated_template, seed=7)


@pytest.fixture(scope="module")
def other(server: PgServer, migrated_template: str) -> Iterator[PgDatabase]:
    yield from seeded_database(server, migrated_template, seed=8)


def test_same_seed_gives_identical_rows(seeded: PgDatabase, twin: PgDatabase) -> None:
    assert fingerprints(seeded.admin_url) == fingerprints(twin.admin_url)


def test_another_seed_gives_other_rows(seeded: PgDatabase, other: PgDatabase) -> None:
    mine, theirs = fingerprints(seeded.admin_url), fingerprints(other.admin_url)
    assert all(mine[name] != theirs[name] for name in TABLES)
