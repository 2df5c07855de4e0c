"""The hot-path query catalog: every query the application runs on a hot path, as parameterised SQL,
with the 0003 index it relies on. No index without a query: each 0003 index is named here."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, LiteralString

import psycopg

from advisoros_db.errors import AdvisorOSError


@dataclass(frozen=True)
class Sample:
    """Real ids from a populated database that make the catalog's queries return rows."""

    organization_id: uuid.UUID
    client_id: uuid.UUID
    user_id: uuid.UUID
    engagement_id: uuid.UUID
    document_id: uuid.UUID
    entity_type: str
    entity_id: uuid.UUID
    queue: str


Params = Callable[[Sample], Mapping[str, Any]]


@dataclass(frozen=True)
class CatalogQuery:
    """One hot-path query: `sql` takes `bind(sample)`; `index` is the index its plan must use."""

    name: str
    purpose: str
    sql: LiteralString
    index: str
    params: Params
    system: bool = False
    """True for worker and scheduler queries that read every tenant (a privileged role, not RLS)."""
    custom_plan: bool = False
    """True when a cached generic plan is wrong for it, so callers run it unprepared (psycopg
    `prepare=False`) and the server plans every execution with its values. PostgreSQL switches a
    prepared statement to a generic plan after five executions when that plan's estimated cost
    is no worse; for a query whose right plan depends on how many rows its values match (one hot
    entity against the average one), the average wins the estimate and loses at run time."""

    def bind(self, sample: Sample) -> Mapping[str, Any]:
        return self.params(sample)


def _org(s: Sample) -> Mapping[str, Any]:
    return {"organization_id": s.organization_id}


def _with(**fixed: Any) -> Params:
    def params(s: Sample) -> Mapping[str, Any]:
        return {"organization_id": s.organization_id, **fixed}

    return params


# The first page of a keyset-paginated list: every uuidv7 id sorts below it. The next page passes
# the last id shown as `before`.
PAGE_START = uuid.UUID("ffffffff-ffff-ffff-ffff-ffffffffffff")


# The search functions of revision 0021: each returns one page of the tenant's ids (below
# `before`, newest first), which the catalog query reads back under row-level security.
SEARCH_FUNCTIONS = ("search_tenant_text(", "search_tenant_contains(")


def is_search(query: CatalogQuery) -> bool:
    """Whether `query` pages through a tenant search function (revision 0021): its index is used
    inside the function, so EXPLAIN of the query itself shows only the tenant key."""
    return any(f in query.sql for f in SEARCH_FUNCTIONS)


# How every filter page ends: the keyset condition, the order and the page size.
PAGE_TAIL = " AND id < %(before)s ORDER BY id DESC LIMIT 50"
FILTER_FUNCTIONS = ("jsonb_contains", "arraycontains", "arrayoverlap")


def is_page(query: CatalogQuery) -> bool:
    """Whether `query` is a keyset-paginated filter page."""
    return query.sql.endswith(PAGE_TAIL)


def _page(**fixed: Any) -> Params:
    """A filter page's parameters: its values and the first page's `before`."""
    return _with(before=PAGE_START, **fixed)


# Each partial query repeats its index's predicate word for word (see schema.indexes): the planner
# uses a partial index only when it can prove the query's WHERE implies the index's.
QUERIES: tuple[CatalogQuery, ...] = (
    # -- composite
    CatalogQuery(
        "documents.client_documents",
        "A client's documents in one status, newest first (client page).",
        "SELECT id, file_name, category, created_at FROM documents"
        " WHERE organization_id = %(organization_id)s AND client_id = %(client_id)s"
        " AND status = %(status)s AND deleted_at IS NULL ORDER BY created_at DESC LIMIT 50",
        "idx_documents_org_client_status",
        lambda s: {"organization_id": s.organization_id, "client_id": s.client_id, "status": "approved"},
    ),
    CatalogQuery(
        "documents.tax_year_binder",
        "Every document of one category for one tax year (the W-2s of 2024).",
        "SELECT id, client_id, file_name FROM documents"
        " WHERE organization_id = %(organization_id)s AND category = %(category)s"
        " AND tax_year = %(tax_year)s AND deleted_at IS NULL",
        "idx_documents_org_category_year",
        _with(category="w2", tax_year=2024),
    ),
    CatalogQuery(
        "tasks.assigned_by_status",
        "A user's tasks in one status (assignment view).",
        "SELECT id, title, due_date, priority FROM tasks"
        " WHERE organization_id = %(organization_id)s AND assignee_id = %(user_id)s"
        " AND status = %(status)s",
        "idx_tasks_org_assignee_status",
        lambda s: {"organization_id": s.organization_id, "user_id": s.user_id, "status": "blocked"},
    ),
    CatalogQuery(
        "tasks.engagement_board",
        "An engagement's tasks in one status column of its board.",
        "SELECT id, title, assignee_id, priority FROM tasks"
        " WHERE organization_id = %(organization_id)s AND engagement_id = %(engagement_id)s"
        " AND status = %(status)s",
        "idx_tasks_org_engagement_status",
        lambda s: {
            "organization_id": s.organization_id,
            "engagement_id": s.engagement_id,
            "status": "in_progress",
        },
    ),
    CatalogQuery(
        "invoices.by_status",
        "Invoices in one status due within a window (invoice management).",
        "SELECT id, invoice_number, client_id, amount, due_date FROM invoices"
        " WHERE organization_id = %(organization_id)s AND status = %(status)s"
        " AND due_date BETWEEN CURRENT_DATE - 60 AND CURRENT_DATE ORDER BY due_date",
        "idx_invoices_org_status_due",
        _with(status="paid"),
    ),
    CatalogQuery(
        "invoices.client_history",
        "A client's invoices, latest first (client billing tab).",
        "SELECT id, invoice_number, status, amount, issue_date FROM invoices"
        " WHERE organization_id = %(organization_id)s AND client_id = %(client_id)s"
        " ORDER BY issue_date DESC LIMIT 20",
        "idx_invoices_org_client_issue",
        lambda s: {"organization_id": s.organization_id, "client_id": s.client_id},
    ),
    CatalogQuery(
        "clients.risk_review",
        "Clients in one status at one risk level (risk assessment).",
        "SELECT id, business_name, industry FROM clients"
        " WHERE organization_id = %(organization_id)s AND status = %(status)s"
        " AND risk_level = %(risk_level)s",
        "idx_clients_org_status_risk",
        _with(status="inactive", risk_level="high"),
    ),
    CatalogQuery(
        "engagements.by_status_due",
        "Engagements in one status by due date (engagement tracking).",
        "SELECT id, name, client_id, due_date FROM engagements"
        " WHERE organization_id = %(organization_id)s AND status = %(status)s"
        " AND due_date >= CURRENT_DATE - 90 ORDER BY due_date LIMIT 100",
        "idx_engagements_org_status_due",
        _with(status="on_hold"),
    ),
    CatalogQuery(
        "engagements.assigned_by_status",
        "A user's engagements in one status (my engagements).",
        "SELECT id, name, client_id, due_date FROM engagements"
        " WHERE organization_id = %(organization_id)s AND assigned_to_id = %(user_id)s"
        " AND status = %(status)s",
        "idx_engagements_org_assignee_status",
        lambda s: {"organization_id": s.organization_id, "user_id": s.user_id, "status": "review"},
    ),
    CatalogQuery(
        "audit.entity_trail",
        "The audit trail of one entity, newest first (SOX compliance).",
        "SELECT id, user_id, action, old_values, new_values, created_at FROM audit_logs"
        " WHERE organization_id = %(organization_id)s AND entity_type = %(entity_type)s"
        " AND entity_id = %(entity_id)s ORDER BY created_at DESC LIMIT 100",
        "idx_audit_logs_entity_time",
        lambda s: {
            "organization_id": s.organization_id,
            "entity_type": s.entity_type,
            "entity_id": s.entity_id,
        },
        # The generic plan expects the average entity's row or so per partition and sorts them
        # all; a busy entity's trail then reads every row it ever had, where the custom plan
        # merges the partitions' index order and stops at 100 (tests/plans/test_custom_plans.py).
        custom_plan=True,
    ),
    CatalogQuery(
        "audit.user_activity",
        "What one user did recently (access review).",
        "SELECT id, entity_type, entity_id, action, created_at FROM audit_logs"
        " WHERE organization_id = %(organization_id)s AND user_id = %(user_id)s"
        " AND created_at >= now() - interval '30 days' ORDER BY created_at DESC LIMIT 100",
        "idx_audit_logs_org_user_time",
        lambda s: {"organization_id": s.organization_id, "user_id": s.user_id},
    ),
    CatalogQuery(
        "notes.client_timeline",
        "A client's latest notes (client timeline).",
        "SELECT id, author_id, title, created_at FROM notes"
        " WHERE organization_id = %(organization_id)s AND client_id = %(client_id)s"
        " ORDER BY created_at DESC LIMIT 20",
        "idx_notes_org_client_time",
        lambda s: {"organization_id": s.organization_id, "client_id": s.client_id},
    ),
    # -- partial
    CatalogQuery(
        "documents.review_queue",
        "Documents waiting for a human review, oldest first.",
        "SELECT id, client_id, file_name, ocr_confidence FROM documents"
        " WHERE organization_id = %(organization_id)s AND needs_review AND deleted_at IS NULL"
        " ORDER BY created_at LIMIT 50",
        "idx_documents_needs_review",
        _org,
    ),
    CatalogQuery(
        "documents.ocr_queue",
        "Documents waiting for OCR, oldest first (the OCR job queue).",
        "SELECT id, file_url, mime_type FROM documents"
        " WHERE organization_id = %(organization_id)s AND ocr_status = 'pending'"
        " AND deleted_at IS NULL ORDER BY created_at LIMIT 50",
        "idx_documents_ocr_pending",
        _org,
    ),
    CatalogQuery(
        "tasks.overdue",
        "Open tasks past their due date (dashboard overdue widget).",
        "SELECT id, title, assignee_id, due_date FROM tasks"
        " WHERE organization_id = %(organization_id)s"
        " AND status NOT IN ('completed', 'cancelled') AND deleted_at IS NULL"
        " AND due_date < CURRENT_DATE ORDER BY due_date LIMIT 50",
        "idx_tasks_overdue",
        _org,
    ),
    CatalogQuery(
        "tasks.unassigned",
        "Open tasks nobody owns yet, oldest first (triage).",
        "SELECT id, title, engagement_id, created_at FROM tasks"
        " WHERE organization_id = %(organization_id)s AND assignee_id IS NULL"
        " AND status NOT IN ('completed', 'cancelled') AND deleted_at IS NULL"
        " ORDER BY created_at LIMIT 50",
        "idx_tasks_unassigned",
        _org,
    ),
    CatalogQuery(
        "invoices.collections",
        "Unpaid invoices past due, oldest first (collections dashboard).",
        "SELECT id, client_id, invoice_number, amount - amount_paid AS balance, due_date"
        " FROM invoices WHERE organization_id = %(organization_id)s"
        " AND status IN ('sent', 'viewed', 'partial', 'overdue') AND deleted_at IS NULL"
        " AND amount_paid < amount AND due_date < CURRENT_DATE ORDER BY due_date LIMIT 100",
        "idx_invoices_overdue",
        _org,
    ),
    CatalogQuery(
        "invoices.drafts",
        "Draft invoices still to send, newest first.",
        "SELECT id, client_id, amount, created_at FROM invoices"
        " WHERE organization_id = %(organization_id)s AND status = 'draft'"
        " AND deleted_at IS NULL ORDER BY created_at DESC LIMIT 50",
        "idx_invoices_drafts",
        _org,
    ),
    CatalogQuery(
        "engagements.work_queue",
        "Active engagements by due date (the engagement queue).",
        "SELECT id, name, client_id, status, due_date FROM engagements"
        " WHERE organization_id = %(organization_id)s"
        " AND status IN ('planning', 'in_progress', 'review') AND deleted_at IS NULL"
        " ORDER BY due_date LIMIT 50",
        "idx_engagements_active",
        _org,
    ),
    CatalogQuery(
        "jobs.failed",
        "A queue's failed jobs, latest first (retry console).",
        "SELECT id, job_name, attempts, created_at FROM job_executions"
        " WHERE queue = %(queue)s AND status = 'failed' ORDER BY created_at DESC LIMIT 100",
        "idx_job_executions_failed",
        lambda s: {"queue": s.queue},
        system=True,
    ),
    CatalogQuery(
        "clients.active_directory",
        "Active clients by name (client list).",
        "SELECT id, business_name, status, risk_level FROM clients"
        " WHERE organization_id = %(organization_id)s AND status = 'active'"
        " AND deleted_at IS NULL ORDER BY business_name LIMIT 50",
        "idx_clients_active_name",
        _org,
    ),
    CatalogQuery(
        "users.advisor_directory",
        "The firm's active advisors by name (assignment picker).",
        "SELECT id, name, email FROM users WHERE organization_id = %(organization_id)s"
        " AND is_advisor AND is_active AND deleted_at IS NULL ORDER BY name",
        "idx_users_advisors",
        _org,
    ),
    CatalogQuery(
        "notes.reminders_due",
        "Note reminders due in the next day.",
        "SELECT id, author_id, title, reminder_at FROM notes"
        " WHERE organization_id = %(organization_id)s AND reminder_at IS NOT NULL"
        " AND deleted_at IS NULL AND reminder_at <= now() + interval '1 day'"
        " ORDER BY reminder_at",
        "idx_notes_reminders_due",
        _org,
    ),
    CatalogQuery(
        "reports.generation_queue",
        "Reports waiting to be generated, oldest first (report worker).",
        "SELECT id, organization_id, report_type FROM reports WHERE status = 'queued'"
        " ORDER BY created_at LIMIT 10",
        "idx_reports_queued",
        lambda s: {},
        system=True,
    ),
    CatalogQuery(
        "report_schedules.due",
        "Active report schedules whose next run is due (scheduler).",
        "SELECT id, organization_id, template_id FROM report_schedules"
        " WHERE is_active AND next_run_at <= now() ORDER BY next_run_at LIMIT 100",
        "idx_report_schedules_due",
        lambda s: {},
        system=True,
    ),
    CatalogQuery(
        "task_queue.claim",
        "Claim the next queued items of a queue, highest priority first.",
        "SELECT id, kind, payload FROM task_queue_items"
        " WHERE queue = %(queue)s AND status = 'queued'"
        " ORDER BY priority DESC, created_at LIMIT 10 FOR UPDATE SKIP LOCKED",
        "idx_task_queue_items_ready",
        lambda s: {"queue": s.queue},
        system=True,
    ),
    # -- JSONB and tag filters, as a screen asks: one page, newest first (ids are uuidv7), LIMIT 50,
    # the next page after the last id shown. Under row-level security `@>` and `&&` can never be
    # index conditions for the application role (they are not LEAKPROOF), so each page walks the
    # tenant's `(organization_id, id)` unique index backwards and filters until it has 50 rows.
    # The filters are spelled as the operators' functions (jsonb_contains is `@>`, arraycontains
    # `@>`, arrayoverlap `&&`: same code, same privileges): the application role gets no
    # statistics for a non-LEAKPROOF operator, and the operator's default estimate (a fraction
    # of a percent) has the planner read the whole tenant and sort it, where a boolean
    # function's default (one row in three) has it walk the key and stop at 50 matches.
    CatalogQuery(
        "documents.metadata_match",
        "Documents whose metadata contains a key/value (metadata search).",
        "SELECT id, file_name FROM documents WHERE organization_id = %(organization_id)s"
        " AND jsonb_contains(metadata, %(match)s::jsonb)"
        " AND id < %(before)s ORDER BY id DESC LIMIT 50",
        "uq_documents_organization_id_id",
        _page(match='{"source": "email"}'),
    ),
    CatalogQuery(
        "documents.extracted_field_match",
        "Documents whose OCR output contains a field value (OCR data search).",
        "SELECT id, file_name FROM documents WHERE organization_id = %(organization_id)s"
        " AND jsonb_contains(extracted_data, %(match)s::jsonb)"
        " AND id < %(before)s ORDER BY id DESC LIMIT 50",
        "uq_documents_organization_id_id",
        _page(match='{"form": "1099-NEC"}'),
    ),
    CatalogQuery(
        "documents.tagged",
        "Documents carrying a tag (tag filter).",
        "SELECT id, file_name FROM documents WHERE organization_id = %(organization_id)s"
        " AND arraycontains(tags, ARRAY[%(tag)s]::text[])"
        " AND id < %(before)s ORDER BY id DESC LIMIT 50",
        "uq_documents_organization_id_id",
        _page(tag="amended"),
    ),
    CatalogQuery(
        "clients.custom_field_match",
        "Clients whose custom fields contain a value (custom field search).",
        "SELECT id, business_name FROM clients WHERE organization_id = %(organization_id)s"
        " AND jsonb_contains(custom_fields, %(match)s::jsonb)"
        " AND id < %(before)s ORDER BY id DESC LIMIT 50",
        "uq_clients_organization_id_id",
        _page(match='{"entity_state": "DE"}'),
    ),
    CatalogQuery(
        "clients.financial_data_match",
        "Clients whose financial data contains a value (e.g. an accounting basis).",
        "SELECT id, business_name FROM clients WHERE organization_id = %(organization_id)s"
        " AND jsonb_contains(financial_data, %(match)s::jsonb)"
        " AND id < %(before)s ORDER BY id DESC LIMIT 50",
        "uq_clients_organization_id_id",
        _page(match='{"basis": "cash"}'),
    ),
    CatalogQuery(
        "clients.tagged",
        "Clients carrying any of some tags.",
        "SELECT id, business_name FROM clients WHERE organization_id = %(organization_id)s"
        " AND arrayoverlap(tags, %(tags)s::text[])"
        " AND id < %(before)s ORDER BY id DESC LIMIT 50",
        "uq_clients_organization_id_id",
        _page(tags=["vip"]),
    ),
    CatalogQuery(
        "clients.name_contains",
        "Clients whose name contains a fragment anywhere (type-ahead), newest first.",
        "SELECT id, business_name FROM clients WHERE organization_id = %(organization_id)s"
        " AND id = ANY (ARRAY(SELECT search_tenant_contains('clients.business_name',"
        " %(pattern)s, %(before)s, 50)))"
        " ORDER BY id DESC LIMIT 50",
        "idx_clients_tenant_trgm",
        _page(pattern="%zephyr%"),
    ),
    CatalogQuery(
        "audit.old_value_investigation",
        "Audit rows whose previous values contained something (who changed it away).",
        "SELECT id, entity_type, entity_id, user_id, created_at FROM audit_logs"
        " WHERE organization_id = %(organization_id)s AND jsonb_contains(old_values, %(match)s::jsonb)"
        " AND id < %(before)s ORDER BY id DESC LIMIT 50",
        "uq_audit_logs_organization_id_id",
        _page(match='{"status": "approved"}'),
    ),
    CatalogQuery(
        "audit.new_value_investigation",
        "Audit rows that set a value (who set it).",
        "SELECT id, entity_type, entity_id, user_id, created_at FROM audit_logs"
        " WHERE organization_id = %(organization_id)s AND jsonb_contains(new_values, %(match)s::jsonb)"
        " AND id < %(before)s ORDER BY id DESC LIMIT 50",
        "uq_audit_logs_organization_id_id",
        _page(match='{"status": "rejected"}'),
    ),
    CatalogQuery(
        "advisors.by_industry",
        "Advisor profiles serving an industry (marketplace matching).",
        "SELECT id, user_id FROM advisor_profiles WHERE organization_id = %(organization_id)s"
        " AND arraycontains(industries, ARRAY[%(industry)s]::text[])"
        " AND id < %(before)s ORDER BY id DESC LIMIT 50",
        "uq_advisor_profiles_organization_id_user_id",
        _page(industry="aviation"),
    ),
    CatalogQuery(
        "engagements.custom_field_match",
        "Engagements whose custom fields contain a value.",
        "SELECT id, name FROM engagements WHERE organization_id = %(organization_id)s"
        " AND jsonb_contains(custom_fields, %(match)s::jsonb)"
        " AND id < %(before)s ORDER BY id DESC LIMIT 50",
        "uq_engagements_organization_id_id",
        _page(match='{"extension_filed": true}'),
    ),
    CatalogQuery(
        "tasks.tagged",
        "Tasks carrying a tag.",
        "SELECT id, title FROM tasks WHERE organization_id = %(organization_id)s"
        " AND arraycontains(tags, ARRAY[%(tag)s]::text[])"
        " AND id < %(before)s ORDER BY id DESC LIMIT 50",
        "uq_tasks_organization_id_id",
        _page(tag="client-waiting"),
    ),
    CatalogQuery(
        "notes.tagged",
        "Notes carrying a tag.",
        "SELECT id, title FROM notes WHERE organization_id = %(organization_id)s"
        " AND arraycontains(tags, ARRAY[%(tag)s]::text[])"
        " AND id < %(before)s ORDER BY id DESC LIMIT 50",
        "uq_notes_organization_id_id",
        _page(tag="irs-notice"),
    ),
    CatalogQuery(
        "invoices.metadata_match",
        "Invoices whose metadata contains a value (e.g. a payment-plan flag).",
        "SELECT id, invoice_number FROM invoices WHERE organization_id = %(organization_id)s"
        " AND jsonb_contains(metadata, %(match)s::jsonb)"
        " AND id < %(before)s ORDER BY id DESC LIMIT 50",
        "uq_invoices_organization_id_id",
        _page(match='{"payment_plan": true}'),
    ),
    CatalogQuery(
        "reports.by_parameters",
        "Reports generated with given parameters (reuse an existing run).",
        "SELECT id, name, status FROM reports WHERE organization_id = %(organization_id)s"
        " AND jsonb_contains(parameters, %(match)s::jsonb)"
        " AND id < %(before)s ORDER BY id DESC LIMIT 50",
        "uq_reports_organization_id_id",
        _page(match='{"basis": "accrual", "period": "2024-Q4"}'),
    ),
    CatalogQuery(
        "report_schedules.by_recipient",
        "Every schedule that mails an address, in any firm (an unsubscribe link's handler).",
        "SELECT id, organization_id, name FROM report_schedules"
        " WHERE recipients @> ARRAY[%(email)s]::citext[]",
        "idx_report_schedules_recipients_gin",
        lambda s: {"email": "cfo@zephyr.example"},
        system=True,
    ),
    CatalogQuery(
        "jobs.for_document",
        "Every job run about one document, in any queue (support: what happened to this file).",
        "SELECT id, queue, job_name, status FROM job_executions WHERE payload @> %(match)s::jsonb",
        "idx_job_executions_payload_gin",
        lambda s: {"match": f'{{"document_id": "{s.document_id}"}}'},
        system=True,
    ),
    CatalogQuery(
        "task_queue.payload_match",
        "Queue items about one object (dedupe before enqueueing).",
        "SELECT id, status FROM task_queue_items WHERE payload @> %(match)s::jsonb",
        "idx_task_queue_items_payload_gin",
        lambda s: {"match": f'{{"document_id": "{s.document_id}"}}'},
        system=True,
    ),
    # -- full text. Documents: each expression is the index's expression, character for character.
    # The other tables' columns (and clients.name_contains above) go through revision 0021's
    # SECURITY DEFINER functions, which read only the caller's tenant on a tenant-keyed index
    # (named here; it is used inside the function) and return one page: newest first, 50 ids
    # below `before` (catalog.PAGE_START for the first page, the last id shown for the next).
    CatalogQuery(
        "documents.file_name_search",
        "Documents whose file name has the words (document search box).",
        "SELECT id, file_name FROM documents WHERE organization_id = %(organization_id)s"
        " AND to_tsvector('simple'::regconfig, file_name)"
        " @@ plainto_tsquery('simple'::regconfig, %(q)s)",
        "idx_documents_filename_fts",
        _with(q="zephyr"),
    ),
    CatalogQuery(
        "documents.description_search",
        "Documents whose description matches a web-style query.",
        "SELECT id, file_name FROM documents WHERE organization_id = %(organization_id)s"
        " AND to_tsvector('english'::regconfig, description)"
        " @@ websearch_to_tsquery('english'::regconfig, %(q)s)",
        "idx_documents_description_fts",
        _with(q="depreciation schedule"),
    ),
    CatalogQuery(
        "clients.business_name_search",
        "Clients whose business name has the words (client search), newest first.",
        "SELECT id, business_name FROM clients WHERE organization_id = %(organization_id)s"
        " AND id = ANY (ARRAY(SELECT search_tenant_text('clients.business_name',"
        " plainto_tsquery('simple'::regconfig, %(q)s), %(before)s, 50)))"
        " ORDER BY id DESC LIMIT 50",
        "idx_clients_tenant_fts",
        _page(q="zephyr"),
    ),
    CatalogQuery(
        "clients.legal_name_search",
        "Clients whose legal name has the words (matching a filing), newest first.",
        "SELECT id, legal_name FROM clients WHERE organization_id = %(organization_id)s"
        " AND id = ANY (ARRAY(SELECT search_tenant_text('clients.legal_name',"
        " plainto_tsquery('simple'::regconfig, %(q)s), %(before)s, 50)))"
        " ORDER BY id DESC LIMIT 50",
        "idx_clients_tenant_fts",
        _page(q="zephyr holdings"),
    ),
    CatalogQuery(
        "tasks.title_search",
        "Tasks whose title matches (task search), newest first.",
        "SELECT id, title FROM tasks WHERE organization_id = %(organization_id)s"
        " AND id = ANY (ARRAY(SELECT search_tenant_text('tasks.title',"
        " websearch_to_tsquery('english'::regconfig, %(q)s), %(before)s, 50)))"
        " ORDER BY id DESC LIMIT 50",
        "idx_tasks_tenant_fts",
        _page(q="reconcile payroll"),
    ),
    CatalogQuery(
        "tasks.description_search",
        "Tasks whose description matches, newest first.",
        "SELECT id, title FROM tasks WHERE organization_id = %(organization_id)s"
        " AND id = ANY (ARRAY(SELECT search_tenant_text('tasks.description',"
        " websearch_to_tsquery('english'::regconfig, %(q)s), %(before)s, 50)))"
        " ORDER BY id DESC LIMIT 50",
        "idx_tasks_tenant_fts",
        _page(q="amended return"),
    ),
    CatalogQuery(
        "notes.content_search",
        "Notes whose content matches (note search), newest first.",
        "SELECT id, title FROM notes WHERE organization_id = %(organization_id)s"
        " AND id = ANY (ARRAY(SELECT search_tenant_text('notes.content',"
        " websearch_to_tsquery('english'::regconfig, %(q)s), %(before)s, 50)))"
        " ORDER BY id DESC LIMIT 50",
        "idx_notes_tenant_fts",
        _page(q="penalty abatement"),
    ),
    CatalogQuery(
        "advisors.bio_search",
        "Advisor profiles whose bio matches (advisor discovery), newest first.",
        "SELECT id, user_id FROM advisor_profiles WHERE organization_id = %(organization_id)s"
        " AND id = ANY (ARRAY(SELECT search_tenant_text('advisor_profiles.bio',"
        " websearch_to_tsquery('english'::regconfig, %(q)s), %(before)s, 50)))"
        " ORDER BY id DESC LIMIT 50",
        "idx_advisor_profiles_tenant_fts",
        _page(q="cryptocurrency"),
    ),
    CatalogQuery(
        "engagements.name_search",
        "Engagements whose name matches (engagement search), newest first.",
        "SELECT id, name FROM engagements WHERE organization_id = %(organization_id)s"
        " AND id = ANY (ARRAY(SELECT search_tenant_text('engagements.name',"
        " websearch_to_tsquery('english'::regconfig, %(q)s), %(before)s, 50)))"
        " ORDER BY id DESC LIMIT 50",
        "idx_engagements_tenant_fts",
        _page(q="zephyr"),
    ),
    CatalogQuery(
        "document_comments.content_search",
        "Document comments that match (review discussion search), newest first.",
        "SELECT id, document_id FROM document_comments WHERE organization_id = %(organization_id)s"
        " AND id = ANY (ARRAY(SELECT search_tenant_text('document_comments.content',"
        " websearch_to_tsquery('english'::regconfig, %(q)s), %(before)s, 50)))"
        " ORDER BY id DESC LIMIT 50",
        "idx_document_comments_tenant_fts",
        _page(q="missing signature"),
    ),
    CatalogQuery(
        "engagements.description_search",
        "Engagements whose scope description matches (find past work of a kind), newest first.",
        "SELECT id, name FROM engagements WHERE organization_id = %(organization_id)s"
        " AND id = ANY (ARRAY(SELECT search_tenant_text('engagements.description',"
        " websearch_to_tsquery('english'::regconfig, %(q)s), %(before)s, 50)))"
        " ORDER BY id DESC LIMIT 50",
        "idx_engagements_tenant_fts",
        _page(q="cost segregation"),
    ),
    # -- covering (answered from the index alone once the table is vacuumed)
    CatalogQuery(
        "documents.list",
        "The document list page, newest first.",
        "SELECT id, client_id, file_name, category, status, created_at FROM documents"
        " WHERE organization_id = %(organization_id)s AND deleted_at IS NULL"
        " ORDER BY created_at DESC LIMIT 50",
        "idx_documents_list_covering",
        _org,
    ),
    CatalogQuery(
        "tasks.dashboard",
        "A user's open tasks by due date (task dashboard).",
        "SELECT id, title, status, priority, due_date FROM tasks"
        " WHERE organization_id = %(organization_id)s AND assignee_id = %(user_id)s"
        " AND deleted_at IS NULL AND status NOT IN ('completed', 'cancelled')"
        " ORDER BY due_date LIMIT 20",
        "idx_tasks_dashboard_covering",
        lambda s: {"organization_id": s.organization_id, "user_id": s.user_id},
    ),
    CatalogQuery(
        "invoices.ar_aging",
        "Accounts-receivable aging per client in 30-day buckets.",
        "SELECT client_id,"
        " sum(amount - amount_paid) FILTER (WHERE due_date >= CURRENT_DATE) AS current,"
        " sum(amount - amount_paid) FILTER (WHERE due_date < CURRENT_DATE"
        " AND due_date >= CURRENT_DATE - 30) AS days_1_30,"
        " sum(amount - amount_paid) FILTER (WHERE due_date < CURRENT_DATE - 30"
        " AND due_date >= CURRENT_DATE - 60) AS days_31_60,"
        " sum(amount - amount_paid) FILTER (WHERE due_date < CURRENT_DATE - 60"
        " AND due_date >= CURRENT_DATE - 90) AS days_61_90,"
        " sum(amount - amount_paid) FILTER (WHERE due_date < CURRENT_DATE - 90) AS over_90"
        " FROM invoices WHERE organization_id = %(organization_id)s"
        " AND status IN ('sent', 'viewed', 'partial', 'overdue') AND deleted_at IS NULL"
        " GROUP BY client_id ORDER BY client_id",
        "idx_invoices_ar_covering",
        _org,
    ),
    # -- unique partial
    CatalogQuery(
        "subscriptions.active",
        "The organization's live subscription (feature gating on every request).",
        "SELECT id, plan_name, status, seats, current_period_end FROM subscriptions"
        " WHERE organization_id = %(organization_id)s"
        " AND status IN ('trialing', 'active', 'past_due')",
        "idx_subscriptions_active_unique",
        _org,
    ),
    CatalogQuery(
        "document_sessions.active_on_document",
        "Who is editing a document right now (live collaboration).",
        "SELECT user_id, cursor_position, last_seen_at FROM document_sessions"
        " WHERE organization_id = %(organization_id)s AND document_id = %(document_id)s"
        " AND ended_at IS NULL",
        "idx_document_sessions_unique",
        lambda s: {"organization_id": s.organization_id, "document_id": s.document_id},
    ),
)  # fmt: skip


class UnknownQuery(AdvisorOSError, KeyError):
    """A catalog query name that does not exist."""


def get(name: str) -> CatalogQuery:
    """The catalog query called `name`."""
    for query in QUERIES:
        if query.name == name:
            return query
    known = ", ".join(q.name for q in QUERIES)
    raise UnknownQuery(f"no catalog query {name!r}; known queries: {known}")


def for_index(index: str) -> Iterator[CatalogQuery]:
    """The catalog queries that rely on `index`."""
    return (q for q in QUERIES if q.index == index)


# Picks, in the busiest organization, the rows with the most dependants, so every query has work.
_SAMPLE_SQL: LiteralString = """
WITH org AS (
    SELECT organization_id FROM documents GROUP BY organization_id ORDER BY count(*) DESC LIMIT 1
)
SELECT
    org.organization_id,
    (SELECT client_id FROM documents d WHERE d.organization_id = org.organization_id
     GROUP BY client_id ORDER BY count(*) DESC LIMIT 1),
    (SELECT assignee_id FROM tasks t WHERE t.organization_id = org.organization_id
     AND assignee_id IS NOT NULL GROUP BY assignee_id ORDER BY count(*) DESC LIMIT 1),
    (SELECT engagement_id FROM tasks t WHERE t.organization_id = org.organization_id
     GROUP BY engagement_id ORDER BY count(*) DESC LIMIT 1),
    (SELECT document_id FROM document_sessions s WHERE s.organization_id = org.organization_id
     GROUP BY document_id ORDER BY count(*) DESC LIMIT 1),
    (SELECT entity_type FROM audit_logs a WHERE a.organization_id = org.organization_id
     AND entity_id IS NOT NULL GROUP BY entity_type, entity_id ORDER BY count(*) DESC LIMIT 1),
    (SELECT entity_id FROM audit_logs a WHERE a.organization_id = org.organization_id
     AND entity_id IS NOT NULL GROUP BY entity_type, entity_id ORDER BY count(*) DESC LIMIT 1),
    (SELECT queue FROM job_executions GROUP BY queue ORDER BY count(*) DESC LIMIT 1)
FROM org
"""


class EmptyDatabase(AdvisorOSError):
    """The database has too little data to draw a sample from."""


def sample(conn: psycopg.Connection[Any]) -> Sample:
    """Draw ids from a populated database (run as a role that sees every tenant)."""
    row = conn.execute(_SAMPLE_SQL).fetchone()
    if row is None or any(value is None for value in row):
        raise EmptyDatabase(
            "cannot sample the catalog's parameters: documents, tasks, document_sessions, "
            "audit_logs or job_executions are empty; seed the database first "
            "(for example with the benchmark's data generator)"
        )
    return Sample(*row)
