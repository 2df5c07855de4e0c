-- Stand-in for the tables search reads, used only while the schema revisions are not merged into
-- this branch: the columns of the shared schema contract, tenant keys, and the same RLS rule.
CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS citext;

CREATE TABLE organizations (
  id uuid PRIMARY KEY DEFAULT uuidv7(), name text NOT NULL, slug text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz);
CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT uuidv7(), organization_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  email citext NOT NULL, name text NOT NULL, deleted_at timestamptz, UNIQUE (organization_id, id));
CREATE TABLE clients (
  id uuid PRIMARY KEY DEFAULT uuidv7(), organization_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  business_name text NOT NULL, legal_name text, tax_id text, industry text, deleted_at timestamptz,
  UNIQUE (organization_id, id));
CREATE TABLE engagements (
  id uuid PRIMARY KEY DEFAULT uuidv7(), organization_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  client_id uuid NOT NULL, name text NOT NULL, type text NOT NULL, deleted_at timestamptz,
  UNIQUE (organization_id, id),
  FOREIGN KEY (organization_id, client_id) REFERENCES clients (organization_id, id) ON DELETE CASCADE);
CREATE TABLE tasks (
  id uuid PRIMARY KEY DEFAULT uuidv7(), organization_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  engagement_id uuid NOT NULL, title text NOT NULL, description text, deleted_at timestamptz,
  UNIQUE (organization_id, id),
  FOREIGN KEY (organization_id, engagement_id) REFERENCES engagements (organization_id, id) ON DELETE CASCADE);
CREATE TABLE notes (
  id uuid PRIMARY KEY DEFAULT uuidv7(), organization_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  author_id uuid NOT NULL, title text, content text NOT NULL, deleted_at timestamptz,
  UNIQUE (organization_id, id),
  FOREIGN KEY (organization_id, author_id) REFERENCES users (organization_id, id));
CREATE TABLE advisor_profiles (
  id uuid PRIMARY KEY DEFAULT uuidv7(), organization_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  user_id uuid NOT NULL, headline text, bio text, UNIQUE (organization_id, id),
  FOREIGN KEY (organization_id, user_id) REFERENCES users (organization_id, id));
CREATE TABLE documents (
  id uuid PRIMARY KEY DEFAULT uuidv7(), organization_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  client_id uuid NOT NULL, uploaded_by uuid NOT NULL, file_name text NOT NULL, file_url text NOT NULL,
  file_type text NOT NULL, category text NOT NULL DEFAULT 'other', extracted_text text,
  created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz, UNIQUE (organization_id, id),
  FOREIGN KEY (organization_id, client_id) REFERENCES clients (organization_id, id) ON DELETE CASCADE,
  FOREIGN KEY (organization_id, uploaded_by) REFERENCES users (organization_id, id));
CREATE TABLE document_processing (
  id uuid PRIMARY KEY DEFAULT uuidv7(), organization_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  document_id uuid NOT NULL,
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
  retry_count integer NOT NULL DEFAULT 0, last_error text, started_at timestamptz, completed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (organization_id, document_id),
  FOREIGN KEY (organization_id, document_id) REFERENCES documents (organization_id, id) ON DELETE CASCADE);
CREATE TABLE document_embeddings (
  id uuid PRIMARY KEY DEFAULT uuidv7(), organization_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  document_id uuid NOT NULL, chunk_index integer NOT NULL CHECK (chunk_index >= 0),
  content text NOT NULL, content_hash text NOT NULL, embedding vector NOT NULL, model text NOT NULL,
  dimensions integer NOT NULL, token_count integer, metadata jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (organization_id, document_id, model, chunk_index),
  CONSTRAINT ck_document_embeddings_dimensions_match CHECK (vector_dims(embedding) = dimensions),
  FOREIGN KEY (organization_id, document_id) REFERENCES documents (organization_id, id) ON DELETE CASCADE);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['users', 'clients', 'engagements', 'tasks', 'notes', 'advisor_profiles',
                           'documents', 'document_processing', 'document_embeddings'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON %I USING (organization_id =
      nullif(current_setting('app.organization_id', true), '')::uuid)$p$, t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO advisoros_app', t);
  END LOOP;
END $$;
GRANT SELECT ON organizations TO advisoros_app;
