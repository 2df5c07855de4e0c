"""Workflow and task management: workflows, engagements, tasks, notes and time entries."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Integer,
    Numeric,
    SmallInteger,
    Text,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from advisoros_db.schema import search_vectors
from advisoros_db.schema.base import Base
from advisoros_db.schema.columns import (
    CurrencyCode,
    Keyed,
    Money,
    SoftDeleted,
    Tenant,
    Timestamped,
    args,
    between,
    currency_code,
    non_negative,
    one_of,
    tenant_key,
    tenant_ref,
)


class WorkflowType(enum.StrEnum):
    TAX_PREPARATION = "tax_preparation"
    BOOKKEEPING = "bookkeeping"
    ONBOARDING = "onboarding"
    YEAR_END = "year_end"
    AUDIT = "audit"
    PAYROLL = "payroll"
    CUSTOM = "custom"


class EngagementType(enum.StrEnum):
    TAX_PREPARATION = "tax_preparation"
    BOOKKEEPING = "bookkeeping"
    ADVISORY = "advisory"
    CFO_SERVICES = "cfo_services"
    AUDIT = "audit"
    REVIEW = "review"
    COMPILATION = "compilation"
    PAYROLL = "payroll"


class EngagementStatus(enum.StrEnum):
    PLANNING = "planning"
    IN_PROGRESS = "in_progress"
    REVIEW = "review"
    COMPLETED = "completed"
    ON_HOLD = "on_hold"
    CANCELLED = "cancelled"


class TaskStatus(enum.StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    REVIEW = "review"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class NoteType(enum.StrEnum):
    GENERAL = "general"
    MEETING = "meeting"
    CALL = "call"
    REMINDER = "reminder"
    FOLLOW_UP = "follow_up"


class Workflow(Keyed, Tenant, Timestamped, SoftDeleted, Base):
    """A firm's configured sequence of steps (a checklist engagements follow)."""

    __tablename__ = "workflows"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("created_by", "users", ondelete="SET NULL"),
        one_of("type", WorkflowType),
    )

    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str] = mapped_column(Text)
    is_template: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    steps: Mapped[list[Any]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class Engagement(Keyed, Tenant, Timestamped, SoftDeleted, Base):
    """A piece of contracted work for a client (a tax return, monthly books, a CFO retainer)."""

    __tablename__ = "engagements"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("client_id", "clients", ondelete="CASCADE"),
        tenant_ref("assigned_to_id", "users", ondelete="SET NULL", index=False),
        tenant_ref("created_by_id", "users", ondelete="SET NULL"),
        tenant_ref("workflow_id", "workflows", ondelete="SET NULL"),
        tenant_ref("rate_card_id", "engagement_rate_cards", ondelete="SET NULL"),
        one_of("type", EngagementType),
        one_of("status", EngagementStatus),
        one_of("priority", Priority),
        between("tax_year", 1900, 2200),
        between("quarter", 1, 4),
        currency_code(),
        non_negative("estimated_hours"),
        non_negative("actual_hours"),
        CheckConstraint(
            "due_date IS NULL OR start_date IS NULL OR due_date >= start_date", name="dates_ordered"
        ),
    )

    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default="planning")
    priority: Mapped[str] = mapped_column(Text, server_default="normal")
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    tax_year: Mapped[int | None] = mapped_column(SmallInteger)
    quarter: Mapped[int | None] = mapped_column(SmallInteger)
    estimated_hours: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    actual_hours: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    hourly_rate: Mapped[Decimal | None] = mapped_column(Money)
    fixed_fee: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(CurrencyCode, server_default="USD")
    assigned_to_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    workflow_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    rate_card_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))


class Task(Keyed, Tenant, Timestamped, SoftDeleted, Base):
    """One unit of work inside an engagement, assigned to a user."""

    __tablename__ = "tasks"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("engagement_id", "engagements", ondelete="CASCADE", index=False),
        tenant_ref("assignee_id", "users", ondelete="SET NULL", index=False),
        tenant_ref("created_by_id", "users", ondelete="SET NULL"),
        tenant_ref("workflow_id", "workflows", ondelete="SET NULL"),
        tenant_ref("parent_task_id", "tasks", ondelete="CASCADE"),
        one_of("status", TaskStatus),
        one_of("priority", Priority),
        non_negative("estimated_hours"),
        non_negative("actual_hours"),
    )

    engagement_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    workflow_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    parent_task_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default="pending")
    priority: Mapped[str] = mapped_column(Text, server_default="normal")
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    estimated_hours: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    actual_hours: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    step_index: Mapped[int | None] = mapped_column(Integer)
    checklist: Mapped[list[Any]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))
    search_vector: Mapped[str | None] = mapped_column(TSVECTOR, search_vectors.computed("tasks"))


class Note(Keyed, Tenant, Timestamped, SoftDeleted, Base):
    """A free-text note on a client, an engagement or a task."""

    __tablename__ = "notes"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("client_id", "clients", ondelete="CASCADE", index=False),
        tenant_ref("engagement_id", "engagements", ondelete="CASCADE"),
        tenant_ref("task_id", "tasks", ondelete="CASCADE"),
        # A note is part of the client record: keep the author's account while notes exist.
        tenant_ref("author_id", "users", ondelete="NO ACTION"),
        one_of("note_type", NoteType),
        one_of("priority", Priority),
    )

    client_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    engagement_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    task_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    author_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    title: Mapped[str | None] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text)
    note_type: Mapped[str] = mapped_column(Text, server_default="general")
    priority: Mapped[str] = mapped_column(Text, server_default="normal")
    is_private: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    reminder_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))
    search_vector: Mapped[str | None] = mapped_column(TSVECTOR, search_vectors.computed("notes"))


class TimeEntry(Keyed, Tenant, Timestamped, SoftDeleted, Base):
    """Hours a user worked on an engagement (billable or not): the basis of hourly invoices."""

    __tablename__ = "time_entries"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("engagement_id", "engagements", ondelete="CASCADE"),
        tenant_ref("task_id", "tasks", ondelete="SET NULL"),
        # Billed time is financial history: a user with time entries is deactivated, not deleted.
        tenant_ref("user_id", "users", ondelete="NO ACTION"),
        tenant_ref("invoice_id", "invoices", ondelete="SET NULL"),
        currency_code(),
        CheckConstraint("hours > 0 AND hours <= 24", name="hours_range"),
    )

    engagement_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    task_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    work_date: Mapped[dt.date] = mapped_column(Date)
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    description: Mapped[str | None] = mapped_column(Text)
    is_billable: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    hourly_rate: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(CurrencyCode, server_default="USD")
