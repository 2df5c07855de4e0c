-- The hot-path query catalog: covering indexes (format: composite.sql), answered from the index
-- alone once the table is vacuumed.

-- name: documents.list
-- purpose: The document list page, newest first.
-- index: idx_documents_list_covering
-- params: organization_id
SELECT id, client_id, file_name, category, status, created_at FROM documents
WHERE organization_id = %(organization_id)s AND deleted_at IS NULL
ORDER BY created_at DESC LIMIT 50

-- name: tasks.dashboard
-- purpose: A user's open tasks by due date (task dashboard).
-- index: idx_tasks_dashboard_covering
-- params: organization_id, user_id
SELECT id, title, status, priority, due_date FROM tasks
WHERE organization_id = %(organization_id)s AND assignee_id = %(user_id)s
AND deleted_at IS NULL AND status NOT IN ('completed', 'cancelled')
ORDER BY due_date LIMIT 20

-- name: invoices.ar_aging
-- purpose: Accounts-receivable aging per client in 30-day buckets.
-- index: idx_invoices_ar_covering
-- params: organization_id
SELECT client_id,
sum(amount - amount_paid) FILTER (WHERE due_date >= CURRENT_DATE) AS current,
sum(amount - amount_paid) FILTER (WHERE due_date < CURRENT_DATE
AND due_date >= CURRENT_DATE - 30) AS days_1_30,
sum(amount - amount_paid) FILTER (WHERE due_date < CURRENT_DATE - 30
AND due_date >= CURRENT_DATE - 60) AS days_31_60,
sum(amount - amount_paid) FILTER (WHERE due_date < CURRENT_DATE - 60
AND due_date >= CURRENT_DATE - 90) AS days_61_90,
sum(amount - amount_paid) FILTER (WHERE due_date < CURRENT_DATE - 90) AS over_90
FROM invoices WHERE organization_id = %(organization_id)s
AND status IN ('sent', 'viewed', 'partial', 'overdue') AND deleted_at IS NULL
GROUP BY client_id ORDER BY client_id
