"""Search fixtures: a database with the search tables and the default model's HNSW index, and a
session-wide copy holding the labelled set, embedded once with the offline model."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from advisoros_db.search import indexes
from advisoros_db.search.embedders import DEFAULT_MODEL, E5Embedder
from advisoros_db.search.pipeline import embed_pending
from tests.search.corpus import Tenant, add_labelled_set, make_tenant
from tests.support import PgDatabase, PgServer, create_database, database_on, drop_database

CONTRACT_SQL = Path(__file__).with_name("contract_schema.sql")


def _has_search_tables(url: str) -> bool:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT to_regclass('document_embeddings') IS NOT NULL").fetchone()
    return bool(row and row[0])


@pytest.fixture(scope="session")
def search_template(server: PgServer, migrated_template: str) -> Iterator[str]:
    """The migrated template when it has the search tables, else the contract's stand-in schema."""
    name = f"search_template_{uuid.uuid4().hex[:8]}"
    create_database(server, name, template=migrated_template)
    db = database_on(server, name)
    try:
        if not _has_search_tables(db.admin_url):
            with psycopg.connect(db.admin_url, autocommit=True) as conn:
                conn.execute(CONTRACT_SQL.read_text())  # type: ignore[call-overload]
        with psycopg.connect(db.admin_url, autocommit=True) as conn:
            conn.execute(indexes.create_index_sql(DEFAULT_MODEL, concurrently=False))
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
