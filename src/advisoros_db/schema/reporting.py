"""Reporting: report templates, generated reports, and report schedules."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, SmallInteger, Text, Uuid, text
from sqlalchemy.dialects.postgresql import ARRAY, CITEXT, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from advisoros_db.schema.base import Base
from advisoros_db.schema.columns import (
    Keyed,
    SoftDeleted,
    Tenant,
    Timestamped,
    args,
    between,
    non_negative,
    one_of,
    tenant_key,
    tenant_ref,
)


class ReportType(enum.StrEnum):
    FINANCIAL_STATEMENT = "financial_statement"
    PROFIT_AND_LOSS = "profit_and_loss"
    BALANCE_SHEET = "balance_sheet"
    CASH_FLOW = "cash_flow"
    TAX_SUMMARY = "tax_summary"
    AR_AGING = "ar_aging"
    BUDGET_VARIANCE = "budget_variance"
    CUSTOM = "custom"


class ReportStatus(enum.StrEnum):
    QUEUED = "queued"
    GENERATING = "generating"
    COMPLETED = "completed"
    FAILED = "failed"


class ReportFormat(enum.StrEnum):
    PDF = "pdf"
    XLSX = "xlsx"
    CSV = "csv"
    HTML = "html"


class ScheduleFrequency(enum.StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


class ReportTemplate(Keyed, Tenant, Timestamped, SoftDeleted, Base):
    """A firm's report layout and data sources."""

    __tablename__ = "report_templates"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("created_by_id", "users", ondelete="SET NULL"),
        one_of("report_type", ReportType),
    )

    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    report_type: Mapped[str] = mapped_column(Text)
    layout: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    data_sources: Mapped[list[Any]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    is_default: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class Report(Keyed, Tenant, Timestamped, SoftDeleted, Base):
    """A generated report file for a client and period."""

    __tablename__ = "reports"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("template_id", "report_templates", ondelete="SET NULL"),
        tenant_ref("client_id", "clients", ondelete="CASCADE"),
        tenant_ref("engagement_id", "engagements", ondelete="SET NULL"),
        tenant_ref("created_by_id", "users", ondelete="SET NULL"),
        one_of("report_type", ReportType),
        one_of("status", ReportStatus),
        one_of("format", ReportFormat),
        between("tax_year", 1900, 2200),
        non_negative("file_size"),
    )

    template_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    client_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    engagement_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    name: Mapped[str] = mapped_column(Text)
    report_type: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default="queued")
    format: Mapped[str] = mapped_column(Text, server_default="pdf")
    period_start: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    period_end: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    tax_year: Mapped[int | None] = mapped_column(SmallInteger)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    file_url: Mapped[str | None] = mapped_column(Text)
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    generated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    error_message: Mapped[str | None] = mapped_column(Text)


class ReportSchedule(Keyed, Tenant, Timestamped, Base):
    """Generates a template's report on a recurring schedule and emails it."""

    __tablename__ = "report_schedules"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("template_id", "report_templates", ondelete="CASCADE"),
        tenant_ref("client_id", "clients", ondelete="CASCADE"),
        tenant_ref("created_by_id", "users", ondelete="SET NULL"),
        one_of("frequency", ScheduleFrequency),
        one_of("format", ReportFormat),
    )

    template_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    client_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    name: Mapped[str] = mapped_column(Text)
    frequency: Mapped[str] = mapped_column(Text)
    cron_expression: Mapped[str | None] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(Text, server_default="UTC")
    format: Mapped[str] = mapped_column(Text, server_default="pdf")
    recipients: Mapped[list[str]] = mapped_column(
        ARRAY(CITEXT), server_default=text("'{}'::citext[]")
    )
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    last_run_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    next_run_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
