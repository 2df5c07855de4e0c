"""Search connections; every query runs inside tenancy's one `tenant_transaction` (re-exported
here for the search modules)."""

from __future__ import annotations

from typing import Any

import psycopg
from pgvector.psycopg import register_vector
from psycopg.rows import TupleRow

from advisoros_db.tenancy import tenant_transaction

Connection = psycopg.Connection[TupleRow]


def connect(url: str, **kwargs: Any) -> Connection:
    """A connection with pgvector's types registered, in transaction mode (not autocommit).

    psycopg's default `prepare_threshold` (5) stays: search SQL spells the model and its
    dimensions as literals, so a generic prepared plan still matches the per-model partial index.
    """
    conn = psycopg.connect(url, **kwargs)
    try:
        register_vector(conn)
        conn.commit()
    except BaseException:
        conn.close()
        raise
    return conn


__all__ = ["Connection", "connect", "tenant_transaction"]
