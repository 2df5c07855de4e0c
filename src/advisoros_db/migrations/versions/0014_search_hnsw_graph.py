"""Rebuild the default model's HNSW index with a denser graph: m = 32, ef_construction = 200
(was 16 and 64). Measured on 100,000 synthetic 384-d chunks (docs/search.md, "Recall per
query"): with the old graph no ef_search up to pgvector's 1,000 brought single queries near 0.9
recall@10 on topics spread across the corpus; the denser graph reaches it at ef_search = 400.

Without blocking writes: the new index is built CONCURRENTLY under a temporary name, the old one
dropped CONCURRENTLY, and the new one renamed. Downgrade does the same with the old options.
A tenant promoted to its own index (`advisoros-db search index --org`) before this revision keeps
its old graph until that index is dropped and built again.

Revision ID: 0014_search_hnsw_graph
Revises: 0013_sessions_role_limits (chained on the search branch after 0007; rechained on main's head at merge)
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import LiteralString

from alembic import context
from sqlalchemy import text

from advisoros_db.migrations import op

revision: str = "0014_search_hnsw_graph"
down_revision: str | None = "0013_sessions_role_limits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies (a migration never imports the search package); tests/search/test_plans.py
# compares the built index with advisoros_db.search.indexes.create_index_sql.
INDEX: LiteralString = "idx_doc_embeddings_hnsw_multilingual_e5_small"
_TEMPORARY: LiteralString = "idx_doc_embeddings_hnsw_multilingual_e5_small_rebuild"
_DEFINITION: LiteralString = (
    "ON document_embeddings USING hnsw ((embedding::vector(384)) vector_cosine_ops)"
    " WITH (m = {m}, ef_construction = {ef}) WHERE model = 'multilingual-e5-small'"
)
NEW_OPTIONS = {"m": 32, "ef": 200}
OLD_OPTIONS = {"m": 16, "ef": 64}


def _rebuild(options: dict[str, int]) -> None:
    definition = _DEFINITION.format(**options)
    with op.get_context().autocommit_block():
        if not context.is_offline_mode():
            # A rebuild interrupted before its drop left an INVALID (or a complete) copy behind.
            op.get_bind().execute(text(f"DROP INDEX CONCURRENTLY IF EXISTS {_TEMPORARY}"))
        op.execute(f"CREATE INDEX CONCURRENTLY {_TEMPORARY} {definition}")
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")
        op.execute(f"ALTER INDEX {_TEMPORARY} RENAME TO {INDEX}")


def upgrade() -> None:
    op.set_lock_timeout()
    _rebuild(NEW_OPTIONS)


def downgrade() -> None:
    op.set_lock_timeout()
    _rebuild(OLD_OPTIONS)
