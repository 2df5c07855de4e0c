"""A document id is unique across every tax year and every organization, enforced by the database:
the documents_keys registry trigger refuses an id already in use (it used to skip it, so a second
row, or another firm's id, was accepted), and a document's id and organization cannot change.
Refused, naming the ids, while duplicates exist.

Revision ID: 0011_keys_unique_document_ids
Revises: 0010_iso_plans_tenant_search
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from advisoros_db.migrations import op

revision: str = "0011_keys_unique_document_ids"
down_revision: str | None = "0010_iso_plans_tenant_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The registry's insert trigger as revision 0004 created it, restored by the downgrade.
_LAX_REGISTER = """
CREATE OR REPLACE FUNCTION documents_keys_register() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
BEGIN
    INSERT INTO documents_keys (id, organization_id) VALUES (NEW.id, NEW.organization_id)
        ON CONFLICT (id) DO NOTHING;
    RETURN NEW;
END $fn$
"""


def upgrade() -> None:
    op.set_lock_timeout()
    op.enforce_unique_keys("documents")


def downgrade() -> None:
    op.set_lock_timeout()
    op.execute("DROP FUNCTION IF EXISTS documents_keys_fixed() CASCADE")  # and its trigger
    op.execute(
        "DO $$ BEGIN IF to_regclass('documents_keys') IS NOT NULL THEN EXECUTE $sql$"
        + _LAX_REGISTER
        + "$sql$; END IF; END $$"
    )
