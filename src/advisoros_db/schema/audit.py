"""The audit_logs table: append-only for the application role (its own module: it becomes
partitioned by month in the partitioning revision)."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    Text,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import INET, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from advisoros_db.schema.base import Base
from advisoros_db.schema.columns import UUIDV7, Keyed, Tenant, one_of, tenant_key


class AuditAction(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    RESTORE = "restore"
    VIEW = "view"
    EXPORT = "export"
    LOGIN = "login"
    LOGOUT = "logout"
    SHARE = "share"
    APPROVE = "approve"
    REJECT = "reject"


class AuditLog(Base):
    """Who did what to which entity, with the values before and after.

    No foreign key on user_id or entity_id: the trail must outlive the users and rows it names.
    """

    __tablename__ = "audit_logs"
    # Partitioned by month (0005_partition_swap): every unique key includes created_at.
    __table_args__ = (
        UniqueConstraint(
            "organization_id", "id", "created_at", name="uq_audit_logs_organization_id_id"
        ),
        one_of("action", AuditAction),
        {"postgresql_partition_by": "RANGE (created_at)"},
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, server_default=UUIDV7)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organizations.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    entity_type: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    action: Mapped[str] = mapped_column(Text)
    old_values: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    new_values: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONB)
    ip_address: Mapped[str | None] = mapped_column(INET)
    user_agent: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), primary_key=True
    )
    # The hash chain per organization (0012_keys_audit_chain): set by the database, never by the
    # application; `advisoros-db audit verify` proves it. For the application role the database also
    # sets created_at (the transaction's time) and user_id (its app.user_id).
    chain_seq: Mapped[int | None] = mapped_column(BigInteger)
    prev_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    row_hash: Mapped[bytes | None] = mapped_column(LargeBinary)


class AuditLogRollup(Keyed, Tenant, Base):
    """Audit events of one organization on one UTC day, per action and entity type: the counts of
    a closed month, written by `advisoros_db.audit.rollups` when the month closes (docs/audit.md).
    Read through audit_activity(), which adds the live rows of months not closed. Read-only for the
    application role."""

    __tablename__ = "audit_log_rollups"
    __table_args__ = (
        tenant_key(),
        UniqueConstraint("organization_id", "day", "action", "entity_type"),
        Index("ix_audit_log_rollups_day", "day"),
    )

    day: Mapped[dt.date] = mapped_column(Date)
    action: Mapped[str] = mapped_column(Text)
    entity_type: Mapped[str] = mapped_column(Text)
    events: Mapped[int] = mapped_column(BigInteger)
