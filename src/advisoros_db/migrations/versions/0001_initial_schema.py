"""Initial schema: extensions, the 42 tables, row-level security, grants, append-only audit log.

Revision ID: 0001_initial_schema
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy import Integer, Text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import CITEXT

from advisoros_db.migrations import op

revision: str = "0001_initial_schema"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXTENSIONS = ("vector", "citext", "pg_trgm")

# Frozen here rather than read from the models: later revisions change the models, not this one.
TENANT_TABLES = (
    "audit_logs",
    "engagement_rate_cards",
    "quickbooks_webhook_events",
    "subscriptions",
    "users",
    "advisor_profiles",
    "api_keys",
    "auth_attempts",
    "auth_events",
    "clients",
    "quickbooks_syncs",
    "quickbooks_tokens",
    "report_templates",
    "team_members",
    "user_sessions",
    "workflow_templates",
    "workflows",
    "client_contacts",
    "client_portal_access",
    "documents",
    "engagements",
    "report_schedules",
    "service_offerings",
    "team_member_permissions",
    "advisor_marketplace_matches",
    "client_satisfaction_metrics",
    "document_annotations",
    "document_comments",
    "document_shares",
    "invoices",
    "reports",
    "tasks",
    "workflow_executions",
    "invoice_line_items",
    "notes",
    "payments",
    "revenue_shares",
    "task_executions",
    "time_entries",
    "task_queue_items",
)

# Rows are history: the application role may read and append, never change or remove.
APPEND_ONLY = ("audit_logs",)

READ_WRITE = tuple(t for t in TENANT_TABLES if t not in APPEND_ONLY)


def upgrade() -> None:
    op.set_lock_timeout()
    for extension in EXTENSIONS:
        op.execute(sa.text(f"CREATE EXTENSION IF NOT EXISTS {extension}"))
    op.ensure_app_role()
    op.create_table(
        "organizations",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("slug", sa.Text(), nullable=False),
        sa.Column("subscription_tier", sa.Text(), server_default="trial", nullable=False),
        sa.Column("stripe_customer_id", sa.Text(), nullable=True),
        sa.Column(
            "is_marketplace_enabled", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("marketplace_type", sa.Text(), nullable=True),
        sa.Column("commission_rate", sa.Numeric(precision=5, scale=4), nullable=True),
        sa.Column("parent_organization_id", sa.Uuid(), nullable=True),
        sa.Column("timezone", sa.Text(), server_default="UTC", nullable=False),
        sa.Column("default_currency", sa.String(length=3), server_default="USD", nullable=False),
        sa.Column(
            "settings",
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
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "default_currency ~ '^[A-Z]{3}$'",
            name=op.f("ck_organizations_default_currency_iso4217"),
        ),
        sa.CheckConstraint(
            "slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'", name=op.f("ck_organizations_slug_format")
        ),
        sa.CheckConstraint(
            "subscription_tier IN ('trial', 'starter', 'professional', 'enterprise')",
            name=op.f("ck_organizations_subscription_tier"),
        ),
        sa.CheckConstraint(
            "commission_rate BETWEEN 0 AND 1", name=op.f("ck_organizations_commission_rate_range")
        ),
        sa.ForeignKeyConstraint(
            ["parent_organization_id"],
            ["organizations.id"],
            name=op.f("fk_organizations_parent_organization_id_organizations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
        sa.UniqueConstraint("slug", name=op.f("uq_organizations_slug")),
    )
    op.create_index(
        op.f("ix_organizations_parent_organization_id"),
        "organizations",
        ["parent_organization_id"],
        unique=False,
    )
    op.create_table(
        "permissions",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), server_default="organization", nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
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
            "scope IN ('organization', 'client', 'engagement')", name=op.f("ck_permissions_scope")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permissions")),
        sa.UniqueConstraint("key", name=op.f("uq_permissions_key")),
    )
    op.create_table(
        "audit_logs",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("entity_type", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("old_values", postgresql.JSONB(astext_type=Text()), nullable=True),
        sa.Column("new_values", postgresql.JSONB(astext_type=Text()), nullable=True),
        sa.Column("metadata", postgresql.JSONB(astext_type=Text()), nullable=True),
        sa.Column("ip_address", postgresql.INET(), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("request_id", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "action IN ('create', 'update', 'delete', 'restore', 'view', 'export', 'login', 'logout', 'share', 'approve', 'reject')",
            name=op.f("ck_audit_logs_action"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_audit_logs_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_logs")),
        sa.UniqueConstraint("organization_id", "id", name=op.f("uq_audit_logs_organization_id_id")),
    )
    op.create_table(
        "engagement_rate_cards",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("service_type", sa.Text(), nullable=False),
        sa.Column("pricing_model", sa.Text(), nullable=False),
        sa.Column("hourly_rate", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("fixed_fee", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("monthly_retainer", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("currency", sa.String(length=3), server_default="USD", nullable=False),
        sa.Column(
            "effective_from", sa.Date(), server_default=sa.text("CURRENT_DATE"), nullable=False
        ),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "terms",
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
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "currency ~ '^[A-Z]{3}$'", name=op.f("ck_engagement_rate_cards_currency_iso4217")
        ),
        sa.CheckConstraint(
            "pricing_model IN ('hourly', 'fixed', 'retainer', 'value_based')",
            name=op.f("ck_engagement_rate_cards_pricing_model"),
        ),
        sa.CheckConstraint(
            "effective_to IS NULL OR effective_to >= effective_from",
            name=op.f("ck_engagement_rate_cards_effective_dates"),
        ),
        sa.CheckConstraint(
            "fixed_fee >= 0", name=op.f("ck_engagement_rate_cards_fixed_fee_non_negative")
        ),
        sa.CheckConstraint(
            "hourly_rate >= 0", name=op.f("ck_engagement_rate_cards_hourly_rate_non_negative")
        ),
        sa.CheckConstraint(
            "monthly_retainer >= 0",
            name=op.f("ck_engagement_rate_cards_monthly_retainer_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_engagement_rate_cards_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engagement_rate_cards")),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_engagement_rate_cards_organization_id_id")
        ),
    )
    op.create_table(
        "quickbooks_webhook_events",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("realm_id", sa.Text(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("entity_name", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.Text(), nullable=False),
        sa.Column("operation", sa.Text(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("status", sa.Text(), server_default="received", nullable=False),
        sa.Column("retry_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
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
            "status IN ('received', 'processing', 'processed', 'failed', 'ignored')",
            name=op.f("ck_quickbooks_webhook_events_status"),
        ),
        sa.CheckConstraint(
            "retry_count >= 0", name=op.f("ck_quickbooks_webhook_events_retry_count_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_quickbooks_webhook_events_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quickbooks_webhook_events")),
        sa.UniqueConstraint(
            "organization_id",
            "event_id",
            name=op.f("uq_quickbooks_webhook_events_organization_id_event_id"),
        ),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_quickbooks_webhook_events_organization_id_id")
        ),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("plan_name", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="trialing", nullable=False),
        sa.Column("billing_interval", sa.Text(), server_default="month", nullable=False),
        sa.Column("price", sa.Numeric(precision=14, scale=4), server_default="0", nullable=False),
        sa.Column("currency", sa.String(length=3), server_default="USD", nullable=False),
        sa.Column("seats", sa.Integer(), server_default="1", nullable=False),
        sa.Column("stripe_subscription_id", sa.Text(), nullable=True),
        sa.Column("current_period_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("current_period_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("trial_ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "cancel_at_period_end", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "features",
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
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "billing_interval IN ('month', 'year')", name=op.f("ck_subscriptions_billing_interval")
        ),
        sa.CheckConstraint(
            "currency ~ '^[A-Z]{3}$'", name=op.f("ck_subscriptions_currency_iso4217")
        ),
        sa.CheckConstraint(
            "status IN ('trialing', 'active', 'past_due', 'cancelled', 'unpaid')",
            name=op.f("ck_subscriptions_status"),
        ),
        sa.CheckConstraint("price >= 0", name=op.f("ck_subscriptions_price_non_negative")),
        sa.CheckConstraint("seats >= 0", name=op.f("ck_subscriptions_seats_non_negative")),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_subscriptions_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_subscriptions_organization_id_id")
        ),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("email", postgresql.CITEXT(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("role", sa.Text(), server_default="staff", nullable=False),
        sa.Column("is_advisor", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_client_user", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("mfa_enabled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('owner', 'admin', 'cpa', 'staff', 'fractional_cfo', 'controller', 'senior_advisor', 'staff_accountant', 'bookkeeper', 'client_owner', 'client_finance', 'quality_reviewer', 'compliance_officer')",
            name=op.f("ck_users_role"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_users_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint(
            "organization_id", "email", name=op.f("uq_users_organization_id_email")
        ),
        sa.UniqueConstraint("organization_id", "id", name=op.f("uq_users_organization_id_id")),
    )
    op.create_table(
        "advisor_profiles",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("headline", sa.Text(), nullable=True),
        sa.Column("bio", sa.Text(), nullable=True),
        sa.Column(
            "industries",
            postgresql.ARRAY(Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column(
            "specializations",
            postgresql.ARRAY(Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column(
            "certifications",
            postgresql.ARRAY(Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("years_experience", sa.SmallInteger(), nullable=True),
        sa.Column("hourly_rate", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("currency", sa.String(length=3), server_default="USD", nullable=False),
        sa.Column("availability", sa.Text(), server_default="available", nullable=False),
        sa.Column("max_clients", sa.Integer(), nullable=True),
        sa.Column("rating", sa.Numeric(precision=3, scale=2), nullable=True),
        sa.Column("review_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("is_listed", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_verified", sa.Boolean(), server_default=sa.text("false"), nullable=False),
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
            "availability IN ('available', 'limited', 'unavailable')",
            name=op.f("ck_advisor_profiles_availability"),
        ),
        sa.CheckConstraint(
            "currency ~ '^[A-Z]{3}$'", name=op.f("ck_advisor_profiles_currency_iso4217")
        ),
        sa.CheckConstraint(
            "hourly_rate >= 0", name=op.f("ck_advisor_profiles_hourly_rate_non_negative")
        ),
        sa.CheckConstraint("rating BETWEEN 0 AND 5", name=op.f("ck_advisor_profiles_rating_range")),
        sa.CheckConstraint(
            "years_experience >= 0", name=op.f("ck_advisor_profiles_years_experience_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "user_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_advisor_profiles_organization_id_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_advisor_profiles_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisor_profiles")),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_advisor_profiles_organization_id_id")
        ),
        sa.UniqueConstraint(
            "organization_id", "user_id", name=op.f("uq_advisor_profiles_organization_id_user_id")
        ),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("key_prefix", sa.Text(), nullable=False),
        sa.Column("key_hash", sa.Text(), nullable=False),
        sa.Column(
            "scopes",
            postgresql.ARRAY(Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("rate_limit_per_minute", sa.Integer(), server_default="600", nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["organization_id", "created_by_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_api_keys_organization_id_created_by_id_users"),
            ondelete="SET NULL (created_by_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_api_keys_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("organization_id", "id", name=op.f("uq_api_keys_organization_id_id")),
        sa.UniqueConstraint(
            "organization_id", "key_hash", name=op.f("uq_api_keys_organization_id_key_hash")
        ),
    )
    op.create_index(
        op.f("ix_api_keys_organization_id_created_by_id"),
        "api_keys",
        ["organization_id", "created_by_id"],
        unique=False,
    )
    op.create_table(
        "auth_attempts",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("email", postgresql.CITEXT(), nullable=False),
        sa.Column("method", sa.Text(), server_default="password", nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("ip_address", postgresql.INET(), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "method IN ('password', 'sso', 'magic_link', 'mfa', 'api_key')",
            name=op.f("ck_auth_attempts_method"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "user_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_auth_attempts_organization_id_user_id_users"),
            ondelete="SET NULL (user_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_auth_attempts_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_attempts")),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_auth_attempts_organization_id_id")
        ),
    )
    op.create_index(
        op.f("ix_auth_attempts_organization_id_user_id"),
        "auth_attempts",
        ["organization_id", "user_id"],
        unique=False,
    )
    op.create_table(
        "auth_events",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("severity", sa.Text(), server_default="info", nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("ip_address", postgresql.INET(), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
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
            "event_type IN ('login', 'logout', 'password_change', 'password_reset', 'mfa_enabled', 'mfa_disabled', 'account_locked', 'account_unlocked', 'role_changed', 'suspicious_activity')",
            name=op.f("ck_auth_events_event_type"),
        ),
        sa.CheckConstraint(
            "severity IN ('info', 'warning', 'critical')", name=op.f("ck_auth_events_severity")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "user_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_auth_events_organization_id_user_id_users"),
            ondelete="SET NULL (user_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_auth_events_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_events")),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_auth_events_organization_id_id")
        ),
    )
    op.create_index(
        op.f("ix_auth_events_organization_id_user_id"),
        "auth_events",
        ["organization_id", "user_id"],
        unique=False,
    )
    op.create_table(
        "clients",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("business_name", sa.Text(), nullable=False),
        sa.Column("legal_name", sa.Text(), nullable=True),
        sa.Column("tax_id", sa.Text(), nullable=True),
        sa.Column("quickbooks_id", sa.Text(), nullable=True),
        sa.Column("primary_contact_email", postgresql.CITEXT(), nullable=True),
        sa.Column("primary_contact_name", sa.Text(), nullable=True),
        sa.Column("primary_contact_phone", sa.Text(), nullable=True),
        sa.Column("business_address", sa.Text(), nullable=True),
        sa.Column("mailing_address", sa.Text(), nullable=True),
        sa.Column("business_type", sa.Text(), nullable=True),
        sa.Column("industry", sa.Text(), nullable=True),
        sa.Column("website", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default="active", nullable=False),
        sa.Column("risk_level", sa.Text(), server_default="medium", nullable=False),
        sa.Column("annual_revenue", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("currency", sa.String(length=3), server_default="USD", nullable=False),
        sa.Column("fiscal_year_end_month", sa.SmallInteger(), server_default="12", nullable=False),
        sa.Column("assigned_partner_id", sa.Uuid(), nullable=True),
        sa.Column("financial_data", postgresql.JSONB(astext_type=Text()), nullable=True),
        sa.Column(
            "custom_fields",
            postgresql.JSONB(astext_type=Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "tags", postgresql.ARRAY(Text()), server_default=sa.text("'{}'::text[]"), nullable=False
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "business_type IN ('sole_proprietorship', 'partnership', 'llc', 's_corp', 'c_corp', 'nonprofit', 'trust', 'individual')",
            name=op.f("ck_clients_business_type"),
        ),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_clients_currency_iso4217")),
        sa.CheckConstraint(
            "risk_level IN ('low', 'medium', 'high')", name=op.f("ck_clients_risk_level")
        ),
        sa.CheckConstraint(
            "status IN ('prospect', 'active', 'inactive', 'archived')",
            name=op.f("ck_clients_status"),
        ),
        sa.CheckConstraint(
            "annual_revenue >= 0", name=op.f("ck_clients_annual_revenue_non_negative")
        ),
        sa.CheckConstraint(
            "fiscal_year_end_month BETWEEN 1 AND 12",
            name=op.f("ck_clients_fiscal_year_end_month_range"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "assigned_partner_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_clients_organization_id_assigned_partner_id_users"),
            ondelete="SET NULL (assigned_partner_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_clients_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clients")),
        sa.UniqueConstraint("organization_id", "id", name=op.f("uq_clients_organization_id_id")),
    )
    op.create_index(
        op.f("ix_clients_organization_id_assigned_partner_id"),
        "clients",
        ["organization_id", "assigned_partner_id"],
        unique=False,
    )
    op.create_table(
        "quickbooks_syncs",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("triggered_by_id", sa.Uuid(), nullable=True),
        sa.Column("sync_type", sa.Text(), nullable=False),
        sa.Column("entity_type", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("records_total", sa.Integer(), nullable=True),
        sa.Column("records_processed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("records_failed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("error_details", postgresql.JSONB(astext_type=Text()), nullable=True),
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
            "status IN ('pending', 'running', 'completed', 'failed', 'cancelled')",
            name=op.f("ck_quickbooks_syncs_status"),
        ),
        sa.CheckConstraint(
            "sync_type IN ('full', 'incremental', 'customers', 'invoices', 'accounts', 'transactions')",
            name=op.f("ck_quickbooks_syncs_sync_type"),
        ),
        sa.CheckConstraint(
            "records_failed >= 0", name=op.f("ck_quickbooks_syncs_records_failed_non_negative")
        ),
        sa.CheckConstraint(
            "records_processed >= 0",
            name=op.f("ck_quickbooks_syncs_records_processed_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "triggered_by_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_quickbooks_syncs_organization_id_triggered_by_id_users"),
            ondelete="SET NULL (triggered_by_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_quickbooks_syncs_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quickbooks_syncs")),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_quickbooks_syncs_organization_id_id")
        ),
    )
    op.create_index(
        op.f("ix_quickbooks_syncs_organization_id_triggered_by_id"),
        "quickbooks_syncs",
        ["organization_id", "triggered_by_id"],
        unique=False,
    )
    op.create_table(
        "quickbooks_tokens",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("connected_by_id", sa.Uuid(), nullable=True),
        sa.Column("realm_id", sa.Text(), nullable=False),
        sa.Column("access_token_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("refresh_token_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("key_version", sa.SmallInteger(), server_default="1", nullable=False),
        sa.Column("scope", sa.Text(), nullable=True),
        sa.Column("access_token_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refresh_token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "key_version >= 0", name=op.f("ck_quickbooks_tokens_key_version_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "connected_by_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_quickbooks_tokens_organization_id_connected_by_id_users"),
            ondelete="SET NULL (connected_by_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_quickbooks_tokens_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quickbooks_tokens")),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_quickbooks_tokens_organization_id_id")
        ),
        sa.UniqueConstraint("organization_id", name=op.f("uq_quickbooks_tokens_organization_id")),
    )
    op.create_index(
        op.f("ix_quickbooks_tokens_organization_id_connected_by_id"),
        "quickbooks_tokens",
        ["organization_id", "connected_by_id"],
        unique=False,
    )
    op.create_table(
        "report_templates",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("report_type", sa.Text(), nullable=False),
        sa.Column(
            "layout",
            postgresql.JSONB(astext_type=Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "data_sources",
            postgresql.JSONB(astext_type=Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("is_default", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "report_type IN ('financial_statement', 'profit_and_loss', 'balance_sheet', 'cash_flow', 'tax_summary', 'ar_aging', 'budget_variance', 'custom')",
            name=op.f("ck_report_templates_report_type"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "created_by_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_report_templates_organization_id_created_by_id_users"),
            ondelete="SET NULL (created_by_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_report_templates_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_templates")),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_report_templates_organization_id_id")
        ),
    )
    op.create_index(
        op.f("ix_report_templates_organization_id_created_by_id"),
        "report_templates",
        ["organization_id", "created_by_id"],
        unique=False,
    )
    op.create_table(
        "team_members",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("manager_id", sa.Uuid(), nullable=True),
        sa.Column("department", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("hourly_rate", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column(
            "capacity_hours_per_week",
            sa.Numeric(precision=5, scale=2),
            server_default="40",
            nullable=False,
        ),
        sa.Column(
            "specializations",
            postgresql.ARRAY(Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("hired_on", sa.Date(), nullable=True),
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
            "department IN ('tax', 'audit', 'advisory', 'bookkeeping', 'payroll', 'administration')",
            name=op.f("ck_team_members_department"),
        ),
        sa.CheckConstraint(
            "capacity_hours_per_week BETWEEN 0 AND 80",
            name=op.f("ck_team_members_capacity_hours_per_week_range"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "manager_id"],
            ["team_members.organization_id", "team_members.id"],
            name=op.f("fk_team_members_organization_id_manager_id_team_members"),
            ondelete="SET NULL (manager_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "user_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_team_members_organization_id_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_team_members_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_members")),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_team_members_organization_id_id")
        ),
        sa.UniqueConstraint(
            "organization_id", "user_id", name=op.f("uq_team_members_organization_id_user_id")
        ),
    )
    op.create_index(
        op.f("ix_team_members_organization_id_manager_id"),
        "team_members",
        ["organization_id", "manager_id"],
        unique=False,
    )
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("ip_address", postgresql.INET(), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "last_active_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["organization_id", "user_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_user_sessions_organization_id_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_user_sessions_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_user_sessions_organization_id_id")
        ),
        sa.UniqueConstraint(
            "organization_id",
            "token_hash",
            name=op.f("uq_user_sessions_organization_id_token_hash"),
        ),
    )
    op.create_index(
        op.f("ix_user_sessions_organization_id_user_id"),
        "user_sessions",
        ["organization_id", "user_id"],
        unique=False,
    )
    op.create_table(
        "workflow_templates",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("is_system", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "steps",
            postgresql.JSONB(astext_type=Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "requirements",
            postgresql.JSONB(astext_type=Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("estimated_duration_hours", sa.Integer(), nullable=True),
        sa.Column(
            "tags", postgresql.ARRAY(Text()), server_default=sa.text("'{}'::text[]"), nullable=False
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "type IN ('tax_preparation', 'bookkeeping', 'onboarding', 'year_end', 'audit', 'payroll', 'custom')",
            name=op.f("ck_workflow_templates_type"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "created_by_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_workflow_templates_organization_id_created_by_id_users"),
            ondelete="SET NULL (created_by_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_workflow_templates_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_templates")),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_workflow_templates_organization_id_id")
        ),
    )
    op.create_index(
        op.f("ix_workflow_templates_organization_id_created_by_id"),
        "workflow_templates",
        ["organization_id", "created_by_id"],
        unique=False,
    )
    op.create_table(
        "workflows",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("is_template", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "steps",
            postgresql.JSONB(astext_type=Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "settings",
            postgresql.JSONB(astext_type=Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("created_by", sa.Uuid(), nullable=True),
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "type IN ('tax_preparation', 'bookkeeping', 'onboarding', 'year_end', 'audit', 'payroll', 'custom')",
            name=op.f("ck_workflows_type"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "created_by"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_workflows_organization_id_created_by_users"),
            ondelete="SET NULL (created_by)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_workflows_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflows")),
        sa.UniqueConstraint("organization_id", "id", name=op.f("uq_workflows_organization_id_id")),
    )
    op.create_index(
        op.f("ix_workflows_organization_id_created_by"),
        "workflows",
        ["organization_id", "created_by"],
        unique=False,
    )
    op.create_table(
        "client_contacts",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("email", postgresql.CITEXT(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("is_primary", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("can_sign", sa.Boolean(), server_default=sa.text("false"), nullable=False),
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id", "client_id"],
            ["clients.organization_id", "clients.id"],
            name=op.f("fk_client_contacts_organization_id_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_client_contacts_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_contacts")),
        sa.UniqueConstraint(
            "organization_id",
            "client_id",
            "email",
            name=op.f("uq_client_contacts_organization_id_client_id_email"),
        ),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_client_contacts_organization_id_id")
        ),
    )
    op.create_index(
        op.f("ix_client_contacts_organization_id_client_id"),
        "client_contacts",
        ["organization_id", "client_id"],
        unique=False,
    )
    op.create_table(
        "client_portal_access",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("granted_by_id", sa.Uuid(), nullable=True),
        sa.Column("access_level", sa.Text(), server_default="view", nullable=False),
        sa.Column(
            "permissions",
            postgresql.ARRAY(Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_access_at", sa.DateTime(timezone=True), nullable=True),
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
            "access_level IN ('view', 'upload', 'full')",
            name=op.f("ck_client_portal_access_access_level"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "client_id"],
            ["clients.organization_id", "clients.id"],
            name=op.f("fk_client_portal_access_organization_id_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "granted_by_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_client_portal_access_organization_id_granted_by_id_users"),
            ondelete="SET NULL (granted_by_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "user_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_client_portal_access_organization_id_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_client_portal_access_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_portal_access")),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_client_portal_access_organization_id_id")
        ),
        sa.UniqueConstraint(
            "organization_id",
            "user_id",
            "client_id",
            name=op.f("uq_client_portal_access_organization_id_user_id_client_id"),
        ),
    )
    op.create_index(
        op.f("ix_client_portal_access_organization_id_client_id"),
        "client_portal_access",
        ["organization_id", "client_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_client_portal_access_organization_id_granted_by_id"),
        "client_portal_access",
        ["organization_id", "granted_by_id"],
        unique=False,
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("uploaded_by", sa.Uuid(), nullable=False),
        sa.Column("parent_document_id", sa.Uuid(), nullable=True),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("file_url", sa.Text(), nullable=False),
        sa.Column("file_type", sa.Text(), nullable=False),
        sa.Column("mime_type", sa.Text(), nullable=True),
        sa.Column("file_size", sa.BigInteger(), nullable=True),
        sa.Column("checksum", sa.Text(), nullable=True),
        sa.Column("category", sa.Text(), server_default="other", nullable=False),
        sa.Column("subcategory", sa.Text(), nullable=True),
        sa.Column("tax_year", sa.SmallInteger(), nullable=True),
        sa.Column("quarter", sa.SmallInteger(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "is_latest_version", sa.Boolean(), server_default=sa.text("true"), nullable=False
        ),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default="uploaded", nullable=False),
        sa.Column("ocr_status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("ocr_confidence", sa.Float(), nullable=True),
        sa.Column("ocr_processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("needs_review", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.Uuid(), nullable=True),
        sa.Column("is_confidential", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("access_level", sa.Text(), server_default="organization", nullable=False),
        sa.Column("retention_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("extracted_data", postgresql.JSONB(astext_type=Text()), nullable=True),
        sa.Column("extracted_text", sa.Text(), nullable=True),
        sa.Column(
            "tags", postgresql.ARRAY(Text()), server_default=sa.text("'{}'::text[]"), nullable=False
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "access_level IN ('organization', 'client', 'restricted')",
            name=op.f("ck_documents_access_level"),
        ),
        sa.CheckConstraint(
            "category IN ('tax_return', 'financial_statement', 'receipt', 'invoice', 'bank_statement', 'w2', '1099', 'k1', 'payroll', 'contract', 'correspondence', 'other')",
            name=op.f("ck_documents_category"),
        ),
        sa.CheckConstraint(
            "ocr_status IN ('pending', 'processing', 'completed', 'failed', 'manual_review')",
            name=op.f("ck_documents_ocr_status"),
        ),
        sa.CheckConstraint(
            "status IN ('uploaded', 'processing', 'ready', 'in_review', 'approved', 'rejected', 'archived')",
            name=op.f("ck_documents_status"),
        ),
        sa.CheckConstraint("file_size >= 0", name=op.f("ck_documents_file_size_non_negative")),
        sa.CheckConstraint(
            "ocr_confidence BETWEEN 0 AND 1", name=op.f("ck_documents_ocr_confidence_range")
        ),
        sa.CheckConstraint("quarter BETWEEN 1 AND 4", name=op.f("ck_documents_quarter_range")),
        sa.CheckConstraint(
            "tax_year BETWEEN 1900 AND 2200", name=op.f("ck_documents_tax_year_range")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "client_id"],
            ["clients.organization_id", "clients.id"],
            name=op.f("fk_documents_organization_id_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "parent_document_id"],
            ["documents.organization_id", "documents.id"],
            name=op.f("fk_documents_organization_id_parent_document_id_documents"),
            ondelete="SET NULL (parent_document_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "uploaded_by"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_documents_organization_id_uploaded_by_users"),
            ondelete="NO ACTION",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_documents_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("organization_id", "id", name=op.f("uq_documents_organization_id_id")),
    )
    op.create_index(
        op.f("ix_documents_organization_id_client_id"),
        "documents",
        ["organization_id", "client_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_documents_organization_id_parent_document_id"),
        "documents",
        ["organization_id", "parent_document_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_documents_organization_id_uploaded_by"),
        "documents",
        ["organization_id", "uploaded_by"],
        unique=False,
    )
    op.create_table(
        "engagements",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="planning", nullable=False),
        sa.Column("priority", sa.Text(), server_default="normal", nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tax_year", sa.SmallInteger(), nullable=True),
        sa.Column("quarter", sa.SmallInteger(), nullable=True),
        sa.Column("estimated_hours", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("actual_hours", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("hourly_rate", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("fixed_fee", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("currency", sa.String(length=3), server_default="USD", nullable=False),
        sa.Column("assigned_to_id", sa.Uuid(), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("workflow_id", sa.Uuid(), nullable=True),
        sa.Column("rate_card_id", sa.Uuid(), nullable=True),
        sa.Column(
            "custom_fields",
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
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_engagements_currency_iso4217")),
        sa.CheckConstraint(
            "priority IN ('low', 'normal', 'high', 'urgent')", name=op.f("ck_engagements_priority")
        ),
        sa.CheckConstraint(
            "status IN ('planning', 'in_progress', 'review', 'completed', 'on_hold', 'cancelled')",
            name=op.f("ck_engagements_status"),
        ),
        sa.CheckConstraint(
            "type IN ('tax_preparation', 'bookkeeping', 'advisory', 'cfo_services', 'audit', 'review', 'compilation', 'payroll')",
            name=op.f("ck_engagements_type"),
        ),
        sa.CheckConstraint(
            "actual_hours >= 0", name=op.f("ck_engagements_actual_hours_non_negative")
        ),
        sa.CheckConstraint(
            "due_date IS NULL OR start_date IS NULL OR due_date >= start_date",
            name=op.f("ck_engagements_dates_ordered"),
        ),
        sa.CheckConstraint(
            "estimated_hours >= 0", name=op.f("ck_engagements_estimated_hours_non_negative")
        ),
        sa.CheckConstraint("quarter BETWEEN 1 AND 4", name=op.f("ck_engagements_quarter_range")),
        sa.CheckConstraint(
            "tax_year BETWEEN 1900 AND 2200", name=op.f("ck_engagements_tax_year_range")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "assigned_to_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_engagements_organization_id_assigned_to_id_users"),
            ondelete="SET NULL (assigned_to_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "client_id"],
            ["clients.organization_id", "clients.id"],
            name=op.f("fk_engagements_organization_id_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "created_by_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_engagements_organization_id_created_by_id_users"),
            ondelete="SET NULL (created_by_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "rate_card_id"],
            ["engagement_rate_cards.organization_id", "engagement_rate_cards.id"],
            name=op.f("fk_engagements_organization_id_rate_card_id_engagement_rate_cards"),
            ondelete="SET NULL (rate_card_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "workflow_id"],
            ["workflows.organization_id", "workflows.id"],
            name=op.f("fk_engagements_organization_id_workflow_id_workflows"),
            ondelete="SET NULL (workflow_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_engagements_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engagements")),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_engagements_organization_id_id")
        ),
    )
    op.create_index(
        op.f("ix_engagements_organization_id_assigned_to_id"),
        "engagements",
        ["organization_id", "assigned_to_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_engagements_organization_id_client_id"),
        "engagements",
        ["organization_id", "client_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_engagements_organization_id_created_by_id"),
        "engagements",
        ["organization_id", "created_by_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_engagements_organization_id_rate_card_id"),
        "engagements",
        ["organization_id", "rate_card_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_engagements_organization_id_workflow_id"),
        "engagements",
        ["organization_id", "workflow_id"],
        unique=False,
    )
    op.create_table(
        "report_schedules",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("template_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("frequency", sa.Text(), nullable=False),
        sa.Column("cron_expression", sa.Text(), nullable=True),
        sa.Column("timezone", sa.Text(), server_default="UTC", nullable=False),
        sa.Column("format", sa.Text(), server_default="pdf", nullable=False),
        sa.Column(
            "recipients",
            postgresql.ARRAY(CITEXT()),
            server_default=sa.text("'{}'::citext[]"),
            nullable=False,
        ),
        sa.Column(
            "parameters",
            postgresql.JSONB(astext_type=Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
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
            "format IN ('pdf', 'xlsx', 'csv', 'html')", name=op.f("ck_report_schedules_format")
        ),
        sa.CheckConstraint(
            "frequency IN ('daily', 'weekly', 'monthly', 'quarterly', 'yearly')",
            name=op.f("ck_report_schedules_frequency"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "client_id"],
            ["clients.organization_id", "clients.id"],
            name=op.f("fk_report_schedules_organization_id_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "created_by_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_report_schedules_organization_id_created_by_id_users"),
            ondelete="SET NULL (created_by_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "template_id"],
            ["report_templates.organization_id", "report_templates.id"],
            name=op.f("fk_report_schedules_organization_id_template_id_report_templates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_report_schedules_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_schedules")),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_report_schedules_organization_id_id")
        ),
    )
    op.create_index(
        op.f("ix_report_schedules_organization_id_client_id"),
        "report_schedules",
        ["organization_id", "client_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_report_schedules_organization_id_created_by_id"),
        "report_schedules",
        ["organization_id", "created_by_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_report_schedules_organization_id_template_id"),
        "report_schedules",
        ["organization_id", "template_id"],
        unique=False,
    )
    op.create_table(
        "service_offerings",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("advisor_profile_id", sa.Uuid(), nullable=True),
        sa.Column("rate_card_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("pricing_model", sa.Text(), nullable=False),
        sa.Column("base_price", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("currency", sa.String(length=3), server_default="USD", nullable=False),
        sa.Column(
            "deliverables",
            postgresql.JSONB(astext_type=Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "industries",
            postgresql.ARRAY(Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "currency ~ '^[A-Z]{3}$'", name=op.f("ck_service_offerings_currency_iso4217")
        ),
        sa.CheckConstraint(
            "pricing_model IN ('hourly', 'fixed', 'retainer', 'value_based')",
            name=op.f("ck_service_offerings_pricing_model"),
        ),
        sa.CheckConstraint(
            "base_price >= 0", name=op.f("ck_service_offerings_base_price_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "advisor_profile_id"],
            ["advisor_profiles.organization_id", "advisor_profiles.id"],
            name=op.f("fk_service_offerings_organization_id_advisor_profile_id_advisor_profiles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "rate_card_id"],
            ["engagement_rate_cards.organization_id", "engagement_rate_cards.id"],
            name=op.f("fk_service_offerings_organization_id_rate_card_id_engagement_rate_cards"),
            ondelete="SET NULL (rate_card_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_service_offerings_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_offerings")),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_service_offerings_organization_id_id")
        ),
    )
    op.create_index(
        op.f("ix_service_offerings_organization_id_advisor_profile_id"),
        "service_offerings",
        ["organization_id", "advisor_profile_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_service_offerings_organization_id_rate_card_id"),
        "service_offerings",
        ["organization_id", "rate_card_id"],
        unique=False,
    )
    op.create_table(
        "team_member_permissions",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("team_member_id", sa.Uuid(), nullable=False),
        sa.Column("permission_id", sa.Uuid(), nullable=False),
        sa.Column("granted_by_id", sa.Uuid(), nullable=True),
        sa.Column(
            "conditions",
            postgresql.JSONB(astext_type=Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "granted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id", "granted_by_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_team_member_permissions_organization_id_granted_by_id_users"),
            ondelete="SET NULL (granted_by_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "team_member_id"],
            ["team_members.organization_id", "team_members.id"],
            name=op.f("fk_team_member_permissions_organization_id_team_member_id_team_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_team_member_permissions_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["permission_id"],
            ["permissions.id"],
            name=op.f("fk_team_member_permissions_permission_id_permissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_member_permissions")),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_team_member_permissions_organization_id_id")
        ),
        sa.UniqueConstraint(
            "organization_id",
            "team_member_id",
            "permission_id",
            name=op.f("uq_team_member_permissions_organization_id_team_member_id_permission_id"),
        ),
    )
    op.create_index(
        op.f("ix_team_member_permissions_organization_id_granted_by_id"),
        "team_member_permissions",
        ["organization_id", "granted_by_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_team_member_permissions_permission_id"),
        "team_member_permissions",
        ["permission_id"],
        unique=False,
    )
    op.create_table(
        "advisor_marketplace_matches",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("advisor_profile_id", sa.Uuid(), nullable=False),
        sa.Column("service_offering_id", sa.Uuid(), nullable=True),
        sa.Column("match_score", sa.Numeric(precision=5, scale=4), nullable=False),
        sa.Column(
            "match_reasons",
            postgresql.JSONB(astext_type=Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("status", sa.Text(), server_default="suggested", nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
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
            "status IN ('suggested', 'contacted', 'accepted', 'declined', 'expired')",
            name=op.f("ck_advisor_marketplace_matches_status"),
        ),
        sa.CheckConstraint(
            "match_score BETWEEN 0 AND 1",
            name=op.f("ck_advisor_marketplace_matches_match_score_range"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "advisor_profile_id"],
            ["advisor_profiles.organization_id", "advisor_profiles.id"],
            name=op.f(
                "fk_advisor_marketplace_matches_organization_id_advisor_profile_id_advisor_profiles"
            ),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "client_id"],
            ["clients.organization_id", "clients.id"],
            name=op.f("fk_advisor_marketplace_matches_organization_id_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "service_offering_id"],
            ["service_offerings.organization_id", "service_offerings.id"],
            name=op.f(
                "fk_advisor_marketplace_matches_organization_id_service_offering_id_service_offerings"
            ),
            ondelete="SET NULL (service_offering_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_advisor_marketplace_matches_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisor_marketplace_matches")),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_advisor_marketplace_matches_organization_id_id")
        ),
    )
    op.create_index(
        op.f("ix_advisor_marketplace_matches_organization_id_advisor_profile_id"),
        "advisor_marketplace_matches",
        ["organization_id", "advisor_profile_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_advisor_marketplace_matches_organization_id_client_id"),
        "advisor_marketplace_matches",
        ["organization_id", "client_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_advisor_marketplace_matches_organization_id_service_offering_id"),
        "advisor_marketplace_matches",
        ["organization_id", "service_offering_id"],
        unique=False,
    )
    op.create_table(
        "client_satisfaction_metrics",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("engagement_id", sa.Uuid(), nullable=True),
        sa.Column("advisor_id", sa.Uuid(), nullable=True),
        sa.Column("rated_by_id", sa.Uuid(), nullable=True),
        sa.Column("overall_score", sa.SmallInteger(), nullable=False),
        sa.Column("nps_score", sa.SmallInteger(), nullable=True),
        sa.Column(
            "scores",
            postgresql.JSONB(astext_type=Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("feedback", sa.Text(), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
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
            "nps_score BETWEEN 0 AND 10",
            name=op.f("ck_client_satisfaction_metrics_nps_score_range"),
        ),
        sa.CheckConstraint(
            "overall_score BETWEEN 1 AND 5",
            name=op.f("ck_client_satisfaction_metrics_overall_score_range"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "advisor_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_client_satisfaction_metrics_organization_id_advisor_id_users"),
            ondelete="SET NULL (advisor_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "client_id"],
            ["clients.organization_id", "clients.id"],
            name=op.f("fk_client_satisfaction_metrics_organization_id_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "engagement_id"],
            ["engagements.organization_id", "engagements.id"],
            name=op.f("fk_client_satisfaction_metrics_organization_id_engagement_id_engagements"),
            ondelete="SET NULL (engagement_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "rated_by_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_client_satisfaction_metrics_organization_id_rated_by_id_users"),
            ondelete="SET NULL (rated_by_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_client_satisfaction_metrics_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_satisfaction_metrics")),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_client_satisfaction_metrics_organization_id_id")
        ),
    )
    op.create_index(
        op.f("ix_client_satisfaction_metrics_organization_id_advisor_id"),
        "client_satisfaction_metrics",
        ["organization_id", "advisor_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_client_satisfaction_metrics_organization_id_client_id"),
        "client_satisfaction_metrics",
        ["organization_id", "client_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_client_satisfaction_metrics_organization_id_engagement_id"),
        "client_satisfaction_metrics",
        ["organization_id", "engagement_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_client_satisfaction_metrics_organization_id_rated_by_id"),
        "client_satisfaction_metrics",
        ["organization_id", "rated_by_id"],
        unique=False,
    )
    op.create_table(
        "document_annotations",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("page", sa.Integer(), server_default="0", nullable=False),
        sa.Column("position", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("color", sa.Text(), nullable=True),
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "type IN ('highlight', 'note', 'redaction', 'signature', 'stamp')",
            name=op.f("ck_document_annotations_type"),
        ),
        sa.CheckConstraint("page >= 0", name=op.f("ck_document_annotations_page_non_negative")),
        sa.ForeignKeyConstraint(
            ["organization_id", "created_by"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_document_annotations_organization_id_created_by_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "document_id"],
            ["documents.organization_id", "documents.id"],
            name=op.f("fk_document_annotations_organization_id_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_document_annotations_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_annotations")),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_document_annotations_organization_id_id")
        ),
    )
    op.create_index(
        op.f("ix_document_annotations_organization_id_created_by"),
        "document_annotations",
        ["organization_id", "created_by"],
        unique=False,
    )
    op.create_index(
        op.f("ix_document_annotations_organization_id_document_id"),
        "document_annotations",
        ["organization_id", "document_id"],
        unique=False,
    )
    op.create_table(
        "document_comments",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("parent_comment_id", sa.Uuid(), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("is_resolved", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id", "author_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_document_comments_organization_id_author_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "document_id"],
            ["documents.organization_id", "documents.id"],
            name=op.f("fk_document_comments_organization_id_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "parent_comment_id"],
            ["document_comments.organization_id", "document_comments.id"],
            name=op.f("fk_document_comments_organization_id_parent_comment_id_document_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_document_comments_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_comments")),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_document_comments_organization_id_id")
        ),
    )
    op.create_index(
        op.f("ix_document_comments_organization_id_author_id"),
        "document_comments",
        ["organization_id", "author_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_document_comments_organization_id_document_id"),
        "document_comments",
        ["organization_id", "document_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_document_comments_organization_id_parent_comment_id"),
        "document_comments",
        ["organization_id", "parent_comment_id"],
        unique=False,
    )
    op.create_table(
        "document_shares",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("shared_by", sa.Uuid(), nullable=False),
        sa.Column("shared_with_user_id", sa.Uuid(), nullable=True),
        sa.Column("shared_with_email", postgresql.CITEXT(), nullable=True),
        sa.Column("permission", sa.Text(), server_default="view", nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("access_count", sa.Integer(), server_default="0", nullable=False),
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
            "permission IN ('view', 'comment', 'edit', 'download')",
            name=op.f("ck_document_shares_permission"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "document_id"],
            ["documents.organization_id", "documents.id"],
            name=op.f("fk_document_shares_organization_id_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "shared_by"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_document_shares_organization_id_shared_by_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "shared_with_user_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_document_shares_organization_id_shared_with_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_document_shares_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_shares")),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_document_shares_organization_id_id")
        ),
        sa.UniqueConstraint(
            "organization_id",
            "token_hash",
            name=op.f("uq_document_shares_organization_id_token_hash"),
        ),
    )
    op.create_index(
        op.f("ix_document_shares_organization_id_document_id"),
        "document_shares",
        ["organization_id", "document_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_document_shares_organization_id_shared_by"),
        "document_shares",
        ["organization_id", "shared_by"],
        unique=False,
    )
    op.create_index(
        op.f("ix_document_shares_organization_id_shared_with_user_id"),
        "document_shares",
        ["organization_id", "shared_with_user_id"],
        unique=False,
    )
    op.create_table(
        "invoices",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("engagement_id", sa.Uuid(), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("invoice_number", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="draft", nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column(
            "subtotal", sa.Numeric(precision=14, scale=4), server_default="0", nullable=False
        ),
        sa.Column(
            "tax_amount", sa.Numeric(precision=14, scale=4), server_default="0", nullable=False
        ),
        sa.Column(
            "discount_amount", sa.Numeric(precision=14, scale=4), server_default="0", nullable=False
        ),
        sa.Column("amount", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column(
            "amount_paid", sa.Numeric(precision=14, scale=4), server_default="0", nullable=False
        ),
        sa.Column("currency", sa.String(length=3), server_default="USD", nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("terms", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("stripe_invoice_id", sa.Text(), nullable=True),
        sa.Column("quickbooks_invoice_id", sa.Text(), nullable=True),
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
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_invoices_currency_iso4217")),
        sa.CheckConstraint(
            "status IN ('draft', 'sent', 'viewed', 'partial', 'paid', 'overdue', 'void', 'written_off')",
            name=op.f("ck_invoices_status"),
        ),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_invoices_amount_non_negative")),
        sa.CheckConstraint("amount_paid >= 0", name=op.f("ck_invoices_amount_paid_non_negative")),
        sa.CheckConstraint("due_date >= issue_date", name=op.f("ck_invoices_due_after_issue")),
        sa.CheckConstraint("tax_amount >= 0", name=op.f("ck_invoices_tax_amount_non_negative")),
        sa.ForeignKeyConstraint(
            ["organization_id", "client_id"],
            ["clients.organization_id", "clients.id"],
            name=op.f("fk_invoices_organization_id_client_id_clients"),
            ondelete="NO ACTION",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "created_by_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_invoices_organization_id_created_by_id_users"),
            ondelete="SET NULL (created_by_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "engagement_id"],
            ["engagements.organization_id", "engagements.id"],
            name=op.f("fk_invoices_organization_id_engagement_id_engagements"),
            ondelete="SET NULL (engagement_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_invoices_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("organization_id", "id", name=op.f("uq_invoices_organization_id_id")),
        sa.UniqueConstraint(
            "organization_id",
            "invoice_number",
            name=op.f("uq_invoices_organization_id_invoice_number"),
        ),
    )
    op.create_index(
        op.f("ix_invoices_organization_id_client_id"),
        "invoices",
        ["organization_id", "client_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_invoices_organization_id_created_by_id"),
        "invoices",
        ["organization_id", "created_by_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_invoices_organization_id_engagement_id"),
        "invoices",
        ["organization_id", "engagement_id"],
        unique=False,
    )
    op.create_table(
        "reports",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("template_id", sa.Uuid(), nullable=True),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("engagement_id", sa.Uuid(), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("report_type", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="queued", nullable=False),
        sa.Column("format", sa.Text(), server_default="pdf", nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tax_year", sa.SmallInteger(), nullable=True),
        sa.Column(
            "parameters",
            postgresql.JSONB(astext_type=Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("data", postgresql.JSONB(astext_type=Text()), nullable=True),
        sa.Column("file_url", sa.Text(), nullable=True),
        sa.Column("file_size", sa.BigInteger(), nullable=True),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "format IN ('pdf', 'xlsx', 'csv', 'html')", name=op.f("ck_reports_format")
        ),
        sa.CheckConstraint(
            "report_type IN ('financial_statement', 'profit_and_loss', 'balance_sheet', 'cash_flow', 'tax_summary', 'ar_aging', 'budget_variance', 'custom')",
            name=op.f("ck_reports_report_type"),
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'generating', 'completed', 'failed')",
            name=op.f("ck_reports_status"),
        ),
        sa.CheckConstraint("file_size >= 0", name=op.f("ck_reports_file_size_non_negative")),
        sa.CheckConstraint(
            "tax_year BETWEEN 1900 AND 2200", name=op.f("ck_reports_tax_year_range")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "client_id"],
            ["clients.organization_id", "clients.id"],
            name=op.f("fk_reports_organization_id_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "created_by_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_reports_organization_id_created_by_id_users"),
            ondelete="SET NULL (created_by_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "engagement_id"],
            ["engagements.organization_id", "engagements.id"],
            name=op.f("fk_reports_organization_id_engagement_id_engagements"),
            ondelete="SET NULL (engagement_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "template_id"],
            ["report_templates.organization_id", "report_templates.id"],
            name=op.f("fk_reports_organization_id_template_id_report_templates"),
            ondelete="SET NULL (template_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_reports_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("organization_id", "id", name=op.f("uq_reports_organization_id_id")),
    )
    op.create_index(
        op.f("ix_reports_organization_id_client_id"),
        "reports",
        ["organization_id", "client_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_reports_organization_id_created_by_id"),
        "reports",
        ["organization_id", "created_by_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_reports_organization_id_engagement_id"),
        "reports",
        ["organization_id", "engagement_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_reports_organization_id_template_id"),
        "reports",
        ["organization_id", "template_id"],
        unique=False,
    )
    op.create_table(
        "tasks",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("engagement_id", sa.Uuid(), nullable=False),
        sa.Column("assignee_id", sa.Uuid(), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("workflow_id", sa.Uuid(), nullable=True),
        sa.Column("parent_task_id", sa.Uuid(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("priority", sa.Text(), server_default="normal", nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("estimated_hours", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("actual_hours", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("step_index", sa.Integer(), nullable=True),
        sa.Column(
            "checklist",
            postgresql.JSONB(astext_type=Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "tags", postgresql.ARRAY(Text()), server_default=sa.text("'{}'::text[]"), nullable=False
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "priority IN ('low', 'normal', 'high', 'urgent')", name=op.f("ck_tasks_priority")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'in_progress', 'blocked', 'review', 'completed', 'cancelled')",
            name=op.f("ck_tasks_status"),
        ),
        sa.CheckConstraint("actual_hours >= 0", name=op.f("ck_tasks_actual_hours_non_negative")),
        sa.CheckConstraint(
            "estimated_hours >= 0", name=op.f("ck_tasks_estimated_hours_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "assignee_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_tasks_organization_id_assignee_id_users"),
            ondelete="SET NULL (assignee_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "created_by_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_tasks_organization_id_created_by_id_users"),
            ondelete="SET NULL (created_by_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "engagement_id"],
            ["engagements.organization_id", "engagements.id"],
            name=op.f("fk_tasks_organization_id_engagement_id_engagements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "parent_task_id"],
            ["tasks.organization_id", "tasks.id"],
            name=op.f("fk_tasks_organization_id_parent_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "workflow_id"],
            ["workflows.organization_id", "workflows.id"],
            name=op.f("fk_tasks_organization_id_workflow_id_workflows"),
            ondelete="SET NULL (workflow_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_tasks_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
        sa.UniqueConstraint("organization_id", "id", name=op.f("uq_tasks_organization_id_id")),
    )
    op.create_index(
        op.f("ix_tasks_organization_id_assignee_id"),
        "tasks",
        ["organization_id", "assignee_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_tasks_organization_id_created_by_id"),
        "tasks",
        ["organization_id", "created_by_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_tasks_organization_id_engagement_id"),
        "tasks",
        ["organization_id", "engagement_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_tasks_organization_id_parent_task_id"),
        "tasks",
        ["organization_id", "parent_task_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_tasks_organization_id_workflow_id"),
        "tasks",
        ["organization_id", "workflow_id"],
        unique=False,
    )
    op.create_table(
        "workflow_executions",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("template_id", sa.Uuid(), nullable=True),
        sa.Column("workflow_id", sa.Uuid(), nullable=True),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("engagement_id", sa.Uuid(), nullable=True),
        sa.Column("assigned_to_id", sa.Uuid(), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("priority", sa.Text(), server_default="normal", nullable=False),
        sa.Column("current_step", sa.Integer(), server_default="0", nullable=False),
        sa.Column("progress", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "context",
            postgresql.JSONB(astext_type=Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
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
            "priority IN ('low', 'normal', 'high', 'urgent')",
            name=op.f("ck_workflow_executions_priority"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'paused', 'completed', 'failed', 'cancelled')",
            name=op.f("ck_workflow_executions_status"),
        ),
        sa.CheckConstraint(
            "progress BETWEEN 0 AND 100", name=op.f("ck_workflow_executions_progress_range")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "assigned_to_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_workflow_executions_organization_id_assigned_to_id_users"),
            ondelete="SET NULL (assigned_to_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "client_id"],
            ["clients.organization_id", "clients.id"],
            name=op.f("fk_workflow_executions_organization_id_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "created_by_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_workflow_executions_organization_id_created_by_id_users"),
            ondelete="SET NULL (created_by_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "engagement_id"],
            ["engagements.organization_id", "engagements.id"],
            name=op.f("fk_workflow_executions_organization_id_engagement_id_engagements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "template_id"],
            ["workflow_templates.organization_id", "workflow_templates.id"],
            name=op.f("fk_workflow_executions_organization_id_template_id_workflow_templates"),
            ondelete="SET NULL (template_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "workflow_id"],
            ["workflows.organization_id", "workflows.id"],
            name=op.f("fk_workflow_executions_organization_id_workflow_id_workflows"),
            ondelete="SET NULL (workflow_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_workflow_executions_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_executions")),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_workflow_executions_organization_id_id")
        ),
    )
    op.create_index(
        op.f("ix_workflow_executions_organization_id_assigned_to_id"),
        "workflow_executions",
        ["organization_id", "assigned_to_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_workflow_executions_organization_id_client_id"),
        "workflow_executions",
        ["organization_id", "client_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_workflow_executions_organization_id_created_by_id"),
        "workflow_executions",
        ["organization_id", "created_by_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_workflow_executions_organization_id_engagement_id"),
        "workflow_executions",
        ["organization_id", "engagement_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_workflow_executions_organization_id_template_id"),
        "workflow_executions",
        ["organization_id", "template_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_workflow_executions_organization_id_workflow_id"),
        "workflow_executions",
        ["organization_id", "workflow_id"],
        unique=False,
    )
    op.create_table(
        "invoice_line_items",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("service_offering_id", sa.Uuid(), nullable=True),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "quantity", sa.Numeric(precision=12, scale=4), server_default="1", nullable=False
        ),
        sa.Column("unit_price", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("is_taxable", sa.Boolean(), server_default=sa.text("false"), nullable=False),
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
            "quantity >= 0", name=op.f("ck_invoice_line_items_quantity_non_negative")
        ),
        sa.CheckConstraint(
            "unit_price >= 0", name=op.f("ck_invoice_line_items_unit_price_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "invoice_id"],
            ["invoices.organization_id", "invoices.id"],
            name=op.f("fk_invoice_line_items_organization_id_invoice_id_invoices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "service_offering_id"],
            ["service_offerings.organization_id", "service_offerings.id"],
            name=op.f(
                "fk_invoice_line_items_organization_id_service_offering_id_service_offerings"
            ),
            ondelete="SET NULL (service_offering_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_invoice_line_items_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_line_items")),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_invoice_line_items_organization_id_id")
        ),
    )
    op.create_index(
        op.f("ix_invoice_line_items_organization_id_invoice_id"),
        "invoice_line_items",
        ["organization_id", "invoice_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_invoice_line_items_organization_id_service_offering_id"),
        "invoice_line_items",
        ["organization_id", "service_offering_id"],
        unique=False,
    )
    op.create_table(
        "notes",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("engagement_id", sa.Uuid(), nullable=True),
        sa.Column("task_id", sa.Uuid(), nullable=True),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("note_type", sa.Text(), server_default="general", nullable=False),
        sa.Column("priority", sa.Text(), server_default="normal", nullable=False),
        sa.Column("is_private", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("reminder_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "tags", postgresql.ARRAY(Text()), server_default=sa.text("'{}'::text[]"), nullable=False
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "note_type IN ('general', 'meeting', 'call', 'reminder', 'follow_up')",
            name=op.f("ck_notes_note_type"),
        ),
        sa.CheckConstraint(
            "priority IN ('low', 'normal', 'high', 'urgent')", name=op.f("ck_notes_priority")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "author_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_notes_organization_id_author_id_users"),
            ondelete="NO ACTION",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "client_id"],
            ["clients.organization_id", "clients.id"],
            name=op.f("fk_notes_organization_id_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "engagement_id"],
            ["engagements.organization_id", "engagements.id"],
            name=op.f("fk_notes_organization_id_engagement_id_engagements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "task_id"],
            ["tasks.organization_id", "tasks.id"],
            name=op.f("fk_notes_organization_id_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_notes_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
        sa.UniqueConstraint("organization_id", "id", name=op.f("uq_notes_organization_id_id")),
    )
    op.create_index(
        op.f("ix_notes_organization_id_author_id"),
        "notes",
        ["organization_id", "author_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_notes_organization_id_client_id"),
        "notes",
        ["organization_id", "client_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_notes_organization_id_engagement_id"),
        "notes",
        ["organization_id", "engagement_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_notes_organization_id_task_id"),
        "notes",
        ["organization_id", "task_id"],
        unique=False,
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), server_default="USD", nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("reference", sa.Text(), nullable=True),
        sa.Column("stripe_payment_intent_id", sa.Text(), nullable=True),
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
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_payments_currency_iso4217")),
        sa.CheckConstraint(
            "method IN ('card', 'ach', 'check', 'wire', 'cash', 'other')",
            name=op.f("ck_payments_method"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded', 'failed', 'refunded')",
            name=op.f("ck_payments_status"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payments_amount_positive")),
        sa.ForeignKeyConstraint(
            ["organization_id", "invoice_id"],
            ["invoices.organization_id", "invoices.id"],
            name=op.f("fk_payments_organization_id_invoice_id_invoices"),
            ondelete="NO ACTION",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_payments_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("organization_id", "id", name=op.f("uq_payments_organization_id_id")),
    )
    op.create_index(
        op.f("ix_payments_organization_id_invoice_id"),
        "payments",
        ["organization_id", "invoice_id"],
        unique=False,
    )
    op.create_table(
        "revenue_shares",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("advisor_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("engagement_id", sa.Uuid(), nullable=True),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.Column("gross_amount", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("advisor_percentage", sa.Numeric(precision=5, scale=4), nullable=False),
        sa.Column("advisor_amount", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("platform_amount", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), server_default="USD", nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
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
            "currency ~ '^[A-Z]{3}$'", name=op.f("ck_revenue_shares_currency_iso4217")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'paid', 'disputed')",
            name=op.f("ck_revenue_shares_status"),
        ),
        sa.CheckConstraint(
            "advisor_amount >= 0", name=op.f("ck_revenue_shares_advisor_amount_non_negative")
        ),
        sa.CheckConstraint(
            "advisor_percentage BETWEEN 0 AND 1",
            name=op.f("ck_revenue_shares_advisor_percentage_range"),
        ),
        sa.CheckConstraint(
            "gross_amount >= 0", name=op.f("ck_revenue_shares_gross_amount_non_negative")
        ),
        sa.CheckConstraint(
            "platform_amount >= 0", name=op.f("ck_revenue_shares_platform_amount_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "advisor_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_revenue_shares_organization_id_advisor_id_users"),
            ondelete="NO ACTION",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "client_id"],
            ["clients.organization_id", "clients.id"],
            name=op.f("fk_revenue_shares_organization_id_client_id_clients"),
            ondelete="NO ACTION",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "engagement_id"],
            ["engagements.organization_id", "engagements.id"],
            name=op.f("fk_revenue_shares_organization_id_engagement_id_engagements"),
            ondelete="SET NULL (engagement_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "invoice_id"],
            ["invoices.organization_id", "invoices.id"],
            name=op.f("fk_revenue_shares_organization_id_invoice_id_invoices"),
            ondelete="SET NULL (invoice_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_revenue_shares_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revenue_shares")),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_revenue_shares_organization_id_id")
        ),
    )
    op.create_index(
        op.f("ix_revenue_shares_organization_id_advisor_id"),
        "revenue_shares",
        ["organization_id", "advisor_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_revenue_shares_organization_id_client_id"),
        "revenue_shares",
        ["organization_id", "client_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_revenue_shares_organization_id_engagement_id"),
        "revenue_shares",
        ["organization_id", "engagement_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_revenue_shares_organization_id_invoice_id"),
        "revenue_shares",
        ["organization_id", "invoice_id"],
        unique=False,
    )
    op.create_table(
        "task_executions",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("workflow_execution_id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=True),
        sa.Column("assigned_to_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("step_index", sa.Integer(), nullable=False),
        sa.Column("task_type", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column(
            "depends_on",
            postgresql.ARRAY(Integer()),
            server_default=sa.text("'{}'::integer[]"),
            nullable=False,
        ),
        sa.Column(
            "input",
            postgresql.JSONB(astext_type=Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("output", postgresql.JSONB(astext_type=Text()), nullable=True),
        sa.Column("retry_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
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
            "status IN ('pending', 'running', 'paused', 'completed', 'failed', 'cancelled')",
            name=op.f("ck_task_executions_status"),
        ),
        sa.CheckConstraint(
            "retry_count >= 0", name=op.f("ck_task_executions_retry_count_non_negative")
        ),
        sa.CheckConstraint(
            "step_index >= 0", name=op.f("ck_task_executions_step_index_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "assigned_to_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_task_executions_organization_id_assigned_to_id_users"),
            ondelete="SET NULL (assigned_to_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "task_id"],
            ["tasks.organization_id", "tasks.id"],
            name=op.f("fk_task_executions_organization_id_task_id_tasks"),
            ondelete="SET NULL (task_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "workflow_execution_id"],
            ["workflow_executions.organization_id", "workflow_executions.id"],
            name=op.f(
                "fk_task_executions_organization_id_workflow_execution_id_workflow_executions"
            ),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_task_executions_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_executions")),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_task_executions_organization_id_id")
        ),
    )
    op.create_index(
        op.f("ix_task_executions_organization_id_assigned_to_id"),
        "task_executions",
        ["organization_id", "assigned_to_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_task_executions_organization_id_task_id"),
        "task_executions",
        ["organization_id", "task_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_task_executions_organization_id_workflow_execution_id"),
        "task_executions",
        ["organization_id", "workflow_execution_id"],
        unique=False,
    )
    op.create_table(
        "time_entries",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("engagement_id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.Column("work_date", sa.Date(), nullable=False),
        sa.Column("hours", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_billable", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("hourly_rate", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("currency", sa.String(length=3), server_default="USD", nullable=False),
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "currency ~ '^[A-Z]{3}$'", name=op.f("ck_time_entries_currency_iso4217")
        ),
        sa.CheckConstraint("hours > 0 AND hours <= 24", name=op.f("ck_time_entries_hours_range")),
        sa.ForeignKeyConstraint(
            ["organization_id", "engagement_id"],
            ["engagements.organization_id", "engagements.id"],
            name=op.f("fk_time_entries_organization_id_engagement_id_engagements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "invoice_id"],
            ["invoices.organization_id", "invoices.id"],
            name=op.f("fk_time_entries_organization_id_invoice_id_invoices"),
            ondelete="SET NULL (invoice_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "task_id"],
            ["tasks.organization_id", "tasks.id"],
            name=op.f("fk_time_entries_organization_id_task_id_tasks"),
            ondelete="SET NULL (task_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "user_id"],
            ["users.organization_id", "users.id"],
            name=op.f("fk_time_entries_organization_id_user_id_users"),
            ondelete="NO ACTION",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_time_entries_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_time_entries")),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_time_entries_organization_id_id")
        ),
    )
    op.create_index(
        op.f("ix_time_entries_organization_id_engagement_id"),
        "time_entries",
        ["organization_id", "engagement_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_time_entries_organization_id_invoice_id"),
        "time_entries",
        ["organization_id", "invoice_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_time_entries_organization_id_task_id"),
        "time_entries",
        ["organization_id", "task_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_time_entries_organization_id_user_id"),
        "time_entries",
        ["organization_id", "user_id"],
        unique=False,
    )
    op.create_table(
        "task_queue_items",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("task_execution_id", sa.Uuid(), nullable=True),
        sa.Column("queue", sa.Text(), server_default="default", nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="queued", nullable=False),
        sa.Column("priority", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "payload",
            postgresql.JSONB(astext_type=Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("max_attempts", sa.Integer(), server_default="5", nullable=False),
        sa.Column(
            "run_after", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("claimed_by", sa.Text(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
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
            "status IN ('queued', 'claimed', 'done', 'failed', 'expired')",
            name=op.f("ck_task_queue_items_status"),
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_task_queue_items_attempts_non_negative")),
        sa.CheckConstraint(
            "max_attempts >= 0", name=op.f("ck_task_queue_items_max_attempts_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "task_execution_id"],
            ["task_executions.organization_id", "task_executions.id"],
            name=op.f("fk_task_queue_items_organization_id_task_execution_id_task_executions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_task_queue_items_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_queue_items")),
        sa.UniqueConstraint(
            "organization_id", "id", name=op.f("uq_task_queue_items_organization_id_id")
        ),
    )
    op.create_index(
        op.f("ix_task_queue_items_organization_id_task_execution_id"),
        "task_queue_items",
        ["organization_id", "task_execution_id"],
        unique=False,
    )

    for table in TENANT_TABLES:
        op.enable_tenant_isolation(table)
    # A tenant sees only its own organization row.
    op.enable_tenant_isolation("organizations", column="id")
    for table in READ_WRITE:
        op.grant_app(table)
    for table in APPEND_ONLY:
        op.grant_app(table, ("SELECT", "INSERT"))
        op.make_append_only(table)
    op.grant_app("organizations", ("SELECT", "INSERT", "UPDATE"))
    op.grant_app("permissions", ("SELECT",))


def downgrade() -> None:
    op.set_lock_timeout()
    for table in APPEND_ONLY:
        op.drop_append_only(table)
    op.drop_append_only_function()
    for table in (*TENANT_TABLES, "organizations", "permissions"):
        op.revoke_app(table)
    op.drop_index(
        op.f("ix_task_queue_items_organization_id_task_execution_id"), table_name="task_queue_items"
    )
    op.drop_table("task_queue_items")
    op.drop_index(op.f("ix_time_entries_organization_id_user_id"), table_name="time_entries")
    op.drop_index(op.f("ix_time_entries_organization_id_task_id"), table_name="time_entries")
    op.drop_index(op.f("ix_time_entries_organization_id_invoice_id"), table_name="time_entries")
    op.drop_index(op.f("ix_time_entries_organization_id_engagement_id"), table_name="time_entries")
    op.drop_table("time_entries")
    op.drop_index(
        op.f("ix_task_executions_organization_id_workflow_execution_id"),
        table_name="task_executions",
    )
    op.drop_index(op.f("ix_task_executions_organization_id_task_id"), table_name="task_executions")
    op.drop_index(
        op.f("ix_task_executions_organization_id_assigned_to_id"), table_name="task_executions"
    )
    op.drop_table("task_executions")
    op.drop_index(op.f("ix_revenue_shares_organization_id_invoice_id"), table_name="revenue_shares")
    op.drop_index(
        op.f("ix_revenue_shares_organization_id_engagement_id"), table_name="revenue_shares"
    )
    op.drop_index(op.f("ix_revenue_shares_organization_id_client_id"), table_name="revenue_shares")
    op.drop_index(op.f("ix_revenue_shares_organization_id_advisor_id"), table_name="revenue_shares")
    op.drop_table("revenue_shares")
    op.drop_index(op.f("ix_payments_organization_id_invoice_id"), table_name="payments")
    op.drop_table("payments")
    op.drop_index(op.f("ix_notes_organization_id_task_id"), table_name="notes")
    op.drop_index(op.f("ix_notes_organization_id_engagement_id"), table_name="notes")
    op.drop_index(op.f("ix_notes_organization_id_client_id"), table_name="notes")
    op.drop_index(op.f("ix_notes_organization_id_author_id"), table_name="notes")
    op.drop_table("notes")
    op.drop_index(
        op.f("ix_invoice_line_items_organization_id_service_offering_id"),
        table_name="invoice_line_items",
    )
    op.drop_index(
        op.f("ix_invoice_line_items_organization_id_invoice_id"), table_name="invoice_line_items"
    )
    op.drop_table("invoice_line_items")
    op.drop_index(
        op.f("ix_workflow_executions_organization_id_workflow_id"), table_name="workflow_executions"
    )
    op.drop_index(
        op.f("ix_workflow_executions_organization_id_template_id"), table_name="workflow_executions"
    )
    op.drop_index(
        op.f("ix_workflow_executions_organization_id_engagement_id"),
        table_name="workflow_executions",
    )
    op.drop_index(
        op.f("ix_workflow_executions_organization_id_created_by_id"),
        table_name="workflow_executions",
    )
    op.drop_index(
        op.f("ix_workflow_executions_organization_id_client_id"), table_name="workflow_executions"
    )
    op.drop_index(
        op.f("ix_workflow_executions_organization_id_assigned_to_id"),
        table_name="workflow_executions",
    )
    op.drop_table("workflow_executions")
    op.drop_index(op.f("ix_tasks_organization_id_workflow_id"), table_name="tasks")
    op.drop_index(op.f("ix_tasks_organization_id_parent_task_id"), table_name="tasks")
    op.drop_index(op.f("ix_tasks_organization_id_engagement_id"), table_name="tasks")
    op.drop_index(op.f("ix_tasks_organization_id_created_by_id"), table_name="tasks")
    op.drop_index(op.f("ix_tasks_organization_id_assignee_id"), table_name="tasks")
    op.drop_table("tasks")
    op.drop_index(op.f("ix_reports_organization_id_template_id"), table_name="reports")
    op.drop_index(op.f("ix_reports_organization_id_engagement_id"), table_name="reports")
    op.drop_index(op.f("ix_reports_organization_id_created_by_id"), table_name="reports")
    op.drop_index(op.f("ix_reports_organization_id_client_id"), table_name="reports")
    op.drop_table("reports")
    op.drop_index(op.f("ix_invoices_organization_id_engagement_id"), table_name="invoices")
    op.drop_index(op.f("ix_invoices_organization_id_created_by_id"), table_name="invoices")
    op.drop_index(op.f("ix_invoices_organization_id_client_id"), table_name="invoices")
    op.drop_table("invoices")
    op.drop_index(
        op.f("ix_document_shares_organization_id_shared_with_user_id"), table_name="document_shares"
    )
    op.drop_index(
        op.f("ix_document_shares_organization_id_shared_by"), table_name="document_shares"
    )
    op.drop_index(
        op.f("ix_document_shares_organization_id_document_id"), table_name="document_shares"
    )
    op.drop_table("document_shares")
    op.drop_index(
        op.f("ix_document_comments_organization_id_parent_comment_id"),
        table_name="document_comments",
    )
    op.drop_index(
        op.f("ix_document_comments_organization_id_document_id"), table_name="document_comments"
    )
    op.drop_index(
        op.f("ix_document_comments_organization_id_author_id"), table_name="document_comments"
    )
    op.drop_table("document_comments")
    op.drop_index(
        op.f("ix_document_annotations_organization_id_document_id"),
        table_name="document_annotations",
    )
    op.drop_index(
        op.f("ix_document_annotations_organization_id_created_by"),
        table_name="document_annotations",
    )
    op.drop_table("document_annotations")
    op.drop_index(
        op.f("ix_client_satisfaction_metrics_organization_id_rated_by_id"),
        table_name="client_satisfaction_metrics",
    )
    op.drop_index(
        op.f("ix_client_satisfaction_metrics_organization_id_engagement_id"),
        table_name="client_satisfaction_metrics",
    )
    op.drop_index(
        op.f("ix_client_satisfaction_metrics_organization_id_client_id"),
        table_name="client_satisfaction_metrics",
    )
    op.drop_index(
        op.f("ix_client_satisfaction_metrics_organization_id_advisor_id"),
        table_name="client_satisfaction_metrics",
    )
    op.drop_table("client_satisfaction_metrics")
    op.drop_index(
        op.f("ix_advisor_marketplace_matches_organization_id_service_offering_id"),
        table_name="advisor_marketplace_matches",
    )
    op.drop_index(
        op.f("ix_advisor_marketplace_matches_organization_id_client_id"),
        table_name="advisor_marketplace_matches",
    )
    op.drop_index(
        op.f("ix_advisor_marketplace_matches_organization_id_advisor_profile_id"),
        table_name="advisor_marketplace_matches",
    )
    op.drop_table("advisor_marketplace_matches")
    op.drop_index(
        op.f("ix_team_member_permissions_permission_id"), table_name="team_member_permissions"
    )
    op.drop_index(
        op.f("ix_team_member_permissions_organization_id_granted_by_id"),
        table_name="team_member_permissions",
    )
    op.drop_table("team_member_permissions")
    op.drop_index(
        op.f("ix_service_offerings_organization_id_rate_card_id"), table_name="service_offerings"
    )
    op.drop_index(
        op.f("ix_service_offerings_organization_id_advisor_profile_id"),
        table_name="service_offerings",
    )
    op.drop_table("service_offerings")
    op.drop_index(
        op.f("ix_report_schedules_organization_id_template_id"), table_name="report_schedules"
    )
    op.drop_index(
        op.f("ix_report_schedules_organization_id_created_by_id"), table_name="report_schedules"
    )
    op.drop_index(
        op.f("ix_report_schedules_organization_id_client_id"), table_name="report_schedules"
    )
    op.drop_table("report_schedules")
    op.drop_index(op.f("ix_engagements_organization_id_workflow_id"), table_name="engagements")
    op.drop_index(op.f("ix_engagements_organization_id_rate_card_id"), table_name="engagements")
    op.drop_index(op.f("ix_engagements_organization_id_created_by_id"), table_name="engagements")
    op.drop_index(op.f("ix_engagements_organization_id_client_id"), table_name="engagements")
    op.drop_index(op.f("ix_engagements_organization_id_assigned_to_id"), table_name="engagements")
    op.drop_table("engagements")
    op.drop_index(op.f("ix_documents_organization_id_uploaded_by"), table_name="documents")
    op.drop_index(op.f("ix_documents_organization_id_parent_document_id"), table_name="documents")
    op.drop_index(op.f("ix_documents_organization_id_client_id"), table_name="documents")
    op.drop_table("documents")
    op.drop_index(
        op.f("ix_client_portal_access_organization_id_granted_by_id"),
        table_name="client_portal_access",
    )
    op.drop_index(
        op.f("ix_client_portal_access_organization_id_client_id"), table_name="client_portal_access"
    )
    op.drop_table("client_portal_access")
    op.drop_index(
        op.f("ix_client_contacts_organization_id_client_id"), table_name="client_contacts"
    )
    op.drop_table("client_contacts")
    op.drop_index(op.f("ix_workflows_organization_id_created_by"), table_name="workflows")
    op.drop_table("workflows")
    op.drop_index(
        op.f("ix_workflow_templates_organization_id_created_by_id"), table_name="workflow_templates"
    )
    op.drop_table("workflow_templates")
    op.drop_index(op.f("ix_user_sessions_organization_id_user_id"), table_name="user_sessions")
    op.drop_table("user_sessions")
    op.drop_index(op.f("ix_team_members_organization_id_manager_id"), table_name="team_members")
    op.drop_table("team_members")
    op.drop_index(
        op.f("ix_report_templates_organization_id_created_by_id"), table_name="report_templates"
    )
    op.drop_table("report_templates")
    op.drop_index(
        op.f("ix_quickbooks_tokens_organization_id_connected_by_id"), table_name="quickbooks_tokens"
    )
    op.drop_table("quickbooks_tokens")
    op.drop_index(
        op.f("ix_quickbooks_syncs_organization_id_triggered_by_id"), table_name="quickbooks_syncs"
    )
    op.drop_table("quickbooks_syncs")
    op.drop_index(op.f("ix_clients_organization_id_assigned_partner_id"), table_name="clients")
    op.drop_table("clients")
    op.drop_index(op.f("ix_auth_events_organization_id_user_id"), table_name="auth_events")
    op.drop_table("auth_events")
    op.drop_index(op.f("ix_auth_attempts_organization_id_user_id"), table_name="auth_attempts")
    op.drop_table("auth_attempts")
    op.drop_index(op.f("ix_api_keys_organization_id_created_by_id"), table_name="api_keys")
    op.drop_table("api_keys")
    op.drop_table("advisor_profiles")
    op.drop_table("users")
    op.drop_table("subscriptions")
    op.drop_table("quickbooks_webhook_events")
    op.drop_table("engagement_rate_cards")
    op.drop_table("audit_logs")
    op.drop_table("permissions")
    op.drop_index(op.f("ix_organizations_parent_organization_id"), table_name="organizations")
    op.drop_table("organizations")

    for extension in reversed(EXTENSIONS):
        op.execute(sa.text(f"DROP EXTENSION IF EXISTS {extension}"))
