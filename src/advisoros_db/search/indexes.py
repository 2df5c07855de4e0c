"""Per-model (and per-large-tenant) HNSW indexes over the untyped embedding column.

Different models never share an ANN index: each index casts `embedding` to its model's size and
carries `WHERE model = '<name>'`, so queries must spell the same cast and the same literal.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import LiteralString

import psycopg
from psycopg import sql

from advisoros_db import pooler
from advisoros_db.errors import translated
from advisoros_db.search.embedders import ModelSpec, model_spec

TABLE = "document_embeddings"
# A denser graph than pgvector's defaults (16, 64): measured recall per query, docs/search.md.
HNSW_OPTIONS: LiteralString = "WITH (m = 32, ef_construction = 200)"


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    if len(slug) > 24:
        slug = slug[:16] + "_" + hashlib.sha256(name.encode()).hexdigest()[:7]
    return slug


def index_name(model: str, organization_id: uuid.UUID | str | None = None) -> str:
    """`idx_doc_embeddings_hnsw_<model>` or, for a promoted tenant, `..._<model>_<org hex>`."""
    base = f"idx_doc_embeddings_hnsw_{_slug(model)}"
    if organization_id is None:
        return base
    return f"{base}_{uuid.UUID(str(organization_id)).hex[:12]}"


def cast_expression(spec: ModelSpec) -> sql.Composable:
    """`(embedding::vector(384))`: the indexed expression, identical in queries and indexes."""
    kind = sql.SQL("halfvec" if spec.vector_type == "halfvec" else "vector")
    return sql.SQL("(embedding::{}({}))").format(kind, sql.Literal(spec.dimensions))


def opclass(spec: ModelSpec) -> sql.Composable:
    return sql.SQL("halfvec_cosine_ops" if spec.vector_type == "halfvec" else "vector_cosine_ops")


def create_index_sql(
    model: str, organization_id: uuid.UUID | str | None = None, *, concurrently: bool = True
) -> sql.Composed:
    """The CREATE INDEX statement for a model's index (or a tenant's partial index)."""
    spec = model_spec(model)
    predicate = sql.SQL("model = {}").format(sql.Literal(spec.name))
    if organization_id is not None:
        predicate = sql.SQL("{} AND organization_id = {}").format(
            predicate, sql.Literal(str(uuid.UUID(str(organization_id))))
        )
    return sql.SQL(
        "CREATE INDEX {concurrently} IF NOT EXISTS {name} ON {table} "
        "USING hnsw ({expr} {ops}) " + HNSW_OPTIONS + " WHERE {predicate}"
    ).format(
        concurrently=sql.SQL("CONCURRENTLY" if concurrently else ""),
        name=sql.Identifier(index_name(model, organization_id)),
        table=sql.Identifier(TABLE),
        expr=cast_expression(spec),
        ops=opclass(spec),
        predicate=predicate,
    )


def _drop_if_invalid(conn: psycopg.Connection[tuple[object, ...]], name: str) -> None:
    # A CONCURRENTLY build that failed leaves an INVALID index that IF NOT EXISTS would keep.
    row = conn.execute(
        "SELECT NOT i.indisvalid FROM pg_index i WHERE i.indexrelid = to_regclass(%s)", (name,)
    ).fetchone()
    if row is not None and row[0]:
        conn.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(sql.Identifier(name)))


def ensure_index(admin_url: str, model: str, organization_id: uuid.UUID | str | None = None) -> str:
    """Build a model's HNSW index, or a large tenant's own partial index, without blocking writes.

    Idempotent: an existing valid index is kept, an invalid leftover is rebuilt. Returns its name.
    """
    name = index_name(model, organization_id)
    with (
        translated(),
        pooler.connect(admin_url, autocommit=True) as conn,
        pooler.session_setting(conn, "lock_timeout", "5s"),
    ):
        _drop_if_invalid(conn, name)
        conn.execute(create_index_sql(model, organization_id))
    return name


def drop_index(admin_url: str, model: str, organization_id: uuid.UUID | str | None = None) -> None:
    """Remove a tenant's (or a model's) index; queries fall back to the model index or exact."""
    name = index_name(model, organization_id)
    with translated(), pooler.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(sql.Identifier(name)))
