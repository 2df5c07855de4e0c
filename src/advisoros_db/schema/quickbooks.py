"""QuickBooks integration: the OAuth connection (tokens encrypted at rest), syncs, webhook events."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Integer,
    LargeBinary,
    SmallInteger,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from advisoros_db.schema.base import Base
from advisoros_db.schema.columns import (
    Keyed,
    SoftDeleted,
    Tenant,
    Timestamped,
    args,
    non_negative,
    one_of,
    tenant_key,
    tenant_ref,
)


class SyncType(enum.StrEnum):
    FULL = "full"
    INCREMENTAL = "incremental"
    CUSTOMERS = "customers"
    INVOICES = "invoices"
    ACCOUNTS = "accounts"
    TRANSACTIONS = "transactions"


class SyncStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class WebhookEventStatus(enum.StrEnum):
    RECEIVED = "received"
    PROCESSING = "processing"
    PROCESSED = "processed"
    FAILED = "failed"
    IGNORED = "ignored"


class QuickBooksToken(Keyed, Tenant, Timestamped, SoftDeleted, Base):
    """The firm's QuickBooks OAuth connection (one per organization).

    Tokens are stored only as AES-GCM ciphertext (`advisoros_db.token_crypto`); the plaintext never
    reaches the database or a log line.
    """

    __tablename__ = "quickbooks_tokens"
    __table_args__ = args(
        tenant_key(),
        UniqueConstraint("organization_id"),
        tenant_ref("connected_by_id", "users", ondelete="SET NULL"),
        non_negative("key_version"),
    )

    connected_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    realm_id: Mapped[str] = mapped_column(Text)
    access_token_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    refresh_token_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    key_version: Mapped[int] = mapped_column(SmallInteger, server_default="1")
    scope: Mapped[str | None] = mapped_column(Text)
    access_token_expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    refresh_token_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_refreshed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_sync_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


class QuickBooksSync(Keyed, Tenant, Timestamped, Base):
    """One synchronisation run with QuickBooks and its outcome."""

    __tablename__ = "quickbooks_syncs"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("triggered_by_id", "users", ondelete="SET NULL"),
        one_of("sync_type", SyncType),
        one_of("status", SyncStatus),
        non_negative("records_processed"),
        non_negative("records_failed"),
    )

    triggered_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    sync_type: Mapped[str] = mapped_column(Text)
    entity_type: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default="pending")
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    records_total: Mapped[int | None] = mapped_column(Integer)
    records_processed: Mapped[int] = mapped_column(Integer, server_default="0")
    records_failed: Mapped[int] = mapped_column(Integer, server_default="0")
    cursor: Mapped[str | None] = mapped_column(Text)
    error_message: Mapped[str | None] = mapped_column(Text)
    error_details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class QuickBooksWebhookEvent(Keyed, Tenant, Timestamped, Base):
    """A change notification from QuickBooks, deduplicated by its event id."""

    __tablename__ = "quickbooks_webhook_events"
    __table_args__ = args(
        tenant_key(),
        UniqueConstraint("organization_id", "event_id"),
        one_of("status", WebhookEventStatus),
        non_negative("retry_count"),
    )

    event_id: Mapped[str] = mapped_column(Text)
    realm_id: Mapped[str] = mapped_column(Text)
    event_type: Mapped[str] = mapped_column(Text)
    entity_name: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[str] = mapped_column(Text)
    operation: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(Text, server_default="received")
    retry_count: Mapped[int] = mapped_column(Integer, server_default="0")
    error_message: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    processed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
