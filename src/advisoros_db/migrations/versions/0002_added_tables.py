"""The six added tables: document processing, embeddings (pgvector), job executions, document
sessions, API usage metrics, webhook deliveries; with row-level security and grants.

Revision ID: 0002_added_tables
Revises: 0001_initial_schema
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import pgvector.sqlalchemy
import sqlalchemy as sa
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

from advisoros_db.migrations import op

revision: str = "0002_added_tables"
down_revision: str | None = "0001_initial_schema"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = (
    "job_executions",
    "webhook_deliveries",
    "api_usage_metrics",
    "document_embeddings",
    "document_processing",
    "document_sessions",
)


def upgrade() -> None:
    op.set_lock_timeout()
    op.create_table(
        "job_executions",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column("queue", sa.Text(), nullable=False),
        sa.Column("job_name", sa.Text(), nullable=False),
        sa.Column("job_key", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default="waiting", nullable=False),
        sa.Column("priority", sa.Integer(), server_default="0", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("max_attempts", sa.Integer(), server_default="3", nullable=False),
        sa.Column("progress", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column(
            "payload",
            postgresql.JSONB(astext_type=Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("result", postgresql.JSONB(astext_type=Text()), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("error_stack", sa.Text(), nullable=True),
        sa.Column("worker_id", sa.Text(), nullable=True),
        sa.Column(
            "queued_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("cpu_ms", sa.Integer(), nullable=True),
        sa.Column("memory_bytes", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('waiting', 'active', 'completed', 'failed', 'delayed', 'cancelled')",
            name=op.f("ck_job_executions_status"),
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_job_executions_attempts_non_negative")),
        sa.CheckConstraint(
            "max_attempts >= 0", name=op.f("ck_job_executions_max_attempts_non_negative")
        ),
        sa.CheckConstraint(
            "progress BETWEEN 0 AND 100", name=op.f("ck_job_executions_progress_range")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_job_executions_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_executions")),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_job_executions_organization_id_id")
        ),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("endpoint_url", sa.Text(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("signature_algorithm", sa.Text(), server_default="hmac-sha256", nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("attempt_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("max_attempts", sa.Integer(), server_default="8", nullable=False),
        sa.Column("backoff_base_s", sa.Integer(), server_default="30", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("response_status", sa.SmallInteger(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "attempts_log",
            postgresql.JSONB(astext_type=Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'delivering', 'delivered', 'failed', 'abandoned')",
            name=op.f("ck_webhook_deliveries_status"),
        ),
        sa.CheckConstraint(
            "attempt_count >= 0", name=op.f("ck_webhook_deliveries_attempt_count_non_negative")
        ),
        sa.CheckConstraint(
            "max_attempts >= 0", name=op.f("ck_webhook_deliveries_max_attempts_non_negative")
        ),
        sa.CheckConstraint(
            "response_status BETWEEN 100 AND 599",
            name=op.f("ck_webhook_deliveries_response_status_range"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_webhook_deliveries_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "organization_id",
            "event_id",
            "endpoint_url",
            name=op.f("uq_webhook_deliveries_organization_id_event_id_endpoint_url"),
        ),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_webhook_deliveries_organization_id_id")
        ),
    )
    op.create_table(
        "api_usage_metrics",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("api_key_id", sa.Uuid(), nullable=True),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=False),
        sa.Column("response_time_ms", sa.Integer(), nullable=False),
        sa.Column("request_bytes", sa.Integer(), nullable=True),
        sa.Column("response_bytes", sa.Integer(), nullable=True),
        sa.Column("db_query_count", sa.Integer(), nullable=True),
        sa.Column("db_time_ms", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("cache_hits", sa.Integer(), nullable=True),
        sa.Column("cache_misses", sa.Integer(), nullable=True),
        sa.Column("rate_limit_key", sa.Text(), nullable=True),
        sa.Column("rate_limit_remaining", sa.Integer(), nullable=True),
        sa.Column("rate_limited", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("ip_address", postgresql.INET(), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "method IN ('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS')",
            name=op.f("ck_api_usage_metrics_method"),
        ),
        sa.CheckConstraint(
            "response_time_ms >= 0", name=op.f("ck_api_usage_metrics_response_time_ms_non_negative")
        ),
        sa.CheckConstraint(
            "status_code BETWEEN 100 AND 599", name=op.f("ck_api_usage_metrics_status_code_range")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "api_key_id"],
            ["api_keys.organization_id", "api_keys.id"],
            name=op.f("fk_api_usage_metrics_organization_id_api_key_id_api_keys"),
            ondelete="SET NULL (api_key_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "user_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_api_usage_metrics_organization_id_user_id_users"),
            ondelete="SET NULL (user_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_api_usage_metrics_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_usage_metrics")),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_api_usage_metrics_organization_id_id")
        ),
    )
    op.create_index(
        op.f("ix_api_usage_metrics_organization_id_api_key_id"),
        "api_usage_metrics",
        ["organization_id", "api_key_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_api_usage_metrics_organization_id_user_id"),
        "api_usage_metrics",
        ["organization_id", "user_id"],
        unique=False,
    )
    op.create_table(
        "document_embeddings",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("chunk_index", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.Text(), nullable=False),
        sa.Column("embedding", pgvector.sqlalchemy.vector.VECTOR(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("dimensions", sa.Integer(), nullable=False),
        sa.Column("token_count", sa.Integer(), nullable=True),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "chunk_index >= 0", name=op.f("ck_document_embeddings_chunk_index_non_negative")
        ),
        sa.CheckConstraint(
            "token_count >= 0", name=op.f("ck_document_embeddings_token_count_non_negative")
        ),
        sa.CheckConstraint(
            "vector_dims(embedding) = dimensions",
            name=op.f("ck_document_embeddings_dimensions_match"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "document_id"],
            ["documents.organization_id", "documents.id"],
            name=op.f("fk_document_embeddings_organization_id_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_document_embeddings_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_embeddings")),
        sa.UniqueConstraint(
            "organization_id",
            "document_id",
            "model",
            "chunk_index",
            name=op.f("uq_document_embeddings_organization_id_document_id_model_chunk_index"),
        ),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_document_embeddings_organization_id_id")
        ),
    )
    op.create_table(
        "document_processing",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.Text(), server_default="queued", nullable=False),
        sa.Column("ocr_provider", sa.Text(), nullable=True),
        sa.Column("ocr_confidence", sa.Float(), nullable=True),
        sa.Column("classification", sa.Text(), nullable=True),
        sa.Column("classification_confidence", sa.Float(), nullable=True),
        sa.Column("extracted_fields", postgresql.JSONB(astext_type=Text()), nullable=True),
        sa.Column("retry_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("max_retries", sa.Integer(), server_default="3", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("error_details", postgresql.JSONB(astext_type=Text()), nullable=True),
        sa.Column(
            "queued_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("processing_ms", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')",
            name=op.f("ck_document_processing_status"),
        ),
        sa.CheckConstraint(
            "classification_confidence BETWEEN 0 AND 1",
            name=op.f("ck_document_processing_classification_confidence_range"),
        ),
        sa.CheckConstraint(
            "max_retries >= 0", name=op.f("ck_document_processing_max_retries_non_negative")
        ),
        sa.CheckConstraint(
            "ocr_confidence BETWEEN 0 AND 1",
            name=op.f("ck_document_processing_ocr_confidence_range"),
        ),
        sa.CheckConstraint(
            "retry_count >= 0", name=op.f("ck_document_processing_retry_count_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "document_id"],
            ["documents.organization_id", "documents.id"],
            name=op.f("fk_document_processing_organization_id_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_document_processing_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_processing")),
        sa.UniqueConstraint(
            "organization_id",
            "document_id",
            name=op.f("uq_document_processing_organization_id_document_id"),
        ),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_document_processing_organization_id_id")
        ),
    )
    op.create_table(
        "document_sessions",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("session_token", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="active", nullable=False),
        sa.Column("socket_id", sa.Text(), nullable=True),
        sa.Column("cursor_position", postgresql.JSONB(astext_type=Text()), nullable=True),
        sa.Column("tool_state", postgresql.JSONB(astext_type=Text()), nullable=True),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_seen_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('active', 'idle', 'ended')", name=op.f("ck_document_sessions_status")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "document_id"],
            ["documents.organization_id", "documents.id"],
            name=op.f("fk_document_sessions_organization_id_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "user_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_document_sessions_organization_id_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_document_sessions_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_sessions")),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_document_sessions_organization_id_id")
        ),
    )
    op.create_index(
        op.f("ix_document_sessions_organization_id_document_id"),
        "document_sessions",
        ["organization_id", "document_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_document_sessions_organization_id_user_id"),
        "document_sessions",
        ["organization_id", "user_id"],
        unique=False,
    )

    for table in TENANT_TABLES:
        op.enable_tenant_isolation(table)
        op.grant_app(table)


def downgrade() -> None:
    op.set_lock_timeout()
    for table in TENANT_TABLES:
        op.revoke_app(table)
    op.drop_index(
        op.f("ix_document_sessions_organization_id_user_id"), table_name="document_sessions"
    )
    op.drop_index(
        op.f("ix_document_sessions_organization_id_document_id"), table_name="document_sessions"
    )
    op.drop_table("document_sessions")
    op.drop_table("document_processing")
    op.drop_table("document_embeddings")
    op.drop_index(
        op.f("ix_api_usage_metrics_organization_id_user_id"), table_name="api_usage_metrics"
    )
    op.drop_index(
        op.f("ix_api_usage_metrics_organization_id_api_key_id"), table_name="api_usage_metrics"
    )
    op.drop_table("api_usage_metrics")
    op.drop_table("webhook_deliveries")
    op.drop_table("job_executions")
