"""Performance indexes: 12 composite, 14 partial, 18 GIN, 11 full-text, 3 covering and 2 unique
partial, each built CONCURRENTLY outside a transaction under a lock_timeout, with any INVALID
leftover of an earlier failed build dropped first. Each index answers a query of schema.catalog.

Revision ID: 0003_performance_indexes
Revises: 0002_added_tables
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from advisoros_db.migrations import op

revision: str = "0003_performance_indexes"
down_revision: str | None = "0002_added_tables"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX_NAMES = (
    "idx_documents_org_client_status",
    "idx_documents_org_category_year",
    "idx_tasks_org_assignee_status",
    "idx_tasks_org_engagement_status",
    "idx_invoices_org_status_due",
    "idx_invoices_org_client_issue",
    "idx_clients_org_status_risk",
    "idx_engagements_org_status_due",
    "idx_engagements_org_assignee_status",
    "idx_audit_logs_entity_time",
    "idx_audit_logs_org_user_time",
    "idx_notes_org_client_time",
    "idx_documents_needs_review",
    "idx_documents_ocr_pending",
    "idx_tasks_overdue",
    "idx_tasks_unassigned",
    "idx_invoices_overdue",
    "idx_invoices_drafts",
    "idx_engagements_active",
    "idx_job_executions_failed",
    "idx_clients_active_name",
    "idx_users_advisors",
    "idx_notes_reminders_due",
    "idx_reports_queued",
    "idx_report_schedules_due",
    "idx_task_queue_items_ready",
    "idx_documents_metadata_gin",
    "idx_documents_extracted_data_gin",
    "idx_documents_tags_gin",
    "idx_clients_custom_fields_gin",
    "idx_clients_financial_data_gin",
    "idx_clients_tags_gin",
    "idx_clients_business_name_trgm",
    "idx_audit_logs_old_values_gin",
    "idx_audit_logs_new_values_gin",
    "idx_advisor_profiles_industries_gin",
    "idx_engagements_custom_fields_gin",
    "idx_tasks_tags_gin",
    "idx_notes_tags_gin",
    "idx_invoices_metadata_gin",
    "idx_reports_parameters_gin",
    "idx_report_schedules_recipients_gin",
    "idx_job_executions_payload_gin",
    "idx_task_queue_items_payload_gin",
    "idx_documents_filename_fts",
    "idx_documents_description_fts",
    "idx_clients_business_name_fts",
    "idx_clients_legal_name_fts",
    "idx_tasks_title_fts",
    "idx_tasks_description_fts",
    "idx_notes_content_fts",
    "idx_advisor_profiles_bio_fts",
    "idx_engagements_name_fts",
    "idx_document_comments_content_fts",
    "idx_engagements_description_fts",
    "idx_documents_list_covering",
    "idx_tasks_dashboard_covering",
    "idx_invoices_ar_covering",
    "idx_subscriptions_active_unique",
    "idx_document_sessions_unique",
)


def upgrade() -> None:
    # For the revision's own transaction; each build sets its own around its autocommit block.
    op.set_lock_timeout()
    # Composite: tenant first, then equality columns, then the range or sort column.
    op.create_index_safely(
        "idx_documents_org_client_status", "documents", ["organization_id", "client_id", "status"]
    )
    op.create_index_safely(
        "idx_documents_org_category_year", "documents", ["organization_id", "category", "tax_year"]
    )
    op.create_index_safely(
        "idx_tasks_org_assignee_status", "tasks", ["organization_id", "assignee_id", "status"]
    )
    op.create_index_safely(
        "idx_tasks_org_engagement_status", "tasks", ["organization_id", "engagement_id", "status"]
    )
    op.create_index_safely(
        "idx_invoices_org_status_due", "invoices", ["organization_id", "status", "due_date"]
    )
    op.create_index_safely(
        "idx_invoices_org_client_issue",
        "invoices",
        ["organization_id", "client_id", sa.text("issue_date DESC")],
    )
    op.create_index_safely(
        "idx_clients_org_status_risk", "clients", ["organization_id", "status", "risk_level"]
    )
    op.create_index_safely(
        "idx_engagements_org_status_due", "engagements", ["organization_id", "status", "due_date"]
    )
    op.create_index_safely(
        "idx_engagements_org_assignee_status",
        "engagements",
        ["organization_id", "assigned_to_id", "status"],
    )
    op.create_index_safely(
        "idx_audit_logs_entity_time",
        "audit_logs",
        ["organization_id", "entity_type", "entity_id", sa.text("created_at DESC")],
    )
    op.create_index_safely(
        "idx_audit_logs_org_user_time",
        "audit_logs",
        ["organization_id", "user_id", sa.text("created_at DESC")],
    )
    op.create_index_safely(
        "idx_notes_org_client_time",
        "notes",
        ["organization_id", "client_id", sa.text("created_at DESC")],
    )

    # Partial: only the rows a queue or a widget reads.
    op.create_index_safely(
        "idx_documents_needs_review",
        "documents",
        ["organization_id", "created_at"],
        where="needs_review AND deleted_at IS NULL",
    )
    op.create_index_safely(
        "idx_documents_ocr_pending",
        "documents",
        ["organization_id", "created_at"],
        where="ocr_status = 'pending' AND deleted_at IS NULL",
    )
    op.create_index_safely(
        "idx_tasks_overdue",
        "tasks",
        ["organization_id", "due_date"],
        where="status NOT IN ('completed', 'cancelled') AND deleted_at IS NULL",
    )
    op.create_index_safely(
        "idx_tasks_unassigned",
        "tasks",
        ["organization_id", "created_at"],
        where="assignee_id IS NULL AND status NOT IN ('completed', 'cancelled') AND deleted_at IS NULL",
    )
    op.create_index_safely(
        "idx_invoices_overdue",
        "invoices",
        ["organization_id", "due_date"],
        where="status IN ('sent', 'viewed', 'partial', 'overdue') AND deleted_at IS NULL AND amount_paid < amount",
    )
    op.create_index_safely(
        "idx_invoices_drafts",
        "invoices",
        ["organization_id", "created_at"],
        where="status = 'draft' AND deleted_at IS NULL",
    )
    op.create_index_safely(
        "idx_engagements_active",
        "engagements",
        ["organization_id", "due_date"],
        where="status IN ('planning', 'in_progress', 'review') AND deleted_at IS NULL",
    )
    op.create_index_safely(
        "idx_job_executions_failed",
        "job_executions",
        ["queue", "created_at"],
        where="status = 'failed'",
    )
    op.create_index_safely(
        "idx_clients_active_name",
        "clients",
        ["organization_id", "business_name"],
        where="status = 'active' AND deleted_at IS NULL",
    )
    op.create_index_safely(
        "idx_users_advisors",
        "users",
        ["organization_id", "name"],
        where="is_advisor AND is_active AND deleted_at IS NULL",
    )
    op.create_index_safely(
        "idx_notes_reminders_due",
        "notes",
        ["organization_id", "reminder_at"],
        where="reminder_at IS NOT NULL AND deleted_at IS NULL",
    )
    op.create_index_safely(
        "idx_reports_queued", "reports", ["created_at"], where="status = 'queued'"
    )
    op.create_index_safely(
        "idx_report_schedules_due", "report_schedules", ["next_run_at"], where="is_active"
    )
    op.create_index_safely(
        "idx_task_queue_items_ready",
        "task_queue_items",
        ["queue", sa.text("priority DESC"), "created_at"],
        where="status = 'queued'",
    )

    # GIN: jsonb containment (jsonb_path_ops), text[] membership, trigrams.
    op.create_index_safely(
        "idx_documents_metadata_gin",
        "documents",
        ["metadata"],
        using="gin",
        ops={"metadata": "jsonb_path_ops"},
    )
    op.create_index_safely(
        "idx_documents_extracted_data_gin",
        "documents",
        ["extracted_data"],
        using="gin",
        ops={"extracted_data": "jsonb_path_ops"},
    )
    op.create_index_safely("idx_documents_tags_gin", "documents", ["tags"], using="gin")
    op.create_index_safely(
        "idx_clients_custom_fields_gin",
        "clients",
        ["custom_fields"],
        using="gin",
        ops={"custom_fields": "jsonb_path_ops"},
    )
    op.create_index_safely(
        "idx_clients_financial_data_gin",
        "clients",
        ["financial_data"],
        using="gin",
        ops={"financial_data": "jsonb_path_ops"},
    )
    op.create_index_safely("idx_clients_tags_gin", "clients", ["tags"], using="gin")
    op.create_index_safely(
        "idx_clients_business_name_trgm",
        "clients",
        ["business_name"],
        using="gin",
        ops={"business_name": "gin_trgm_ops"},
    )
    op.create_index_safely(
        "idx_audit_logs_old_values_gin",
        "audit_logs",
        ["old_values"],
        using="gin",
        ops={"old_values": "jsonb_path_ops"},
    )
    op.create_index_safely(
        "idx_audit_logs_new_values_gin",
        "audit_logs",
        ["new_values"],
        using="gin",
        ops={"new_values": "jsonb_path_ops"},
    )
    op.create_index_safely(
        "idx_advisor_profiles_industries_gin", "advisor_profiles", ["industries"], using="gin"
    )
    op.create_index_safely(
        "idx_engagements_custom_fields_gin",
        "engagements",
        ["custom_fields"],
        using="gin",
        ops={"custom_fields": "jsonb_path_ops"},
    )
    op.create_index_safely("idx_tasks_tags_gin", "tasks", ["tags"], using="gin")
    op.create_index_safely("idx_notes_tags_gin", "notes", ["tags"], using="gin")
    op.create_index_safely(
        "idx_invoices_metadata_gin",
        "invoices",
        ["metadata"],
        using="gin",
        ops={"metadata": "jsonb_path_ops"},
    )
    op.create_index_safely(
        "idx_reports_parameters_gin",
        "reports",
        ["parameters"],
        using="gin",
        ops={"parameters": "jsonb_path_ops"},
    )
    op.create_index_safely(
        "idx_report_schedules_recipients_gin", "report_schedules", ["recipients"], using="gin"
    )
    op.create_index_safely(
        "idx_job_executions_payload_gin",
        "job_executions",
        ["payload"],
        using="gin",
        ops={"payload": "jsonb_path_ops"},
    )
    op.create_index_safely(
        "idx_task_queue_items_payload_gin",
        "task_queue_items",
        ["payload"],
        using="gin",
        ops={"payload": "jsonb_path_ops"},
    )

    # Full text: 'simple' for names, 'english' for prose.
    op.create_index_safely(
        "idx_documents_filename_fts",
        "documents",
        [sa.text("to_tsvector('simple'::regconfig, file_name)")],
        using="gin",
    )
    op.create_index_safely(
        "idx_documents_description_fts",
        "documents",
        [sa.text("to_tsvector('english'::regconfig, description)")],
        using="gin",
    )
    op.create_index_safely(
        "idx_clients_business_name_fts",
        "clients",
        [sa.text("to_tsvector('simple'::regconfig, business_name)")],
        using="gin",
    )
    op.create_index_safely(
        "idx_clients_legal_name_fts",
        "clients",
        [sa.text("to_tsvector('simple'::regconfig, legal_name)")],
        using="gin",
    )
    op.create_index_safely(
        "idx_tasks_title_fts",
        "tasks",
        [sa.text("to_tsvector('english'::regconfig, title)")],
        using="gin",
    )
    op.create_index_safely(
        "idx_tasks_description_fts",
        "tasks",
        [sa.text("to_tsvector('english'::regconfig, description)")],
        using="gin",
    )
    op.create_index_safely(
        "idx_notes_content_fts",
        "notes",
        [sa.text("to_tsvector('english'::regconfig, content)")],
        using="gin",
    )
    op.create_index_safely(
        "idx_advisor_profiles_bio_fts",
        "advisor_profiles",
        [sa.text("to_tsvector('english'::regconfig, bio)")],
        using="gin",
    )
    op.create_index_safely(
        "idx_engagements_name_fts",
        "engagements",
        [sa.text("to_tsvector('english'::regconfig, name)")],
        using="gin",
    )
    op.create_index_safely(
        "idx_document_comments_content_fts",
        "document_comments",
        [sa.text("to_tsvector('english'::regconfig, content)")],
        using="gin",
    )
    op.create_index_safely(
        "idx_engagements_description_fts",
        "engagements",
        [sa.text("to_tsvector('english'::regconfig, description)")],
        using="gin",
    )

    # Covering: list views answered by index-only scans.
    op.create_index_safely(
        "idx_documents_list_covering",
        "documents",
        ["organization_id", sa.text("created_at DESC")],
        where="deleted_at IS NULL",
        include=("id", "client_id", "file_name", "category", "status"),
    )
    op.create_index_safely(
        "idx_tasks_dashboard_covering",
        "tasks",
        ["organization_id", "assignee_id", "due_date"],
        where="deleted_at IS NULL",
        include=("id", "title", "status", "priority"),
    )
    op.create_index_safely(
        "idx_invoices_ar_covering",
        "invoices",
        ["organization_id", "client_id"],
        where="status IN ('sent', 'viewed', 'partial', 'overdue') AND deleted_at IS NULL",
        include=("due_date", "amount", "amount_paid"),
    )

    # Unique partial: business rules the database enforces.
    op.create_index_safely(
        "idx_subscriptions_active_unique",
        "subscriptions",
        ["organization_id"],
        unique=True,
        where="status IN ('trialing', 'active', 'past_due')",
    )
    op.create_index_safely(
        "idx_document_sessions_unique",
        "document_sessions",
        ["organization_id", "document_id", "user_id"],
        unique=True,
        where="ended_at IS NULL",
    )


def downgrade() -> None:
    op.set_lock_timeout()
    for name in reversed(INDEX_NAMES):
        op.drop_index_safely(name)
