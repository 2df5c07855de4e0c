-- A small, skewed AdvisorOS: 2,000 firms with a subscription history and a couple of users each,
-- and four large firms (the first twice the size of the others) holding the operational data, in
-- which a fifth of the clients ("key" clients) carry most documents, notes and invoices. Values a
-- catalog query looks for are rare (0.5-3 %), as a search term or a queue state is in production.
-- h is a stable pseudo-random number per row: hashtext of the row's identity.

INSERT INTO organizations (name, slug)
SELECT 'Firm ' || g, 'firm-' || g FROM generate_series(1, 2000) g;

CREATE TEMP TABLE heavy AS
SELECT id, CASE slug WHEN 'firm-1' THEN 2 ELSE 1 END AS w
FROM organizations WHERE slug IN ('firm-1', 'firm-2', 'firm-3', 'firm-4');

INSERT INTO subscriptions (organization_id, plan_name, status, current_period_end)
SELECT o.id, 'professional',
       CASE WHEN k = 5 THEN (ARRAY['active', 'trialing', 'past_due'])[1 + g % 3]
            ELSE 'cancelled' END,
       now() + (k - 5) * interval '1 year'
FROM (SELECT id, row_number() OVER (ORDER BY slug) AS g FROM organizations) o,
     generate_series(1, 5) k;

INSERT INTO users (organization_id, email, name, is_advisor, is_active, role)
SELECT o.id, 'user' || g || '@' || o.slug || '.example', 'User ' || lpad(g::text, 4, '0'),
       g % 3 = 0, g % 20 <> 0, 'staff'
FROM organizations o LEFT JOIN heavy h ON h.id = o.id,
     generate_series(1, CASE WHEN h.id IS NULL THEN 2 ELSE 75 * h.w END) g;

CREATE TEMP TABLE staff AS
SELECT organization_id, array_agg(id ORDER BY id) AS ids FROM users GROUP BY organization_id;

INSERT INTO advisor_profiles (organization_id, user_id, bio, industries)
SELECT u.organization_id, u.id,
       CASE WHEN x.h % 200 = 0 THEN 'Fractional CFO for cryptocurrency exchanges and funds.'
            ELSE (ARRAY['Tax advisor for restaurants and retail.',
                        'Audit and assurance for manufacturers.',
                        'Bookkeeping and payroll for medical practices.',
                        'Outsourced controller for software startups.'])[1 + x.h % 4] END,
       CASE WHEN x.h % 200 = 1 THEN ARRAY['aviation', 'logistics']
            ELSE ARRAY[(ARRAY['retail', 'healthcare', 'construction', 'software',
                              'hospitality', 'real_estate'])[1 + x.h % 6]] END
FROM users u, LATERAL (SELECT hashtext(u.id::text) & 2147483647 AS h) x;

INSERT INTO clients (organization_id, business_name, legal_name, status, risk_level, custom_fields,
                     financial_data, tags)
SELECT o.id, n.name, n.name || ' LLC',
       CASE x.h % 10 WHEN 0 THEN 'inactive' WHEN 1 THEN 'prospect' WHEN 2 THEN 'archived'
                     ELSE 'active' END,
       CASE WHEN x.h % 7 = 0 THEN 'high' WHEN x.h % 3 = 0 THEN 'low' ELSE 'medium' END,
       jsonb_build_object('entity_state', CASE WHEN x.h % 150 = 0 THEN 'DE'
                          ELSE (ARRAY['CA', 'NY', 'TX', 'WA', 'FL'])[1 + x.h % 5] END,
                          'segment', (ARRAY['smb', 'mid', 'enterprise'])[1 + x.h % 3]),
       jsonb_build_object('basis', CASE WHEN x.h % 100 = 0 THEN 'cash' ELSE 'accrual' END,
                          'revenue_band', x.h % 8),
       CASE WHEN x.h % 120 = 0 THEN ARRAY['vip', 'monthly']
            ELSE ARRAY[(ARRAY['monthly', 'quarterly', 'annual', 'payroll'])[1 + x.h % 4]] END
FROM heavy o, generate_series(1, 400 * o.w) g,
     LATERAL (SELECT hashtext(o.id::text || g) & 2147483647 AS h) x,
     LATERAL (SELECT CASE WHEN x.h % 200 = 7 THEN 'Zephyr Holdings ' || g
                     ELSE (ARRAY['Acme', 'Summit', 'Harbor', 'Pioneer', 'Granite', 'Maple',
                                 'Cedar', 'Beacon', 'Atlas', 'Crescent'])[1 + x.h % 10] || ' '
                          || (ARRAY['Dental', 'Logistics', 'Bakery', 'Builders', 'Partners',
                                    'Foods', 'Motors', 'Studio', 'Farms'])[1 + (x.h / 10) % 9]
                          || ' ' || g END AS name) n;

CREATE TEMP TABLE client_weight AS
SELECT id, organization_id, CASE WHEN hashtext(id::text) % 5 = 0 THEN 6 ELSE 1 END AS w
FROM clients;

INSERT INTO engagements (organization_id, client_id, name, type, status, start_date, due_date,
                         assigned_to_id, custom_fields, description)
SELECT c.organization_id, c.id,
       (ARRAY['Tax return', 'Monthly books', 'Payroll', 'Year-end close'])[1 + x.h % 4]
           || ' ' || cl.business_name,
       (ARRAY['tax_preparation', 'bookkeeping', 'payroll', 'advisory'])[1 + x.h % 4],
       CASE WHEN x.h % 100 < 3 THEN 'on_hold' WHEN x.h % 100 < 43 THEN 'completed'
            WHEN x.h % 100 < 48 THEN 'cancelled' WHEN x.h % 100 < 58 THEN 'planning'
            WHEN x.h % 100 < 88 THEN 'in_progress' ELSE 'review' END,
       CURRENT_DATE - 400, CURRENT_DATE + (x.h % 400 - 200),
       s.ids[1 + x.h % cardinality(s.ids)],
       jsonb_build_object('extension_filed', x.h % 100 = 0, 'fee_type', 'fixed'),
       CASE WHEN x.h % 100 = 1 THEN 'Cost segregation study for the new warehouse.'
            ELSE 'Recurring compliance work under the standard engagement letter.' END
FROM client_weight c JOIN clients cl ON cl.id = c.id
JOIN staff s ON s.organization_id = c.organization_id,
     generate_series(1, 2 * c.w) k,
     LATERAL (SELECT hashtext(c.id::text || 'e' || k) & 2147483647 AS h) x;

INSERT INTO tasks (organization_id, engagement_id, assignee_id, title, description, status,
                   priority, due_date, tags, deleted_at)
SELECT e.organization_id, e.id,
       CASE WHEN x.h % 100 < 8 THEN NULL ELSE s.ids[1 + x.h % cardinality(s.ids)] END,
       CASE WHEN x.h % 50 = 0 THEN 'Reconcile payroll accounts'
            ELSE (ARRAY['Collect bank statements', 'Prepare workpapers', 'Review K-1 inputs',
                        'Draft engagement letter', 'Post adjusting entries',
                        'File quarterly estimates'])[1 + x.h % 6] END,
       CASE WHEN x.h % 100 = 1 THEN 'Client asked about an amended return for last year.'
            ELSE 'Routine step of the engagement checklist.' END,
       CASE WHEN x.h % 100 < 25 THEN 'pending' WHEN x.h % 100 < 45 THEN 'in_progress'
            WHEN x.h % 100 < 48 THEN 'blocked' WHEN x.h % 100 < 55 THEN 'review'
            WHEN x.h % 100 < 95 THEN 'completed' ELSE 'cancelled' END,
       (ARRAY['low', 'normal', 'high', 'urgent'])[1 + x.h % 4],
       CURRENT_DATE + (x.h % 120 - 60),
       CASE WHEN x.h % 100 = 2 THEN ARRAY['client-waiting'] ELSE ARRAY['checklist'] END,
       CASE WHEN x.h % 50 = 3 THEN now() END
FROM engagements e JOIN staff s ON s.organization_id = e.organization_id,
     generate_series(1, 5) k,
     LATERAL (SELECT hashtext(e.id::text || 't' || k) & 2147483647 AS h) x;

INSERT INTO notes (organization_id, client_id, author_id, title, content, reminder_at, tags)
SELECT c.organization_id, c.id, s.ids[1 + x.h % cardinality(s.ids)], 'Call notes',
       CASE WHEN x.h % 100 = 0 THEN 'Discussed penalty abatement with the IRS agent.'
            ELSE 'Client confirmed the numbers; follow up next month.' END,
       CASE WHEN x.h % 100 < 3 THEN now() + (x.h % 48 - 24) * interval '1 hour' END,
       CASE WHEN x.h % 100 = 1 THEN ARRAY['irs-notice'] ELSE ARRAY['call'] END
FROM client_weight c JOIN staff s ON s.organization_id = c.organization_id,
     generate_series(1, 5 * c.w) k,
     LATERAL (SELECT hashtext(c.id::text || 'n' || k) & 2147483647 AS h) x;

INSERT INTO documents (organization_id, client_id, uploaded_by, file_name, file_url, file_type,
                       category, tax_year, status, ocr_status, needs_review, description,
                       metadata, extracted_data, tags, deleted_at, created_at)
SELECT c.organization_id, c.id, s.ids[1 + x.h % cardinality(s.ids)],
       CASE WHEN x.h % 200 = 0 THEN 'Zephyr engagement letter ' || k || '.pdf'
            ELSE (ARRAY['Bank statement', 'Payroll register', 'Receipt', 'Tax return',
                        'Balance sheet'])[1 + x.h % 5] || ' ' || k || '.pdf' END,
       's3://docs/' || c.id || '/' || k, 'pdf',
       (ARRAY['tax_return', 'financial_statement', 'receipt', 'invoice', 'bank_statement',
              'w2', '1099', 'k1', 'payroll', 'contract', 'correspondence', 'other'])[1 + x.h % 12],
       2019 + x.h % 7,
       CASE WHEN x.h % 100 < 30 THEN 'approved' WHEN x.h % 100 < 50 THEN 'ready'
            WHEN x.h % 100 < 60 THEN 'uploaded' WHEN x.h % 100 < 65 THEN 'processing'
            WHEN x.h % 100 < 75 THEN 'in_review' WHEN x.h % 100 < 80 THEN 'rejected'
            ELSE 'archived' END,
       CASE WHEN x.h % 100 < 4 THEN 'pending' WHEN x.h % 100 < 6 THEN 'failed'
            ELSE 'completed' END,
       x.h % 100 BETWEEN 50 AND 52,
       -- 0.5 %: the document pages' first walk (1,000 newest) must not fill a page of it by
       -- chance (>= 20 matches), or plan tests would see the walk instead of the index
       CASE WHEN x.h % 200 = 3 THEN 'Fixed asset depreciation schedule' ELSE 'Client upload' END,
       jsonb_build_object('source', CASE WHEN x.h % 50 = 0 THEN 'email'
                          ELSE (ARRAY['portal', 'upload', 'scanner'])[1 + x.h % 3] END,
                          'pages', 1 + x.h % 40),
       CASE WHEN x.h % 10 < 3 THEN NULL
            ELSE jsonb_build_object('form', CASE WHEN x.h % 100 = 11 THEN '1099-NEC'
                                    ELSE (ARRAY['W-2', '1040', 'K-1', 'invoice'])[1 + x.h % 4]
                                    END) END,
       CASE WHEN x.h % 100 = 5 THEN ARRAY['amended'] ELSE ARRAY['original'] END,
       CASE WHEN x.h % 20 = 0 THEN now() END,
       now() - (x.h % 730) * interval '1 day'
FROM client_weight c JOIN staff s ON s.organization_id = c.organization_id,
     generate_series(1, 5 * c.w) k,
     LATERAL (SELECT hashtext(c.id::text || 'd' || k) & 2147483647 AS h) x;

INSERT INTO document_comments (organization_id, document_id, author_id, content)
SELECT d.organization_id, d.id, d.uploaded_by,
       CASE WHEN x.h % 100 = 0 THEN 'Missing signature on page two.' ELSE 'Looks good.' END
FROM documents d, LATERAL (SELECT hashtext(d.id::text || 'c') & 2147483647 AS h) x
WHERE x.h % 3 = 0;

-- Live collaboration: one document is busy (many ended sessions, three live editors).
CREATE TEMP TABLE busy AS
SELECT id, organization_id FROM documents
WHERE organization_id = (SELECT id FROM organizations WHERE slug = 'firm-1')
ORDER BY id LIMIT 1;

INSERT INTO document_sessions (organization_id, document_id, user_id, session_token, ended_at,
                               status)
SELECT b.organization_id, b.id, s.ids[1 + g % cardinality(s.ids)], 'tok-' || g,
       CASE WHEN g > 3 THEN now() - g * interval '1 minute' END,
       CASE WHEN g > 3 THEN 'ended' ELSE 'active' END
FROM busy b JOIN staff s ON s.organization_id = b.organization_id, generate_series(1, 60) g;

INSERT INTO document_sessions (organization_id, document_id, user_id, session_token, ended_at,
                               status)
SELECT d.organization_id, d.id, d.uploaded_by, 'tok-' || d.id, now(), 'ended'
FROM documents d WHERE hashtext(d.id::text) % 4 = 0;

INSERT INTO invoices (organization_id, client_id, invoice_number, status, issue_date, due_date,
                      amount, amount_paid, metadata, deleted_at)
SELECT c.organization_id, c.id, c.id || '-' || k,
       CASE WHEN x.h % 100 < 5 THEN 'draft' WHEN x.h % 100 < 15 THEN 'sent'
            WHEN x.h % 100 < 20 THEN 'viewed' WHEN x.h % 100 < 23 THEN 'partial'
            WHEN x.h % 100 < 88 THEN 'paid' WHEN x.h % 100 < 95 THEN 'overdue'
            WHEN x.h % 100 < 98 THEN 'void' ELSE 'written_off' END,
       CURRENT_DATE - x.h % 730, CURRENT_DATE - x.h % 730 + 30,
       100 + x.h % 5000, 0,
       jsonb_build_object('payment_plan', x.h % 100 = 0, 'terms', 'net30'),
       CASE WHEN x.h % 100 = 99 THEN now() END
FROM client_weight c, generate_series(1, 4 * c.w) k,
     LATERAL (SELECT hashtext(c.id::text || 'i' || k) & 2147483647 AS h) x;

INSERT INTO audit_logs (organization_id, user_id, entity_type, entity_id, action, old_values,
                        new_values, created_at)
SELECT d.organization_id, s.ids[1 + x.h % cardinality(s.ids)], 'document', d.id, 'update',
       jsonb_build_object('status', CASE WHEN x.h % 100 = 0 THEN 'approved' ELSE 'ready' END),
       jsonb_build_object('status', CASE WHEN x.h % 100 = 1 THEN 'rejected' ELSE 'in_review' END),
       now() - (x.h % 90) * interval '1 day'
FROM documents d JOIN staff s ON s.organization_id = d.organization_id,
     generate_series(1, 2) k,
     LATERAL (SELECT hashtext(d.id::text || 'a' || k) & 2147483647 AS h) x;

-- The busy document's history is long: the audit trail of one entity.
INSERT INTO audit_logs (organization_id, user_id, entity_type, entity_id, action, new_values,
                        created_at)
SELECT b.organization_id, s.ids[1 + g % cardinality(s.ids)], 'document', b.id, 'view', '{}',
       now() - g * interval '1 hour'
FROM busy b JOIN staff s ON s.organization_id = b.organization_id, generate_series(1, 300) g;

INSERT INTO job_executions (organization_id, queue, job_name, status, attempts, payload,
                            created_at)
SELECT d.organization_id, (ARRAY['ocr', 'ocr', 'email', 'sync', 'reports'])[1 + x.h % 5], 'job',
       CASE WHEN x.h % 100 < 2 THEN 'failed' WHEN x.h % 100 < 5 THEN 'waiting'
            ELSE 'completed' END,
       1 + x.h % 3, jsonb_build_object('document_id', d.id),
       now() - (x.h % 10000) * interval '1 minute'
FROM documents d, LATERAL (SELECT hashtext(d.id::text || 'j') & 2147483647 AS h) x;

INSERT INTO task_queue_items (organization_id, queue, kind, status, priority, payload)
SELECT d.organization_id, (ARRAY['ocr', 'ocr', 'email', 'sync', 'reports'])[1 + x.h % 5],
       'process_document',
       CASE WHEN x.h % 100 < 5 THEN 'queued' WHEN x.h % 100 < 7 THEN 'failed' ELSE 'done' END,
       x.h % 5, jsonb_build_object('document_id', d.id)
FROM documents d, LATERAL (SELECT hashtext(d.id::text || 'q') & 2147483647 AS h) x;

INSERT INTO report_templates (organization_id, name, report_type)
SELECT o.id, (ARRAY['Monthly P&L', 'Balance sheet', 'Tax summary'])[1 + x.h % 3], 'custom'
FROM organizations o, generate_series(1, 2) k,
     LATERAL (SELECT hashtext(o.id::text || 'rt' || k) & 2147483647 AS h) x;

INSERT INTO report_schedules (organization_id, template_id, name, frequency, is_active,
                              next_run_at, recipients)
SELECT t.organization_id, t.id, 'Schedule', 'monthly', x.h % 5 <> 0,
       now() + (x.h % 1000 - 30) * interval '1 hour',
       CASE WHEN x.h % 200 = 0 THEN ARRAY['cfo@zephyr.example']::citext[]
            ELSE ARRAY['owner@firm.example']::citext[] END
FROM report_templates t, LATERAL (SELECT hashtext(t.id::text || 's') & 2147483647 AS h) x;

INSERT INTO reports (organization_id, client_id, name, report_type, status, parameters)
SELECT c.organization_id, c.id, 'Report', 'profit_and_loss',
       CASE WHEN x.h % 100 < 2 THEN 'queued' ELSE 'completed' END,
       jsonb_build_object('basis', 'accrual', 'period',
                          CASE WHEN x.h % 100 = 5 THEN '2024-Q4'
                               ELSE (ARRAY['2023-Q4', '2024-Q1', '2024-Q2', '2024-Q3'])[1 + x.h % 4]
                               END)
FROM client_weight c, generate_series(1, 2 * c.w) k,
     LATERAL (SELECT hashtext(c.id::text || 'r' || k) & 2147483647 AS h) x;
