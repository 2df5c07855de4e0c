-- The hot-path query catalog: JSONB and tag filters, the trigram type-ahead and the workers' GIN
-- lookups (format: composite.sql).
--
-- The tenant filters are pages, as a screen asks: newest first (ids are uuidv7), LIMIT 50, the
-- next page after the last id shown (`before`; advisoros_db.schema.catalog.PAGE_START for the
-- first). Under row-level security `@>` and `&&` can never be index conditions for the
-- application role (they are not LEAKPROOF), so each page walks the tenant's
-- `(organization_id, id)` unique index backwards and filters until it has 50 rows. The filters
-- are spelled as the operators' functions (jsonb_contains is `@>`, arraycontains `@>`,
-- arrayoverlap `&&`: same code, same privileges): the application role gets no statistics for a
-- non-LEAKPROOF operator, and the operator's default estimate (a fraction of a percent) has the
-- planner read the whole tenant and sort it, where a boolean function's default (one row in
-- three) has it walk the key and stop at 50 matches.

-- name: documents.metadata_match
-- purpose: Documents whose metadata contains a key/value (metadata search).
-- index: uq_documents_organization_id_id
-- params: organization_id, before, match='{"source": "email"}'
SELECT id, file_name FROM documents WHERE organization_id = %(organization_id)s
AND jsonb_contains(metadata, %(match)s::jsonb)
AND id < %(before)s ORDER BY id DESC LIMIT 50

-- name: documents.extracted_field_match
-- purpose: Documents whose OCR output contains a field value (OCR data search).
-- index: uq_documents_organization_id_id
-- params: organization_id, before, match='{"form": "1099-NEC"}'
SELECT id, file_name FROM documents WHERE organization_id = %(organization_id)s
AND jsonb_contains(extracted_data, %(match)s::jsonb)
AND id < %(before)s ORDER BY id DESC LIMIT 50

-- name: documents.tagged
-- purpose: Documents carrying a tag (tag filter).
-- index: uq_documents_organization_id_id
-- params: organization_id, before, tag='amended'
SELECT id, file_name FROM documents WHERE organization_id = %(organization_id)s
AND arraycontains(tags, ARRAY[%(tag)s]::text[])
AND id < %(before)s ORDER BY id DESC LIMIT 50

-- name: clients.custom_field_match
-- purpose: Clients whose custom fields contain a value (custom field search).
-- index: uq_clients_organization_id_id
-- params: organization_id, before, match='{"entity_state": "DE"}'
SELECT id, business_name FROM clients WHERE organization_id = %(organization_id)s
AND jsonb_contains(custom_fields, %(match)s::jsonb)
AND id < %(before)s ORDER BY id DESC LIMIT 50

-- name: clients.financial_data_match
-- purpose: Clients whose financial data contains a value (e.g. an accounting basis).
-- index: uq_clients_organization_id_id
-- params: organization_id, before, match='{"basis": "cash"}'
SELECT id, business_name FROM clients WHERE organization_id = %(organization_id)s
AND jsonb_contains(financial_data, %(match)s::jsonb)
AND id < %(before)s ORDER BY id DESC LIMIT 50

-- name: clients.tagged
-- purpose: Clients carrying any of some tags.
-- index: uq_clients_organization_id_id
-- params: organization_id, before, tags=['vip']
SELECT id, business_name FROM clients WHERE organization_id = %(organization_id)s
AND arrayoverlap(tags, %(tags)s::text[])
AND id < %(before)s ORDER BY id DESC LIMIT 50

-- name: clients.name_contains
-- purpose: Clients whose name contains a fragment anywhere (type-ahead), newest first.
-- index: idx_clients_tenant_trgm
-- params: organization_id, before, pattern='%zephyr%'
SELECT id, business_name FROM clients WHERE organization_id = %(organization_id)s
AND id = ANY (ARRAY(SELECT search_tenant_contains('clients.business_name', %(pattern)s, %(before)s, 50)))
ORDER BY id DESC LIMIT 50

-- name: audit.old_value_investigation
-- purpose: Audit rows whose previous values contained something (who changed it away).
-- index: uq_audit_logs_organization_id_id
-- params: organization_id, before, match='{"status": "approved"}'
SELECT id, entity_type, entity_id, user_id, created_at FROM audit_logs
WHERE organization_id = %(organization_id)s AND jsonb_contains(old_values, %(match)s::jsonb)
AND id < %(before)s ORDER BY id DESC LIMIT 50

-- name: audit.new_value_investigation
-- purpose: Audit rows that set a value (who set it).
-- index: uq_audit_logs_organization_id_id
-- params: organization_id, before, match='{"status": "rejected"}'
SELECT id, entity_type, entity_id, user_id, created_at FROM audit_logs
WHERE organization_id = %(organization_id)s AND jsonb_contains(new_values, %(match)s::jsonb)
AND id < %(before)s ORDER BY id DESC LIMIT 50

-- name: advisors.by_industry
-- purpose: Advisor profiles serving an industry (marketplace matching).
-- index: uq_advisor_profiles_organization_id_user_id
-- params: organization_id, before, industry='aviation'
SELECT id, user_id FROM advisor_profiles WHERE organization_id = %(organization_id)s
AND arraycontains(industries, ARRAY[%(industry)s]::text[])
AND id < %(before)s ORDER BY id DESC LIMIT 50

-- name: engagements.custom_field_match
-- purpose: Engagements whose custom fields contain a value.
-- index: uq_engagements_organization_id_id
-- params: organization_id, before, match='{"extension_filed": true}'
SELECT id, name FROM engagements WHERE organization_id = %(organization_id)s
AND jsonb_contains(custom_fields, %(match)s::jsonb)
AND id < %(before)s ORDER BY id DESC LIMIT 50

-- name: tasks.tagged
-- purpose: Tasks carrying a tag.
-- index: uq_tasks_organization_id_id
-- params: organization_id, before, tag='client-waiting'
SELECT id, title FROM tasks WHERE organization_id = %(organization_id)s
AND arraycontains(tags, ARRAY[%(tag)s]::text[])
AND id < %(before)s ORDER BY id DESC LIMIT 50

-- name: notes.tagged
-- purpose: Notes carrying a tag.
-- index: uq_notes_organization_id_id
-- params: organization_id, before, tag='irs-notice'
SELECT id, title FROM notes WHERE organization_id = %(organization_id)s
AND arraycontains(tags, ARRAY[%(tag)s]::text[])
AND id < %(before)s ORDER BY id DESC LIMIT 50

-- name: invoices.metadata_match
-- purpose: Invoices whose metadata contains a value (e.g. a payment-plan flag).
-- index: uq_invoices_organization_id_id
-- params: organization_id, before, match='{"payment_plan": true}'
SELECT id, invoice_number FROM invoices WHERE organization_id = %(organization_id)s
AND jsonb_contains(metadata, %(match)s::jsonb)
AND id < %(before)s ORDER BY id DESC LIMIT 50

-- name: reports.by_parameters
-- purpose: Reports generated with given parameters (reuse an existing run).
-- index: uq_reports_organization_id_id
-- params: organization_id, before, match='{"basis": "accrual", "period": "2024-Q4"}'
SELECT id, name, status FROM reports WHERE organization_id = %(organization_id)s
AND jsonb_contains(parameters, %(match)s::jsonb)
AND id < %(before)s ORDER BY id DESC LIMIT 50

-- name: report_schedules.by_recipient
-- purpose: Every schedule that mails an address, in any firm (an unsubscribe link's handler).
-- index: idx_report_schedules_recipients_gin
-- params: email='cfo@zephyr.example'
-- flags: system
SELECT id, organization_id, name FROM report_schedules
WHERE recipients @> ARRAY[%(email)s]::citext[]

-- name: jobs.for_document
-- purpose: Every job run about one document, in any queue (support: what happened to this file).
-- index: idx_job_executions_payload_gin
-- params: match='{"document_id": "$document_id"}'
-- flags: system
SELECT id, queue, job_name, status FROM job_executions WHERE payload @> %(match)s::jsonb

-- name: task_queue.payload_match
-- purpose: Queue items about one object (dedupe before enqueueing).
-- index: idx_task_queue_items_payload_gin
-- params: match='{"document_id": "$document_id"}'
-- flags: system
SELECT id, status FROM task_queue_items WHERE payload @> %(match)s::jsonb
