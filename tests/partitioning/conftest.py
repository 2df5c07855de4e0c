"""Plain audit_logs and documents tables shaped like the schema's, with RLS, grants and a table whose
foreign key points at documents, so the partitioning machinery is tested on its own."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.support import PgDatabase

PLAIN_TABLES = """
CREATE TABLE audit_logs (
    id uuid PRIMARY KEY DEFAULT uuidv7(),
    organization_id uuid NOT NULL,
    entity_type text NOT NULL,
    entity_id uuid,
    action text NOT NULL CHECK (action IN ('create', 'update', 'delete')),
    new_values jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_audit_logs_organization_id_created_at ON audit_logs (organization_id, created_at);
CREATE TABLE documents (
    id uuid PRIMARY KEY DEFAULT uuidv7(),
    organization_id uuid NOT NULL,
    file_name text NOT NULL,
    tax_year smallint,
    status text NOT NULL DEFAULT 'uploaded',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT uq_documents_organization_id_id UNIQUE (organization_id, id)
);
CREATE INDEX ix_documents_organization_id_tax_year ON documents (organization_id, tax_year);
CREATE TABLE document_processing (
    id uuid PRIMARY KEY DEFAULT uuidv7(),
    organization_id uuid NOT NULL,
    document_id uuid NOT NULL,
    status text NOT NULL DEFAULT 'queued',
    CONSTRAINT fk_document_processing_document FOREIGN KEY (organization_id, document_id)
        REFERENCES documents (organization_id, id) ON DELETE CASCADE
);
CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
CREATE TRIGGER documents_touch BEFORE UPDATE ON documents
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
DO $$ DECLARE t text; BEGIN
  FOREACH t IN ARRAY ARRAY['audit_logs', 'documents', 'document_processing'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (organization_id = '
                   'current_setting(''app.organization_id'', true)::uuid)', t);
  END LOOP;
END $$;
GRANT SELECT, INSERT ON audit_logs TO advisoros_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON documents, document_processing TO advisoros_app;
"""

ORG = uuid.UUID("0190a000-0000-7000-8000-000000000001")


@pytest.fixture
def plain(empty_db: PgDatabase) -> Iterator[PgDatabase]:
    """An empty database with plain (unpartitioned) audit_logs, documents, document_processing."""
    with psycopg.connect(empty_db.admin_url, autocommit=True) as conn:
        conn.execute(PLAIN_TABLES)
    yield empty_db


def months_ago(n: int) -> dt.datetime:
    today = dt.datetime.now(dt.UTC)
    index = today.year * 12 + today.month - 1 - n
    return dt.datetime(index // 12, index % 12 + 1, 15, 12, tzinfo=dt.UTC)


def fill(conn: psycopg.Connection[Any], *, audit: int = 0, documents: int = 0, months: int = 6) -> None:
    """Rows spread over the last `months` months and tax years 2018..2032 plus NULL."""
    if audit:
        conn.execute(
            "INSERT INTO audit_logs (organization_id, entity_type, entity_id, action, new_values,"
            " created_at) SELECT %s, 'client', gen_random_uuid(), 'create',"
            " jsonb_build_object('n', g), date_trunc('month', now()) + interval '3 days'"
            " - make_interval(months => g %% %s) + make_interval(secs => g)"
            " FROM generate_series(1, %s) g",
            (ORG, months, audit),
        )
    if documents:
        conn.execute(
            "INSERT INTO documents (organization_id, file_name, tax_year)"
            " SELECT %s, 'f' || g, CASE WHEN g %% 16 = 0 THEN NULL ELSE 2018 + g %% 15 END"
            " FROM generate_series(1, %s) g",
            (ORG, documents),
        )
        conn.execute(
            "INSERT INTO document_processing (organization_id, document_id)"
            " SELECT organization_id, id FROM documents"
        )
