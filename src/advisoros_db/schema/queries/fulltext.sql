-- The hot-path query catalog: full text (format: composite.sql). Each expression is the index's
-- expression, character for character.

-- name: documents.file_name_search
-- purpose: Documents whose file name has the words (document search box).
-- index: idx_documents_tenant_fts
-- params: q='zephyr'
SELECT id, file_name FROM search_tenant_document_field('file_name',
plainto_tsquery('simple'::regconfig, %(q)s), 1000)

-- name: documents.description_search
-- purpose: Documents whose description matches a web-style query.
-- index: idx_documents_tenant_fts
-- params: q='depreciation schedule'
SELECT id, file_name FROM search_tenant_document_field('description',
websearch_to_tsquery('english'::regconfig, %(q)s), 1000)

-- name: clients.business_name_search
-- purpose: Clients whose business name has the words (client search).
-- index: idx_clients_business_name_fts
-- params: organization_id, q='zephyr'
SELECT id, business_name FROM clients WHERE organization_id = %(organization_id)s
AND to_tsvector('simple'::regconfig, business_name)
@@ plainto_tsquery('simple'::regconfig, %(q)s)

-- name: clients.legal_name_search
-- purpose: Clients whose legal name has the words (matching a filing).
-- index: idx_clients_legal_name_fts
-- params: organization_id, q='zephyr holdings'
SELECT id, legal_name FROM clients WHERE organization_id = %(organization_id)s
AND to_tsvector('simple'::regconfig, legal_name)
@@ plainto_tsquery('simple'::regconfig, %(q)s)

-- name: tasks.title_search
-- purpose: Tasks whose title matches (task search).
-- index: idx_tasks_title_fts
-- params: organization_id, q='reconcile payroll'
SELECT id, title FROM tasks WHERE organization_id = %(organization_id)s
AND to_tsvector('english'::regconfig, title)
@@ websearch_to_tsquery('english'::regconfig, %(q)s)

-- name: tasks.description_search
-- purpose: Tasks whose description matches.
-- index: idx_tasks_description_fts
-- params: organization_id, q='amended return'
SELECT id, title FROM tasks WHERE organization_id = %(organization_id)s
AND to_tsvector('english'::regconfig, description)
@@ websearch_to_tsquery('english'::regconfig, %(q)s)

-- name: notes.content_search
-- purpose: Notes whose content matches (note search).
-- index: idx_notes_content_fts
-- params: organization_id, q='penalty abatement'
SELECT id, title FROM notes WHERE organization_id = %(organization_id)s
AND to_tsvector('english'::regconfig, content)
@@ websearch_to_tsquery('english'::regconfig, %(q)s)

-- name: advisors.bio_search
-- purpose: Advisor profiles whose bio matches (advisor discovery).
-- index: idx_advisor_profiles_bio_fts
-- params: organization_id, q='cryptocurrency'
SELECT id, user_id FROM advisor_profiles WHERE organization_id = %(organization_id)s
AND to_tsvector('english'::regconfig, bio)
@@ websearch_to_tsquery('english'::regconfig, %(q)s)

-- name: engagements.name_search
-- purpose: Engagements whose name matches (engagement search).
-- index: idx_engagements_name_fts
-- params: organization_id, q='zephyr'
SELECT id, name FROM engagements WHERE organization_id = %(organization_id)s
AND to_tsvector('english'::regconfig, name)
@@ websearch_to_tsquery('english'::regconfig, %(q)s)

-- name: document_comments.content_search
-- purpose: Document comments that match (review discussion search).
-- index: idx_document_comments_content_fts
-- params: organization_id, q='missing signature'
SELECT id, document_id FROM document_comments
WHERE organization_id = %(organization_id)s
AND to_tsvector('english'::regconfig, content)
@@ websearch_to_tsquery('english'::regconfig, %(q)s)

-- name: engagements.description_search
-- purpose: Engagements whose scope description matches (find past work of a kind).
-- index: idx_engagements_description_fts
-- params: organization_id, q='cost segregation'
SELECT id, name FROM engagements WHERE organization_id = %(organization_id)s
AND to_tsvector('english'::regconfig, description)
@@ websearch_to_tsquery('english'::regconfig, %(q)s)
