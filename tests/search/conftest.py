"""Search fixtures: a database migrated to head (with the default model's HNSW index), and a
session-wide copy holding the labelled set, embedded once with the offline model."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest

from advisoros_db.bench import sampling
from advisoros_db.search import indexes
from advisoros_db.search.embedders import DEFAULT_MODEL, E5Embedder
from advisoros_db.search.pipeline import embed_pending
from tests.search.corpus import Tenant, add_labelled_set, make_tenant
from tests.support import PgDatabase, PgServer, create_database, database_on, drop_database


@pytest.fixture(scope="session")
def search_template(server: PgServer, migrated_template: str) -> Iterator[str]:
    """A copy of the migrated template (revision 0006 built the default model's HNSW index)."""
    name = f"search_template_{uuid.uuid4().hex[:8]}"
    create_database(server, name, template=migrated_template)
    db = database_on(server, name)
    try:
        with psycopg.connect(db.admin_url) as conn:
            row = conn.execute(
                "SELECT to_regclass(%s) IS NOT NULL", (indexes.index_name(DEFAULT_MODEL),)
            ).fetchone()
        assert row == (True,), "revision 0006_vector_indexes did not build the HNSW index"
        yield name
    finally:
        drop_database(server, name)


@pytest.fixture
def search_db(server: PgServer, search_template: str) -> Iterator[PgDatabase]:
    name = f"s_{uuid.uuid4().hex[:16]}"
    create_database(server, name, template=search_template)
    try:
        yield database_on(server, name)
    finally:
        drop_database(server, name)


@pytest.fixture(scope="module")
def populated(server: PgServer, dataset_template: str) -> Iterator[PgDatabase]:
    """A module's own clone of the session's copy of tests/plans/dataset.sql (tests/conftest.py),
    not a reload: revision tests step it down and up."""
    name = f"populated_{uuid.uuid4().hex[:12]}"
    create_database(server, name, template=dataset_template)
    try:
        yield database_on(server, name)
    finally:
        drop_database(server, name)


@pytest.fixture(scope="module")
def org(populated: PgDatabase) -> uuid.UUID:
    """The tenant the benchmark samples in `populated`."""
    with psycopg.connect(populated.admin_url) as conn:
        return sampling.sample(conn).organization_id


@pytest.fixture(scope="session")
def embedder() -> E5Embedder:
    return E5Embedder()


@dataclass
class Labelled:
    db: PgDatabase
    firm: Tenant
    """Holds the whole labelled set."""
    other: Tenant
    """Another firm holding copies of the first documents: it must never show up in firm's results."""


@pytest.fixture(scope="session")
def labelled(server: PgServer, search_template: str, embedder: E5Embedder) -> Iterator[Labelled]:
    name = f"labelled_{uuid.uuid4().hex[:8]}"
    create_database(server, name, template=search_template)
    db = database_on(server, name)
    try:
        firm = make_tenant(db.admin_url, "Whitfield CPA")
        other = make_tenant(db.admin_url, "Other Firm", client_name="Harbour Logistic Partners")
        add_labelled_set(db.admin_url, firm)
        add_labelled_set(db.admin_url, other, limit=12)
        report = embed_pending(db.admin_url, embedder=embedder)
        assert not report.failed
        yield Labelled(db, firm, other)
    finally:
        drop_database(server, name)
