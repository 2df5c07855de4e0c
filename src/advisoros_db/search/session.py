"""Connections and tenant-scoped transactions for search: every query runs inside one tenant."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from pgvector.psycopg import register_vector
from psycopg.rows import TupleRow

from advisoros_db import pooler
from advisoros_db.errors import translated
from advisoros_db.tenancy.context import apply_tenant, tenant_id

Connection = psycopg.Connection[TupleRow]


def connect(url: str, **kwargs: Any) -> Connection:
    """A connection with pgvector's types registered, in transaction mode (not autocommit).

    psycopg's default `prepare_threshold` (5) stays: search SQL spells the model and its
    dimensions as literals, so a generic prepared plan still matches the per-model partial index.
    """
    conn = pooler.connect(url, **kwargs)
    try:
        register_vector(conn)
        conn.commit()
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def tenant_transaction(conn: Connection, organization_id: uuid.UUID | str) -> Iterator[str]:
    """A transaction (or savepoint) scoped to one organization; yields its canonical id."""
    org = tenant_id(organization_id)
    with translated(), conn.transaction():
        apply_tenant(conn, org)
        yield org
