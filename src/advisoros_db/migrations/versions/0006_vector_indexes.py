"""Search indexes: the default embedding model's HNSW index (an expression index per model, so
models of different sizes never share one) and the weighted full-text index over document names
and extracted text. Built CONCURRENTLY outside a transaction; partitioned tables get an index on
the parent only, then one per partition built concurrently and attached.

Plus `search_document_matches`, the full-text match of one tenant's documents. Under row-level
security PostgreSQL will not use a GIN index for `@@` (the operator is not LEAKPROOF, so it may
not run before the policy's qual): as the application role, a large tenant's search would compute
every document's tsvector. The function runs as its owner, which is not subject to the policy,
and applies the tenant filter itself: the organization passed in AND the transaction's tenant
setting, so it can never return another tenant's rows.

Revision ID: 0006_vector_indexes
Revises: 0005_partition_swap (newest on the search branch; the lead rechains it after 0005)
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import LiteralString

from alembic import context
from sqlalchemy import text

from advisoros_db.migrations import op

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

MATCH_FUNCTION: LiteralString = "search_document_matches(uuid, tsquery, tsquery, integer)"
MATCH_FUNCTION_SQL: LiteralString = """
CREATE OR REPLACE FUNCTION search_document_matches(
    org uuid, english tsquery, simple tsquery, max_rows integer)
RETURNS TABLE (id uuid, score real)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $fn$
BEGIN
  IF org IS DISTINCT FROM nullif(current_setting('app.organization_id', true), '')::uuid THEN
    RETURN;  -- only the transaction's own tenant, whatever the caller passes
  END IF;
  -- EXECUTE plans with this call's values: a cached generic plan would read a large tenant
  -- through its organization_id index and compute every document's tsvector.
  RETURN QUERY EXECUTE $q$
    SELECT d.id,
           ts_rank_cd(setweight(to_tsvector('english'::regconfig, translate(d.file_name, '._', '  ')), 'A')
                      || setweight(to_tsvector('english'::regconfig, COALESCE(d.extracted_text, '')), 'B'),
                      $2)
           + ts_rank_cd(to_tsvector('simple'::regconfig, d.file_name), $3) AS score
    FROM public.documents d
    WHERE d.organization_id = $1
      AND d.deleted_at IS NULL
      AND ((setweight(to_tsvector('english'::regconfig, translate(d.file_name, '._', '  ')), 'A')
            || setweight(to_tsvector('english'::regconfig, COALESCE(d.extracted_text, '')), 'B'))
             @@ $2
           OR to_tsvector('simple'::regconfig, d.file_name) @@ $3)
    ORDER BY score DESC, d.id
    LIMIT $4
  $q$ USING org, english, simple, max_rows;
END
$fn$
"""
GRANTS: tuple[LiteralString, ...] = (
    "REVOKE ALL ON FUNCTION " + MATCH_FUNCTION + " FROM PUBLIC",
    "GRANT EXECUTE ON FUNCTION " + MATCH_FUNCTION + " TO advisoros_app",
)

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
    op.set_lock_timeout()
    op.execute(MATCH_FUNCTION_SQL)
    for statement in GRANTS:
        op.execute(statement)
    with op.get_context().autocommit_block():
        for name, table, definition in INDEXES:
            if context.is_offline_mode():  # printed SQL: the plain statement, for review
                op.execute(
                    f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {_q(name)} ON {_q(table)} {definition}"
                )
            else:
                _create(name, table, definition)


def downgrade() -> None:
    op.set_lock_timeout()
    with op.get_context().autocommit_block():
        for name, _table, _definition in reversed(INDEXES):
            # A partitioned parent index cannot be dropped CONCURRENTLY; dropping it drops the
            # partitions' attached indexes too.
            kind = None
            if not context.is_offline_mode():
                kind = (
                    op.get_bind()
                    .execute(
                        text("SELECT relkind FROM pg_class WHERE oid = to_regclass(:n)"),
                        {"n": name},
                    )
                    .scalar()
                )
            concurrently = "" if kind == "I" else "CONCURRENTLY "
            op.execute(f"DROP INDEX {concurrently}IF EXISTS {_q(name)}")
    op.execute("DROP FUNCTION IF EXISTS " + MATCH_FUNCTION)
