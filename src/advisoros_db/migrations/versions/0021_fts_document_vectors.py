"""Documents get a stored, weighted `search_vector` (file name A, description B, the first 20,000
characters of the extracted text C), filled by the database (a BEFORE trigger that fires always,
cloned onto every partition), and `idx_documents_tenant_fts` is rebuilt on it. The SECURITY
DEFINER `search_tenant_documents` matches and ranks that stored vector instead of computing each
candidate's; the new `search_tenant_document_field(field, query, max_rows)` serves the catalog's
`documents.file_name_search` and `documents.description_search` from the same index. Revision
0006's `idx_documents_search_fts` and 0003's `idx_documents_filename_fts` and
`idx_documents_description_fts` (all-tenant indexes the application role could not use) are
dropped. The column is filled in one rewrite of documents (ACCESS EXCLUSIVE meanwhile).
Downgrade restores revision 0010's function and index and the three dropped indexes
(advisoros_db.migrations.document_vectors explains the design).

Revision ID: 0021_fts_document_vectors
Revises: 0020_writes_audit_stamp
Create Date: 2026-12-05
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from alembic import context

from advisoros_db.migrations import op, tenant_search

revision: str = "0021_fts_document_vectors"
down_revision: str | None = "0020_writes_audit_stamp"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    op.set_lock_timeout()
    op.install_document_vectors()
    if not context.is_offline_mode() and not tenant_search.bypasses_row_security(op.get_bind()):
        log.warning(
            "0021_fts_document_vectors: the migrating role is neither a superuser nor BYPASSRLS, "
            "so the document search functions (which run as this role) are held to the FORCE "
            "ROW LEVEL SECURITY policy and cannot use %s: search stays correct but scans the "
            "tenant's documents. See docs/search.md, 'Tenant-keyed index'.",
            tenant_search.INDEX,
        )


def downgrade() -> None:
    op.set_lock_timeout()
    op.drop_document_vectors()
