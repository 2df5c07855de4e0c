"""Search indexes: the default embedding model's HNSW index (an expression index per model, so
models of different sizes never share one) and the weighted full-text index over document names
and extracted text. Built CONCURRENTLY outside a transaction; partitioned tables get an index on
the parent only, then one per partition built concurrently and attached.

Revision ID: 0006_vector_indexes
Revises: 0002_added_tables (newest on the search branch; the lead rechains it after 0005)
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import LiteralString

from alembic import op
from sqlalchemy import text

revision: str = "0006_vector_indexes"
down_revision: str | None = "0005_partition_swap"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of advisoros_db.search (a migration never imports the layers above it); the search
# tests compare them with the library's, so queries and indexes cannot drift apart.
HNSW_INDEX: LiteralString = "idx_doc_embeddings_hnsw_multilingual_e5_small"
HNSW_DEFINITION: LiteralString = (
    "USING hnsw ((embedding::vector(384)) vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
    " WHERE model = 'multilingual-e5-small'"
)
FTS_INDEX: LiteralString = "idx_documents_search_fts"
FTS_DEFINITION: LiteralString = (
    "USING gin ((setweight(to_tsvector('english'::regconfig, translate(file_name, '._', '  ')), 'A')"
    " || setweight(to_tsvector('english'::regconfig, COALESCE(extracted_text, '')), 'B')))"
)
INDEXES: tuple[tuple[LiteralString, LiteralString, LiteralString], ...] = (
    (HNSW_INDEX, "document_embeddings", HNSW_DEFINITION),
    (FTS_INDEX, "documents", FTS_DEFINITION),
)
LOCK_TIMEOUT: LiteralString = "SET lock_timeout = '5s'"

_PARTITIONS: LiteralString = """
SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = to_regclass(:parent) AND c.relkind = 'r' ORDER BY 1
"""
_INVALID: LiteralString = """
SELECT 1 FROM pg_index WHERE indexrelid = to_regclass(:name) AND NOT indisvalid
"""


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _build(name: str, table: str, definition: str) -> None:
    bind = op.get_bind()
    # An interrupted CONCURRENTLY build leaves an INVALID index that IF NOT EXISTS would keep.
    if bind.execute(text(_INVALID), {"name": name}).first():
        bind.exec_driver_sql(f"DROP INDEX CONCURRENTLY IF EXISTS {_q(name)}")
    bind.exec_driver_sql(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {_q(name)} ON {_q(table)} {definition}"
    )


def _create(name: str, table: str, definition: str) -> None:
    bind = op.get_bind()
    kind = bind.execute(
        text("SELECT relkind FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table}
    ).scalar()
    if kind != "p":
        _build(name, table, definition)
        return
    # CONCURRENTLY is refused on a partitioned table: an invalid parent index first (ON ONLY, no
    # scan), each partition's built concurrently, attached; the parent turns valid with the last.
    bind.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {_q(name)} ON ONLY {_q(table)} {definition}")
    for (partition,) in bind.execute(text(_PARTITIONS), {"parent": table}).all():
        child = f"{partition}_{name.removeprefix('idx_')}"[:63]
        _build(child, partition, definition)
        attached = bind.execute(
            text(
                "SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass(:c)"
                " AND inhparent = to_regclass(:p)"
            ),
            {"c": child, "p": name},
        ).first()
        if not attached:
            bind.exec_driver_sql(f"ALTER INDEX {_q(name)} ATTACH PARTITION {_q(child)}")


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.get_bind().exec_driver_sql(LOCK_TIMEOUT)
        for name, table, definition in INDEXES:
            _create(name, table, definition)


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.get_bind().exec_driver_sql(LOCK_TIMEOUT)
        for name, _table, _definition in reversed(INDEXES):
            # Dropping a partitioned parent index drops its attached children too.
            kind = (
                op.get_bind()
                .execute(
                    text("SELECT c.relkind FROM pg_class c WHERE c.oid = to_regclass(:n)"),
                    {"n": name},
                )
                .scalar()
            )
            concurrently = "" if kind == "I" else "CONCURRENTLY "
            op.get_bind().exec_driver_sql(f"DROP INDEX {concurrently}IF EXISTS {_q(name)}")
