-- The hot-path query catalog: partial indexes (format: composite.sql). Each query repeats its
-- index's predicate word for word (advisoros_db.schema.indexes): the planner uses a partial index
-- only when it can prove the query's WHERE implies the index's.

-- name: documents.review_queue
-- purpose: Documents waiting for a human review, oldest first.
-- index: idx_documents_needs_review
-- params: organization_id
SELECT id, client_id, file_name, ocr_confidence FROM documents
WHERE organization_id = %(organization_id)s AND needs_review AND deleted_at IS NULL
ORDER BY created_at LIMIT 50

-- name: documents.ocr_queue
-- purpose: Documents waiting for OCR, oldest first (the OCR job queue).
-- index: idx_documents_ocr_pending
-- params: organization_id
SELECT id, file_url, mime_type FROM documents
WHERE organization_id = %(organization_id)s AND ocr_status = 'pending'
AND deleted_at IS NULL ORDER BY created_at LIMIT 50

-- name: tasks.overdue
-- purpose: Open tasks past their due date (dashboard overdue widget).
-- index: idx_tasks_overdue
-- params: organization_id
SELECT id, title, assignee_id, due_date FROM tasks
WHERE organization_id = %(organization_id)s
AND status NOT IN ('completed', 'cancelled') AND deleted_at IS NULL
AND due_date < CURRENT_DATE ORDER BY due_date LIMIT 50

-- name: tasks.unassigned
-- purpose: Open tasks nobody owns yet, oldest first (triage).
-- index: idx_tasks_unassigned
-- params: organization_id
SELECT id, title, engagement_id, created_at FROM tasks
WHERE organization_id = %(organization_id)s AND assignee_id IS NULL
AND status NOT IN ('completed', 'cancelled') AND deleted_at IS NULL
ORDER BY created_at LIMIT 50

-- name: invoices.collections
-- purpose: Unpaid invoices past due, oldest first (collections dashboard).
-- index: idx_invoices_overdue
-- params: organization_id
SELECT id, client_id, invoice_number, amount - amount_paid AS balance, due_date
FROM invoices WHERE organization_id = %(organization_id)s
AND status IN ('sent', 'viewed', 'partial', 'overdue') AND deleted_at IS NULL
AND amount_paid < amount AND due_date < CURRENT_DATE ORDER BY due_date LIMIT 100

-- name: invoices.drafts
-- purpose: Draft invoices still to send, newest first.
-- index: idx_invoices_drafts
-- params: organization_id
SELECT id, client_id, amount, created_at FROM invoices
WHERE organization_id = %(organization_id)s AND status = 'draft'
AND deleted_at IS NULL ORDER BY created_at DESC LIMIT 50

-- name: engagements.work_queue
-- purpose: Active engagements by due date (the engagement queue).
-- index: idx_engagements_active
-- params: organization_id
SELECT id, name, client_id, status, due_date FROM engagements
WHERE organization_id = %(organization_id)s
AND status IN ('planning', 'in_progress', 'review') AND deleted_at IS NULL
ORDER BY due_date LIMIT 50

-- name: jobs.failed
-- purpose: A queue's failed jobs, latest first (retry console).
-- index: idx_job_executions_failed
-- params: queue
-- flags: system
SELECT id, job_name, attempts, created_at FROM job_executions
WHERE queue = %(queue)s AND status = 'failed' ORDER BY created_at DESC LIMIT 100

-- name: clients.active_directory
-- purpose: Active clients by name (client list).
-- index: idx_clients_active_name
-- params: organization_id
SELECT id, business_name, status, risk_level FROM clients
WHERE organization_id = %(organization_id)s AND status = 'active'
AND deleted_at IS NULL ORDER BY business_name LIMIT 50

-- name: users.advisor_directory
-- purpose: The firm's active advisors by name (assignment picker).
-- index: idx_users_advisors
-- params: organization_id
SELECT id, name, email FROM users WHERE organization_id = %(organization_id)s
AND is_advisor AND is_active AND deleted_at IS NULL ORDER BY name

-- name: notes.reminders_due
-- purpose: Note reminders due in the next day.
-- index: idx_notes_reminders_due
-- params: organization_id
SELECT id, author_id, title, reminder_at FROM notes
WHERE organization_id = %(organization_id)s AND reminder_at IS NOT NULL
AND deleted_at IS NULL AND reminder_at <= now() + interval '1 day'
ORDER BY reminder_at

-- name: reports.generation_queue
-- purpose: Reports waiting to be generated, oldest first (report worker).
-- index: idx_reports_queued
-- params:
-- flags: system
SELECT id, organization_id, report_type FROM reports WHERE status = 'queued'
ORDER BY created_at LIMIT 10

-- name: report_schedules.due
-- purpose: Active report schedules whose next run is due (scheduler).
-- index: idx_report_schedules_due
-- params:
-- flags: system
SELECT id, organization_id, template_id FROM report_schedules
WHERE is_active AND next_run_at <= now() ORDER BY next_run_at LIMIT 100

-- name: task_queue.claim
-- purpose: Claim the next queued items of a queue, highest priority first.
-- index: idx_task_queue_items_ready
-- params: queue
-- flags: system
SELECT id, kind, payload FROM task_queue_items
WHERE queue = %(queue)s AND status = 'queued'
ORDER BY priority DESC, created_at LIMIT 10 FOR UPDATE SKIP LOCKED
