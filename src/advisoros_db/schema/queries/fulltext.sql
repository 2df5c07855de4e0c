-- The hot-path query catalog: full text (format: composite.sql). Documents: each expression is
-- the index's expression, character for character. Documents go through revision 0024's
-- search_tenant_document_field, the other tables' columns (and clients.name_contains in
-- filters.sql) through revision 0022's SECURITY DEFINER functions: each reads only the caller's
-- tenant on a tenant-keyed index (named here; it is used inside the function) and returns one
-- page: newest first, 50 below `before`.

-- name: documents.file_name_search
-- purpose: Documents whose file name has the words (document search box).
-- index: idx_documents_tenant_fts
-- params: before, q='zephyr'
SELECT id, file_name FROM search_tenant_document_field('file_name',
plainto_tsquery('simple'::regconfig, %(q)s), %(before)s, 50)

-- name: documents.description_search
-- purpose: Documents whose description matches a web-style query.
-- index: idx_documents_tenant_fts
-- params: before, q='depreciation schedule'
SELECT id, file_name FROM search_tenant_document_field('description',
websearch_to_tsquery('english'::regconfig, %(q)s), %(before)s, 50)

-- name: clients.business_name_search
-- purpose: Clients whose business name has the words (client search), newest first.
-- index: idx_clients_tenant_fts
-- params: organization_id, before, q='zephyr'
SELECT id, business_name FROM clients WHERE organization_id = %(organization_id)s
AND id = ANY (ARRAY(SELECT search_tenant_text('clients.business_name', plainto_tsquery('simple'::regconfig, %(q)s), %(before)s, 50)))
ORDER BY id DESC LIMIT 50

-- name: clients.legal_name_search
-- purpose: Clients whose legal name has the words (matching a filing), newest first.
-- index: idx_clients_tenant_fts
-- params: organization_id, before, q='zephyr holdings'
SELECT id, legal_name FROM clients WHERE organization_id = %(organization_id)s
AND id = ANY (ARRAY(SELECT search_tenant_text('clients.legal_name', plainto_tsquery('simple'::regconfig, %(q)s), %(before)s, 50)))
ORDER BY id DESC LIMIT 50

-- name: tasks.title_search
-- purpose: Tasks whose title matches (task search), newest first.
-- index: idx_tasks_tenant_fts
-- params: organization_id, before, q='reconcile payroll'
SELECT id, title FROM tasks WHERE organization_id = %(organization_id)s
AND id = ANY (ARRAY(SELECT search_tenant_text('tasks.title', websearch_to_tsquery('english'::regconfig, %(q)s), %(before)s, 50)))
ORDER BY id DESC LIMIT 50

-- name: tasks.description_search
-- purpose: Tasks whose description matches, newest first.
-- index: idx_tasks_tenant_fts
-- params: organization_id, before, q='amended return'
SELECT id, title FROM tasks WHERE organization_id = %(organization_id)s
AND id = ANY (ARRAY(SELECT search_tenant_text('tasks.description', websearch_to_tsquery('english'::regconfig, %(q)s), %(before)s, 50)))
ORDER BY id DESC LIMIT 50

-- name: notes.content_search
-- purpose: Notes whose content matches (note search), newest first.
-- index: idx_notes_tenant_fts
-- params: organization_id, before, q='penalty abatement'
SELECT id, title FROM notes WHERE organization_id = %(organization_id)s
AND id = ANY (ARRAY(SELECT search_tenant_text('notes.content', websearch_to_tsquery('english'::regconfig, %(q)s), %(before)s, 50)))
ORDER BY id DESC LIMIT 50

-- name: advisors.bio_search
-- purpose: Advisor profiles whose bio matches (advisor discovery), newest first.
-- index: idx_advisor_profiles_tenant_fts
-- params: organization_id, before, q='cryptocurrency'
SELECT id, user_id FROM advisor_profiles WHERE organization_id = %(organization_id)s
AND id = ANY (ARRAY(SELECT search_tenant_text('advisor_profiles.bio', websearch_to_tsquery('english'::regconfig, %(q)s), %(before)s, 50)))
ORDER BY id DESC LIMIT 50

-- name: engagements.name_search
-- purpose: Engagements whose name matches (engagement search), newest first.
-- index: idx_engagements_tenant_fts
-- params: organization_id, before, q='zephyr'
SELECT id, name FROM engagements WHERE organization_id = %(organization_id)s
AND id = ANY (ARRAY(SELECT search_tenant_text('engagements.name', websearch_to_tsquery('english'::regconfig, %(q)s), %(before)s, 50)))
ORDER BY id DESC LIMIT 50

-- name: document_comments.content_search
-- purpose: Document comments that match (review discussion search), newest first.
-- index: idx_document_comments_tenant_fts
-- params: organization_id, before, q='missing signature'
SELECT id, document_id FROM document_comments WHERE organization_id = %(organization_id)s
AND id = ANY (ARRAY(SELECT search_tenant_text('document_comments.content', websearch_to_tsquery('english'::regconfig, %(q)s), %(before)s, 50)))
ORDER BY id DESC LIMIT 50

-- name: engagements.description_search
-- purpose: Engagements whose scope description matches (find past work of a kind), newest first.
-- index: idx_engagements_tenant_fts
-- params: organization_id, before, q='cost segregation'
SELECT id, name FROM engagements WHERE organization_id = %(organization_id)s
AND id = ANY (ARRAY(SELECT search_tenant_text('engagements.description', websearch_to_tsquery('english'::regconfig, %(q)s), %(before)s, 50)))
ORDER BY id DESC LIMIT 50
