"""Operations (revision 0002): background job runs, API usage metrics, outgoing webhook deliveries."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    SmallInteger,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import INET, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from advisoros_db.schema.base import Base
from advisoros_db.schema.columns import (
    UUIDV7,
    Keyed,
    Tenant,
    Timestamped,
    args,
    between,
    non_negative,
    one_of,
    tenant_key,
    tenant_ref,
)


class JobStatus(enum.StrEnum):
    WAITING = "waiting"
    ACTIVE = "active"
    COMPLETED = "completed"
    FAILED = "failed"
    DELAYED = "delayed"
    CANCELLED = "cancelled"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERING = "delivering"
    DELIVERED = "delivered"
    FAILED = "failed"
    ABANDONED = "abandoned"


class HttpMethod(enum.StrEnum):
    GET = "GET"
    POST = "POST"
    PUT = "PUT"
    PATCH = "PATCH"
    DELETE = "DELETE"
    HEAD = "HEAD"
    OPTIONS = "OPTIONS"


class JobExecution(Base):
    """One run of a queued background job: status, attempts, timings, worker and resource use.

    organization_id is NULL for system jobs (partition maintenance, cleanup); row-level security
    still applies, so the application role only ever sees its own tenant's jobs.
    """

    __tablename__ = "job_executions"
    __table_args__ = (
        UniqueConstraint("organization_id", "id"),
        one_of("status", JobStatus),
        non_negative("attempts"),
        non_negative("max_attempts"),
        between("progress", 0, 100),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, server_default=UUIDV7)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("organizations.id", ondelete="CASCADE")
    )
    queue: Mapped[str] = mapped_column(Text)
    job_name: Mapped[str] = mapped_column(Text)
    job_key: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default="waiting")
    priority: Mapped[int] = mapped_column(Integer, server_default="0")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    max_attempts: Mapped[int] = mapped_column(Integer, server_default="3")
    progress: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error_message: Mapped[str | None] = mapped_column(Text)
    error_stack: Mapped[str | None] = mapped_column(Text)
    worker_id: Mapped[str | None] = mapped_column(Text)
    queued_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    cpu_ms: Mapped[int | None] = mapped_column(Integer)
    memory_bytes: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class ApiUsageMetric(Keyed, Tenant, Base):
    """One API request: who, which endpoint, how long, and the rate-limit window it counted in."""

    __tablename__ = "api_usage_metrics"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("user_id", "users", ondelete="SET NULL"),
        tenant_ref("api_key_id", "api_keys", ondelete="SET NULL"),
        one_of("method", HttpMethod),
        between("status_code", 100, 599),
        non_negative("response_time_ms"),
    )

    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    endpoint: Mapped[str] = mapped_column(Text)
    method: Mapped[str] = mapped_column(Text)
    status_code: Mapped[int] = mapped_column(SmallInteger)
    response_time_ms: Mapped[int] = mapped_column(Integer)
    request_bytes: Mapped[int | None] = mapped_column(Integer)
    response_bytes: Mapped[int | None] = mapped_column(Integer)
    db_query_count: Mapped[int | None] = mapped_column(Integer)
    db_time_ms: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    cache_hits: Mapped[int | None] = mapped_column(Integer)
    cache_misses: Mapped[int | None] = mapped_column(Integer)
    rate_limit_key: Mapped[str | None] = mapped_column(Text)
    rate_limit_remaining: Mapped[int | None] = mapped_column(Integer)
    rate_limited: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    ip_address: Mapped[str | None] = mapped_column(INET)
    user_agent: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class WebhookDelivery(Keyed, Tenant, Timestamped, Base):
    """One outgoing webhook event and its delivery attempts (exponential backoff, signed payload)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = args(
        tenant_key(),
        UniqueConstraint("organization_id", "event_id", "endpoint_url"),
        one_of("status", DeliveryStatus),
        non_negative("attempt_count"),
        non_negative("max_attempts"),
        between("response_status", 100, 599),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    event_type: Mapped[str] = mapped_column(Text)
    endpoint_url: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    signature: Mapped[str] = mapped_column(Text)
    signature_algorithm: Mapped[str] = mapped_column(Text, server_default="hmac-sha256")
    status: Mapped[str] = mapped_column(Text, server_default="pending")
    attempt_count: Mapped[int] = mapped_column(Integer, server_default="0")
    max_attempts: Mapped[int] = mapped_column(Integer, server_default="8")
    backoff_base_s: Mapped[int] = mapped_column(Integer, server_default="30")
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    response_status: Mapped[int | None] = mapped_column(SmallInteger)
    response_body: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    attempts_log: Mapped[list[Any]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
