"""Team and permissions: team members, the global permission catalog, and grants between them."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Numeric,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from advisoros_db.schema.base import Base
from advisoros_db.schema.columns import (
    Keyed,
    Money,
    Tenant,
    Timestamped,
    args,
    between,
    one_of,
    tenant_key,
    tenant_ref,
)


class Department(enum.StrEnum):
    TAX = "tax"
    AUDIT = "audit"
    ADVISORY = "advisory"
    BOOKKEEPING = "bookkeeping"
    PAYROLL = "payroll"
    ADMINISTRATION = "administration"


class PermissionScope(enum.StrEnum):
    ORGANIZATION = "organization"
    CLIENT = "client"
    ENGAGEMENT = "engagement"


class TeamMember(Keyed, Tenant, Timestamped, Base):
    """A user's staff profile in the firm: department, title, rate, capacity."""

    __tablename__ = "team_members"
    __table_args__ = args(
        tenant_key(),
        # A team profile is meaningless without its user; one profile per user.
        tenant_ref("user_id", "users", ondelete="CASCADE", index=False),
        UniqueConstraint("organization_id", "user_id"),
        tenant_ref("manager_id", "team_members", ondelete="SET NULL"),
        one_of("department", Department),
        between("capacity_hours_per_week", 0, 80),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    manager_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    department: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    hourly_rate: Mapped[Decimal | None] = mapped_column(Money)
    capacity_hours_per_week: Mapped[Decimal] = mapped_column(Numeric(5, 2), server_default="40")
    specializations: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'::text[]")
    )
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    hired_on: Mapped[dt.date | None] = mapped_column(Date)


class Permission(Keyed, Timestamped, Base):
    """A named capability (e.g. `invoices.approve`). Global: the same catalog for every firm."""

    __tablename__ = "permissions"
    __table_args__ = (
        UniqueConstraint("key"),
        one_of("scope", PermissionScope),
    )

    key: Mapped[str] = mapped_column(Text)
    resource: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text, server_default="organization")
    description: Mapped[str | None] = mapped_column(Text)


class TeamMemberPermission(Keyed, Tenant, Base):
    """A permission granted to a team member, optionally limited by conditions."""

    __tablename__ = "team_member_permissions"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("team_member_id", "team_members", ondelete="CASCADE", index=False),
        UniqueConstraint("organization_id", "team_member_id", "permission_id"),
        tenant_ref("granted_by_id", "users", ondelete="SET NULL"),
    )

    team_member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    # The catalog is global, so this is a plain key; retiring a permission revokes its grants.
    permission_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("permissions.id", ondelete="CASCADE"), index=True
    )
    granted_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    granted_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
