"""Document collaboration: annotations, comments, shares, and live editing sessions."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import Boolean, DateTime, Integer, Text, UniqueConstraint, Uuid, text
from sqlalchemy.dialects.postgresql import CITEXT, JSONB
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
from advisoros_db.schema.document_keys import DOCUMENT_KEYS


class AnnotationType(enum.StrEnum):
    HIGHLIGHT = "highlight"
    NOTE = "note"
    REDACTION = "redaction"
    SIGNATURE = "signature"
    STAMP = "stamp"


class SharePermission(enum.StrEnum):
    VIEW = "view"
    COMMENT = "comment"
    EDIT = "edit"
    DOWNLOAD = "download"


class SessionStatus(enum.StrEnum):
    ACTIVE = "active"
    IDLE = "idle"
    ENDED = "ended"


class DocumentAnnotation(Keyed, Tenant, Timestamped, SoftDeleted, Base):
    """A mark on a page of a document."""

    __tablename__ = "document_annotations"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("document_id", DOCUMENT_KEYS, ondelete="CASCADE"),
        tenant_ref("created_by", "users", ondelete="CASCADE"),
        one_of("type", AnnotationType),
        non_negative("page"),
    )

    document_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    type: Mapped[str] = mapped_column(Text)
    page: Mapped[int] = mapped_column(Integer, server_default="0")
    position: Mapped[dict[str, Any]] = mapped_column(JSONB)
    content: Mapped[str | None] = mapped_column(Text)
    color: Mapped[str | None] = mapped_column(Text)


class DocumentComment(Keyed, Tenant, Timestamped, SoftDeleted, Base):
    """A threaded comment on a document."""

    __tablename__ = "document_comments"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("document_id", DOCUMENT_KEYS, ondelete="CASCADE"),
        tenant_ref("author_id", "users", ondelete="CASCADE"),
        tenant_ref("parent_comment_id", "document_comments", ondelete="CASCADE"),
    )

    document_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    author_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    parent_comment_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    content: Mapped[str] = mapped_column(Text)
    is_resolved: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class DocumentShare(Keyed, Tenant, Timestamped, Base):
    """A link or grant that exposes a document to a user or an outside email."""

    __tablename__ = "document_shares"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("document_id", DOCUMENT_KEYS, ondelete="CASCADE"),
        tenant_ref("shared_by", "users", ondelete="CASCADE"),
        tenant_ref("shared_with_user_id", "users", ondelete="CASCADE"),
        one_of("permission", SharePermission),
        UniqueConstraint("organization_id", "token_hash"),
    )

    document_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    shared_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    shared_with_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    shared_with_email: Mapped[str | None] = mapped_column(CITEXT)
    permission: Mapped[str] = mapped_column(Text, server_default="view")
    token_hash: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    access_count: Mapped[int] = mapped_column(Integer, server_default="0")


class DocumentSession(Keyed, Tenant, Timestamped, Base):
    """A user's live collaboration session on a document (cursor, tool state, heartbeat)."""

    __tablename__ = "document_sessions"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("document_id", DOCUMENT_KEYS, ondelete="CASCADE"),
        tenant_ref("user_id", "users", ondelete="CASCADE"),
        one_of("status", SessionStatus),
    )

    document_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    session_token: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default="active")
    socket_id: Mapped[str | None] = mapped_column(Text)
    cursor_position: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    tool_state: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    started_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )
    last_seen_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
