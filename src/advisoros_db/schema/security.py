"""Authentication and access: sign-in attempts, security events, user sessions and API keys."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import Boolean, DateTime, Text, UniqueConstraint, Uuid, func, text
from sqlalchemy.dialects.postgresql import ARRAY, CITEXT, INET, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from advisoros_db.schema.base import Base
from advisoros_db.schema.columns import (
    Keyed,
    Tenant,
    Timestamped,
    args,
    one_of,
    tenant_key,
    tenant_ref,
)


class AuthMethod(enum.StrEnum):
    PASSWORD = "password"
    SSO = "sso"
    MAGIC_LINK = "magic_link"
    MFA = "mfa"
    API_KEY = "api_key"


class AuthEventType(enum.StrEnum):
    LOGIN = "login"
    LOGOUT = "logout"
    PASSWORD_CHANGE = "password_change"
    PASSWORD_RESET = "password_reset"
    MFA_ENABLED = "mfa_enabled"
    MFA_DISABLED = "mfa_disabled"
    ACCOUNT_LOCKED = "account_locked"
    ACCOUNT_UNLOCKED = "account_unlocked"
    ROLE_CHANGED = "role_changed"
    SUSPICIOUS_ACTIVITY = "suspicious_activity"


class Severity(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class AuthAttempt(Keyed, Tenant, Base):
    """One sign-in attempt on the firm's login page (the subdomain names the organization).

    user_id stays NULL for unknown emails; attempts are kept as security evidence when a user goes.
    """

    __tablename__ = "auth_attempts"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("user_id", "users", ondelete="SET NULL"),
        one_of("method", AuthMethod),
    )

    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    email: Mapped[str] = mapped_column(CITEXT)
    method: Mapped[str] = mapped_column(Text, server_default="password")
    success: Mapped[bool] = mapped_column(Boolean)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    ip_address: Mapped[str | None] = mapped_column(INET)
    user_agent: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class AuthEvent(Keyed, Tenant, Base):
    """A security-relevant account event (password change, MFA, lockout)."""

    __tablename__ = "auth_events"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("user_id", "users", ondelete="SET NULL"),
        one_of("event_type", AuthEventType),
        one_of("severity", Severity),
    )

    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    event_type: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(Text, server_default="info")
    description: Mapped[str | None] = mapped_column(Text)
    ip_address: Mapped[str | None] = mapped_column(INET)
    user_agent: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, server_default=text("'{}'::jsonb")
    )
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class UserSession(Keyed, Tenant, Timestamped, Base):
    """A signed-in browser session (only a hash of the session token is stored)."""

    __tablename__ = "user_sessions"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("user_id", "users", ondelete="CASCADE"),
        UniqueConstraint("organization_id", "token_hash"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    token_hash: Mapped[str] = mapped_column(Text)
    ip_address: Mapped[str | None] = mapped_column(INET)
    user_agent: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_active_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ApiKey(Keyed, Tenant, Timestamped, Base):
    """An integration's API key (stored as a hash; the prefix identifies it in logs)."""

    __tablename__ = "api_keys"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("created_by_id", "users", ondelete="SET NULL"),
        UniqueConstraint("organization_id", "key_hash"),
    )

    created_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    name: Mapped[str] = mapped_column(Text)
    key_prefix: Mapped[str] = mapped_column(Text)
    key_hash: Mapped[str] = mapped_column(Text)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))
    rate_limit_per_minute: Mapped[int] = mapped_column(server_default="600")
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
