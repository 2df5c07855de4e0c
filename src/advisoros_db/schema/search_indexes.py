"""Search's indexes, declared so `check` compares them: the default embedding model's HNSW index
(revision 0006_vector_indexes; 0014 rebuilds the graph denser), the tenant-keyed index on
documents' stored vector (revision 0021_fts_document_vectors; 0010 built it on vectors computed
from the text, 0021 also dropped 0006's all-tenant document index), and the tenant-keyed indexes
on clients', tasks' and notes' stored vectors (revision 0015_iso_search_vectors_pages), and revision
0022_fts_rows_field_search's tenant-keyed indexes for the catalog's per-column searches (advisor
bios, engagement names and descriptions, document comments, client-name trigrams). The search
functions spell the same expressions (tests/search/test_plans.py holds them together)."""

from __future__ import annotations

from typing import Any

from pgvector.sqlalchemy import VECTOR
from sqlalchemy import ColumnClause, Index, Table, func, literal_column, text

from advisoros_db.schema import (  # noqa: F401 (their tables)
    collaboration,
    marketplace,
    search_vectors,
    tenants,
    workflow,
)
from advisoros_db.schema.base import Base
from advisoros_db.schema.documents import Document
from advisoros_db.schema.intelligence import DocumentEmbedding

_embeddings: Table = DocumentEmbedding.__table__  # type: ignore[assignment]
_documents: Table = Document.__table__  # type: ignore[assignment]
_ENGLISH: ColumnClause[Any] = literal_column("'english'::regconfig")

# One HNSW index per model: the untyped column cast to the model's size, and only its rows.
EMBEDDINGS_HNSW = Index(
    "idx_doc_embeddings_hnsw_multilingual_e5_small",
    _embeddings.c.embedding.cast(VECTOR(384)).label("embedding_384"),
    postgresql_using="hnsw",
    postgresql_ops={"embedding_384": "vector_cosine_ops"},
    postgresql_with={"m": 32, "ef_construction": 200},  # revision 0014
    postgresql_where=text("model = 'multilingual-e5-small'"),
)

# The stored, weighted vector (revision 0021, advisoros_db.migrations.document_vectors) and the
# file name's 'simple' one, as lexemes keyed by the row's organization
# (advisoros_db.migrations.tenant_search): a lookup only ever touches one tenant's keys.
DOCUMENTS_TENANT_FTS = Index(
    "idx_documents_tenant_fts",
    func.advisoros_tenant_tsvector(
        _documents.c.organization_id,
        _documents.c.search_vector,
        func.to_tsvector(literal_column("'simple'::regconfig"), _documents.c.file_name),
    ),
    postgresql_using="gin",
)


def _tenant_text_index(table: Table) -> Index:
    """Revision 0015's tenant-keyed index on a stored `search_vector` (schema.search_vectors): the
    vector in its configuration's slot of advisoros_tenant_tsvector, an empty one in the other."""
    empty: ColumnClause[Any] = literal_column("''::tsvector")
    vector = table.c[search_vectors.COLUMN]
    english, simple = (
        (vector, empty) if search_vectors.VECTORS[table.name][1] == "english" else (empty, vector)
    )
    return Index(
        f"idx_{table.name}_tenant_fts",
        func.advisoros_tenant_tsvector(table.c.organization_id, english, simple),
        postgresql_using="gin",
        _table=table,
    )


TENANT_TEXT_INDEXES: tuple[Index, ...] = tuple(
    _tenant_text_index(Base.metadata.tables[name]) for name in search_vectors.VECTORS
)


def _english(table: Table, column: str) -> Any:
    return func.to_tsvector(_ENGLISH, table.c[column])


def _keyed(name: str, table: Table, english: Any, simple: Any) -> Index:
    """Revision 0021's tenant-keyed index: two vectors in advisoros_tenant_tsvector's two slots
    (keys prefixed `e` and `s`), so one index can serve two columns apart."""
    return Index(
        name,
        func.advisoros_tenant_tsvector(table.c.organization_id, english, simple),
        postgresql_using="gin",
        _table=table,
    )


_EMPTY: ColumnClause[Any] = literal_column("''::tsvector")
_advisors = Base.metadata.tables["advisor_profiles"]
_engagements = Base.metadata.tables["engagements"]
_comments = Base.metadata.tables["document_comments"]
_clients = Base.metadata.tables["clients"]

FIELD_INDEXES: tuple[Index, ...] = (
    _keyed("idx_advisor_profiles_tenant_fts", _advisors, _english(_advisors, "bio"), _EMPTY),
    _keyed(
        "idx_engagements_tenant_fts",
        _engagements,
        _english(_engagements, "name"),
        _english(_engagements, "description"),
    ),
    _keyed("idx_document_comments_tenant_fts", _comments, _english(_comments, "content"), _EMPTY),
    # The client name's trigrams of letters and digits, each keyed by the row's organization.
    Index(
        "idx_clients_tenant_trgm",
        func.advisoros_tenant_trigrams(_clients.c.organization_id, _clients.c.business_name),
        postgresql_using="gin",
        _table=_clients,
    ),
)
