"""Advanced workflow: templates, running workflow executions, their task executions, the work queue."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import Boolean, DateTime, Integer, Text, Uuid, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
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
from advisoros_db.schema.workflow import Priority, WorkflowType


class ExecutionStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class QueueItemStatus(enum.StrEnum):
    QUEUED = "queued"
    CLAIMED = "claimed"
    DONE = "done"
    FAILED = "failed"
    EXPIRED = "expired"


class WorkflowTemplate(Keyed, Tenant, Timestamped, SoftDeleted, Base):
    """A reusable workflow definition (system templates are copied into each firm)."""

    __tablename__ = "workflow_templates"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("created_by_id", "users", ondelete="SET NULL"),
        one_of("type", WorkflowType),
    )

    created_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    is_system: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    steps: Mapped[list[Any]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    requirements: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    estimated_duration_hours: Mapped[int | None] = mapped_column(Integer)
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))


class WorkflowExecution(Keyed, Tenant, Timestamped, Base):
    """One run of a workflow for a client or engagement."""

    __tablename__ = "workflow_executions"
    __table_args__ = args(
        tenant_key(),
        # A run keeps its history when its template or workflow is retired.
        tenant_ref("template_id", "workflow_templates", ondelete="SET NULL"),
        tenant_ref("workflow_id", "workflows", ondelete="SET NULL"),
        tenant_ref("client_id", "clients", ondelete="CASCADE"),
        tenant_ref("engagement_id", "engagements", ondelete="CASCADE"),
        tenant_ref("assigned_to_id", "users", ondelete="SET NULL"),
        tenant_ref("created_by_id", "users", ondelete="SET NULL"),
        one_of("status", ExecutionStatus),
        one_of("priority", Priority),
        between("progress", 0, 100),
    )

    template_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    workflow_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    client_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    engagement_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    assigned_to_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    name: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default="pending")
    priority: Mapped[str] = mapped_column(Text, server_default="normal")
    current_step: Mapped[int] = mapped_column(Integer, server_default="0")
    progress: Mapped[int] = mapped_column(Integer, server_default="0")
    context: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    scheduled_for: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    error_message: Mapped[str | None] = mapped_column(Text)


class TaskExecution(Keyed, Tenant, Timestamped, Base):
    """One step of a workflow execution, with its dependencies and outcome."""

    __tablename__ = "task_executions"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("workflow_execution_id", "workflow_executions", ondelete="CASCADE"),
        tenant_ref("task_id", "tasks", ondelete="SET NULL"),
        tenant_ref("assigned_to_id", "users", ondelete="SET NULL"),
        one_of("status", ExecutionStatus),
        non_negative("step_index"),
        non_negative("retry_count"),
    )

    workflow_execution_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    task_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    assigned_to_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    name: Mapped[str] = mapped_column(Text)
    step_index: Mapped[int] = mapped_column(Integer)
    task_type: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default="pending")
    depends_on: Mapped[list[int]] = mapped_column(
        ARRAY(Integer), server_default=text("'{}'::integer[]")
    )
    input: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    output: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    retry_count: Mapped[int] = mapped_column(Integer, server_default="0")
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    error_message: Mapped[str | None] = mapped_column(Text)


class TaskQueueItem(Keyed, Tenant, Timestamped, Base):
    """Automated work waiting for a worker (claimed with FOR UPDATE SKIP LOCKED)."""

    __tablename__ = "task_queue_items"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("task_execution_id", "task_executions", ondelete="CASCADE"),
        one_of("status", QueueItemStatus),
        non_negative("attempts"),
        non_negative("max_attempts"),
    )

    task_execution_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    queue: Mapped[str] = mapped_column(Text, server_default="default")
    kind: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default="queued")
    priority: Mapped[int] = mapped_column(Integer, server_default="0")
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    max_attempts: Mapped[int] = mapped_column(Integer, server_default="5")
    run_after: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )
    claimed_by: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
