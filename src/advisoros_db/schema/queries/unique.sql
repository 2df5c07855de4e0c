-- The hot-path query catalog: unique partial indexes (format: composite.sql), business rules the
-- database enforces that a hot query also reads.

-- name: subscriptions.active
-- purpose: The organization's live subscription (feature gating on every request).
-- index: idx_subscriptions_active_unique
-- params: organization_id
SELECT id, plan_name, status, seats, current_period_end FROM subscriptions
WHERE organization_id = %(organization_id)s
AND status IN ('trialing', 'active', 'past_due')

-- name: document_sessions.active_on_document
-- purpose: Who is editing a document right now (live collaboration).
-- index: idx_document_sessions_unique
-- params: organization_id, document_id
SELECT user_id, cursor_position, last_seen_at FROM document_sessions
WHERE organization_id = %(organization_id)s AND document_id = %(document_id)s
AND ended_at IS NULL
