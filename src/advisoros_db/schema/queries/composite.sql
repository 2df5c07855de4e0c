-- The hot-path query catalog (advisoros_db.schema.catalog reads these files once): composite
-- B-tree indexes, tenant first, then the equality columns, then the range or sort column.
--
-- Each query is a block: `-- name:`, `-- purpose:`, `-- index:` (the index its plan must use),
-- `-- params:` (positional names are the values a caller supplies, which the benchmark and the
-- tests draw from a populated database, advisoros_db.bench.sampling; `key=literal` are fixed
-- values; `$name` in a fixed string is replaced by the supplied value), optionally `-- flags:`
-- (`system`, `custom_plan`), then comment lines and the SQL, whose lines are joined by one space.

-- name: documents.client_documents
-- purpose: A client's documents in one status, newest first (client page).
-- index: idx_documents_org_client_status
-- params: organization_id, client_id, status='approved'
SELECT id, file_name, category, created_at FROM documents
WHERE organization_id = %(organization_id)s AND client_id = %(client_id)s
AND status = %(status)s AND deleted_at IS NULL ORDER BY created_at DESC LIMIT 50

-- name: documents.tax_year_binder
-- purpose: Every document of one category for one tax year (the W-2s of 2024).
-- index: idx_documents_org_category_year
-- params: organization_id, category='w2', tax_year=2024
SELECT id, client_id, file_name FROM documents
WHERE organization_id = %(organization_id)s AND category = %(category)s
AND tax_year = %(tax_year)s AND deleted_at IS NULL

-- name: tasks.assigned_by_status
-- purpose: A user's tasks in one status (assignment view).
-- index: idx_tasks_org_assignee_status
-- params: organization_id, user_id, status='blocked'
SELECT id, title, due_date, priority FROM tasks
WHERE organization_id = %(organization_id)s AND assignee_id = %(user_id)s
AND status = %(status)s

-- name: tasks.engagement_board
-- purpose: An engagement's tasks in one status column of its board.
-- index: idx_tasks_org_engagement_status
-- params: organization_id, engagement_id, status='in_progress'
SELECT id, title, assignee_id, priority FROM tasks
WHERE organization_id = %(organization_id)s AND engagement_id = %(engagement_id)s
AND status = %(status)s

-- name: invoices.by_status
-- purpose: Invoices in one status due within a window (invoice management).
-- index: idx_invoices_org_status_due
-- params: organization_id, status='paid'
SELECT id, invoice_number, client_id, amount, due_date FROM invoices
WHERE organization_id = %(organization_id)s AND status = %(status)s
AND due_date BETWEEN CURRENT_DATE - 60 AND CURRENT_DATE ORDER BY due_date

-- name: invoices.client_history
-- purpose: A client's invoices, latest first (client billing tab).
-- index: idx_invoices_org_client_issue
-- params: organization_id, client_id
SELECT id, invoice_number, status, amount, issue_date FROM invoices
WHERE organization_id = %(organization_id)s AND client_id = %(client_id)s
ORDER BY issue_date DESC LIMIT 20

-- name: clients.risk_review
-- purpose: Clients in one status at one risk level (risk assessment).
-- index: idx_clients_org_status_risk
-- params: organization_id, status='inactive', risk_level='high'
SELECT id, business_name, industry FROM clients
WHERE organization_id = %(organization_id)s AND status = %(status)s
AND risk_level = %(risk_level)s

-- name: engagements.by_status_due
-- purpose: Engagements in one status by due date (engagement tracking).
-- index: idx_engagements_org_status_due
-- params: organization_id, status='on_hold'
SELECT id, name, client_id, due_date FROM engagements
WHERE organization_id = %(organization_id)s AND status = %(status)s
AND due_date >= CURRENT_DATE - 90 ORDER BY due_date LIMIT 100

-- name: engagements.assigned_by_status
-- purpose: A user's engagements in one status (my engagements).
-- index: idx_engagements_org_assignee_status
-- params: organization_id, user_id, status='review'
SELECT id, name, client_id, due_date FROM engagements
WHERE organization_id = %(organization_id)s AND assigned_to_id = %(user_id)s
AND status = %(status)s

-- name: audit.entity_trail
-- purpose: The audit trail of one entity, newest first (SOX compliance).
-- index: idx_audit_logs_entity_time
-- params: organization_id, entity_type, entity_id
-- flags: custom_plan
-- The generic plan expects the average entity's row or so per partition and sorts them
-- all; a busy entity's trail then reads every row it ever had, where the custom plan
-- merges the partitions' index order and stops at 100 (tests/plans/test_custom_plans.py).
SELECT id, user_id, action, old_values, new_values, created_at FROM audit_logs
WHERE organization_id = %(organization_id)s AND entity_type = %(entity_type)s
AND entity_id = %(entity_id)s ORDER BY created_at DESC LIMIT 100

-- name: audit.user_activity
-- purpose: What one user did recently (access review).
-- index: idx_audit_logs_org_user_time
-- params: organization_id, user_id
SELECT id, entity_type, entity_id, action, created_at FROM audit_logs
WHERE organization_id = %(organization_id)s AND user_id = %(user_id)s
AND created_at >= now() - interval '30 days' ORDER BY created_at DESC LIMIT 100

-- name: notes.client_timeline
-- purpose: A client's latest notes (client timeline).
-- index: idx_notes_org_client_time
-- params: organization_id, client_id
SELECT id, author_id, title, created_at FROM notes
WHERE organization_id = %(organization_id)s AND client_id = %(client_id)s
ORDER BY created_at DESC LIMIT 20
