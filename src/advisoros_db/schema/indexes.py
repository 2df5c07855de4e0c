"""The performance indexes of revision 0003, declared on the model tables so Alembic compares them:
each carries its kind in `Index.info["kind"]`, and each answers a query of `schema.catalog`."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import Index, Table, func, text
from sqlalchemy.sql.elements import ColumnElement

# Imported for their side effect: the tables these indexes sit on join Base.metadata.
from advisoros_db.schema import (  # noqa: F401
    audit,
    automation,
    billing,
    collaboration,
    documents,
    marketplace,
    platform_ops,
    reporting,
    tenants,
    workflow,
)
from advisoros_db.schema.base import Base


class IndexKind(StrEnum):
    """The report's six kinds of performance index."""

    COMPOSITE = "composite"
    PARTIAL = "partial"
    GIN = "gin"
    FULL_TEXT = "full_text"
    COVERING = "covering"
    UNIQUE_PARTIAL = "unique_partial"


# Statuses in which work is still open; the partial predicates below and the catalog queries must
# spell them identically, or the planner cannot prove the query implies the index predicate.
OPEN_TASK = "status NOT IN ('completed', 'cancelled') AND deleted_at IS NULL"
OPEN_INVOICE = "status IN ('sent', 'viewed', 'partial', 'overdue') AND deleted_at IS NULL"
ACTIVE_ENGAGEMENT = "status IN ('planning', 'in_progress', 'review') AND deleted_at IS NULL"
LIVE_SUBSCRIPTION = "status IN ('trialing', 'active', 'past_due')"


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _columns(table: Table, names: tuple[str, ...]) -> list[ColumnElement[object]]:
    out: list[ColumnElement[object]] = []
    for name in names:
        column, _, order = name.partition(" ")
        element: ColumnElement[object] = table.c[column]
        out.append(element.desc() if order.lower() == "desc" else element)
    return out


def _index(
    kind: IndexKind,
    name: str,
    table: str,
    *columns: str,
    where: str | None = None,
    include: tuple[str, ...] = (),
    unique: bool = False,
) -> Index:
    t = _table(table)
    kw: dict[str, Any] = {}
    if where is not None:
        kw["postgresql_where"] = text(where)
    if include:
        kw["postgresql_include"] = list(include)
    return Index(name, *_columns(t, columns), unique=unique, info={"kind": kind}, **kw)


def composite(name: str, table: str, *columns: str) -> Index:
    return _index(IndexKind.COMPOSITE, name, table, *columns)


def partial(name: str, table: str, *columns: str, where: str) -> Index:
    return _index(IndexKind.PARTIAL, name, table, *columns, where=where)


def covering(
    name: str, table: str, *columns: str, include: tuple[str, ...], where: str | None = None
) -> Index:
    return _index(IndexKind.COVERING, name, table, *columns, include=include, where=where)


def unique_partial(name: str, table: str, *columns: str, where: str) -> Index:
    return _index(IndexKind.UNIQUE_PARTIAL, name, table, *columns, where=where, unique=True)


def gin(name: str, table: str, column: str, *, ops: str | None = None) -> Index:
    """GIN on a jsonb (jsonb_path_ops: containment only, smaller) or text[] column, or trigrams."""
    kw: dict[str, Any] = {"postgresql_using": "gin"}
    if ops is not None:
        kw["postgresql_ops"] = {column: ops}
    return Index(name, _table(table).c[column], info={"kind": IndexKind.GIN}, **kw)


def full_text(name: str, table: str, column: str, *, config: str) -> Index:
    """GIN on to_tsvector(config, column); queries must repeat this exact expression.

    The configuration is a `::regconfig` literal so the two-argument, IMMUTABLE to_tsvector is the one
    indexed, and so the expression reads the same as PostgreSQL's own rendering for Alembic's compare.
    """
    vector = func.to_tsvector(text(f"'{config}'::regconfig"), _table(table).c[column])
    return Index(name, vector, postgresql_using="gin", info={"kind": IndexKind.FULL_TEXT})


JSONB_PATH = "jsonb_path_ops"

INDEXES: tuple[Index, ...] = (
    # Composite: tenant first (every query and every RLS policy filters on it), then equality
    # columns, then the range/sort column.
    composite("idx_documents_org_client_status", "documents", "organization_id", "client_id", "status"),
    composite("idx_documents_org_category_year", "documents", "organization_id", "category", "tax_year"),
    composite("idx_tasks_org_assignee_status", "tasks", "organization_id", "assignee_id", "status"),
    composite("idx_tasks_org_engagement_status", "tasks", "organization_id", "engagement_id", "status"),
    composite("idx_invoices_org_status_due", "invoices", "organization_id", "status", "due_date"),
    composite("idx_invoices_org_client_issue", "invoices", "organization_id", "client_id", "issue_date DESC"),
    composite("idx_clients_org_status_risk", "clients", "organization_id", "status", "risk_level"),
    composite("idx_engagements_org_status_due", "engagements", "organization_id", "status", "due_date"),
    composite("idx_engagements_org_assignee_status", "engagements", "organization_id", "assigned_to_id", "status"),
    composite("idx_audit_logs_entity_time", "audit_logs", "organization_id", "entity_type", "entity_id", "created_at DESC"),
    composite("idx_audit_logs_org_user_time", "audit_logs", "organization_id", "user_id", "created_at DESC"),
    composite("idx_notes_org_client_time", "notes", "organization_id", "client_id", "created_at DESC"),
    # Partial: only the rows a queue or widget ever reads, so the index stays small and hot.
    partial("idx_documents_needs_review", "documents", "organization_id", "created_at", where="needs_review AND deleted_at IS NULL"),
    partial("idx_documents_ocr_pending", "documents", "organization_id", "created_at", where="ocr_status = 'pending' AND deleted_at IS NULL"),
    partial("idx_tasks_overdue", "tasks", "organization_id", "due_date", where=OPEN_TASK),
    partial("idx_tasks_unassigned", "tasks", "organization_id", "created_at", where="assignee_id IS NULL AND " + OPEN_TASK),
    partial("idx_invoices_overdue", "invoices", "organization_id", "due_date", where=OPEN_INVOICE + " AND amount_paid < amount"),
    partial("idx_invoices_drafts", "invoices", "organization_id", "created_at", where="status = 'draft' AND deleted_at IS NULL"),
    partial("idx_engagements_active", "engagements", "organization_id", "due_date", where=ACTIVE_ENGAGEMENT),
    partial("idx_job_executions_failed", "job_executions", "queue", "created_at", where="status = 'failed'"),
    partial("idx_clients_active_name", "clients", "organization_id", "business_name", where="status = 'active' AND deleted_at IS NULL"),
    partial("idx_users_advisors", "users", "organization_id", "name", where="is_advisor AND is_active AND deleted_at IS NULL"),
    partial("idx_notes_reminders_due", "notes", "organization_id", "reminder_at", where="reminder_at IS NOT NULL AND deleted_at IS NULL"),
    partial("idx_reports_queued", "reports", "created_at", where="status = 'queued'"),
    partial("idx_report_schedules_due", "report_schedules", "next_run_at", where="is_active"),
    partial("idx_task_queue_items_ready", "task_queue_items", "queue", "priority DESC", "created_at", where="status = 'queued'"),
    # GIN: containment on jsonb (jsonb_path_ops) and membership on text[] for the worker's
    # all-tenant queries. Revision 0015 dropped the tenant tables' jsonb and text[] GIN indexes
    # (REPLACED_BY_PAGES): the application role could never use them under row-level security,
    # and their filters are keyset pages on (organization_id, id) now. Revision 0022 dropped the
    # trigram index on client names (REPLACED_BY_TENANT_SEARCH).
    gin("idx_report_schedules_recipients_gin", "report_schedules", "recipients"),
    gin("idx_job_executions_payload_gin", "job_executions", "payload", ops=JSONB_PATH),
    gin("idx_task_queue_items_payload_gin", "task_queue_items", "payload", ops=JSONB_PATH),
    # Full text: 'simple' for names (no stemming of proper nouns), 'english' for prose. Revision
    # 0021 dropped documents' two (REPLACED_BY_DOCUMENT_VECTOR); 0022 replaced the tenant
    # tables' per-column ones (REPLACED_BY_TENANT_SEARCH).
    # Covering: the list views read only the index (an index-only scan, no heap fetches).
    covering("idx_documents_list_covering", "documents", "organization_id", "created_at DESC", include=("id", "client_id", "file_name", "category", "status"), where="deleted_at IS NULL"),
    covering("idx_tasks_dashboard_covering", "tasks", "organization_id", "assignee_id", "due_date", include=("id", "title", "status", "priority"), where="deleted_at IS NULL"),
    covering("idx_invoices_ar_covering", "invoices", "organization_id", "client_id", include=("due_date", "amount", "amount_paid"), where=OPEN_INVOICE),
    # Unique partial: business rules the database enforces.
    unique_partial("idx_subscriptions_active_unique", "subscriptions", "organization_id", where=LIVE_SUBSCRIPTION),
    unique_partial("idx_document_sessions_unique", "document_sessions", "organization_id", "document_id", "user_id", where="ended_at IS NULL"),
)  # fmt: skip


# Revision 0003's indexes that revision 0015 dropped, and what serves their queries instead: the
# table's tenant key walked in id order, or (a firm's few advisor profiles) read whole and sorted.
REPLACED_BY_PAGES: dict[str, str] = {
    "idx_advisor_profiles_industries_gin": "uq_advisor_profiles_organization_id_user_id"
} | {
    name: "uq_" + table + "_organization_id_id"
    for name, table in (
        ("idx_documents_metadata_gin", "documents"),
        ("idx_documents_extracted_data_gin", "documents"),
        ("idx_documents_tags_gin", "documents"),
        ("idx_clients_custom_fields_gin", "clients"),
        ("idx_clients_financial_data_gin", "clients"),
        ("idx_clients_tags_gin", "clients"),
        ("idx_audit_logs_old_values_gin", "audit_logs"),
        ("idx_audit_logs_new_values_gin", "audit_logs"),
        ("idx_engagements_custom_fields_gin", "engagements"),
        ("idx_tasks_tags_gin", "tasks"),
        ("idx_notes_tags_gin", "notes"),
        ("idx_invoices_metadata_gin", "invoices"),
        ("idx_reports_parameters_gin", "reports"),
    )
}


# Revision 0003's document full-text indexes that revision 0021 dropped, and what serves their
# catalog queries instead: search_tenant_document_field on the tenant-keyed index of the stored
# document vector (the application role could never use these under row-level security).
REPLACED_BY_DOCUMENT_VECTOR: dict[str, str] = {
    "idx_documents_filename_fts": "idx_documents_tenant_fts",
    "idx_documents_description_fts": "idx_documents_tenant_fts",
}


# Revision 0003's trigram and per-column full-text indexes that revision 0022 dropped, and the
# tenant-keyed index (schema.search_indexes) its SECURITY DEFINER search functions use instead:
# under row-level security the application role could never use an index of all tenants.
REPLACED_BY_TENANT_SEARCH: dict[str, str] = {
    "idx_clients_business_name_trgm": "idx_clients_tenant_trgm",
    "idx_clients_business_name_fts": "idx_clients_tenant_fts",
    "idx_clients_legal_name_fts": "idx_clients_tenant_fts",
    "idx_tasks_title_fts": "idx_tasks_tenant_fts",
    "idx_tasks_description_fts": "idx_tasks_tenant_fts",
    "idx_notes_content_fts": "idx_notes_tenant_fts",
    "idx_advisor_profiles_bio_fts": "idx_advisor_profiles_tenant_fts",
    "idx_engagements_name_fts": "idx_engagements_tenant_fts",
    "idx_engagements_description_fts": "idx_engagements_tenant_fts",
    "idx_document_comments_content_fts": "idx_document_comments_tenant_fts",
}


def by_name() -> dict[str, Index]:
    """Every 0003 index by name."""
    return {index.name: index for index in INDEXES if index.name is not None}


def kind_of(index: Index) -> IndexKind:
    return IndexKind(index.info["kind"])
