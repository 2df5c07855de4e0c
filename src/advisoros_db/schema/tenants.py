"""Tenant and user domain: organizations (the tenant root), users, clients and client contacts."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Numeric,
    SmallInteger,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, CITEXT, JSONB, TSVECTOR
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
    one_of,
    tenant_key,
    tenant_ref,
)


class SubscriptionTier(enum.StrEnum):
    TRIAL = "trial"
    STARTER = "starter"
    PROFESSIONAL = "professional"
    ENTERPRISE = "enterprise"


class UserRole(enum.StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    CPA = "cpa"
    STAFF = "staff"
    FRACTIONAL_CFO = "fractional_cfo"
    CONTROLLER = "controller"
    SENIOR_ADVISOR = "senior_advisor"
    STAFF_ACCOUNTANT = "staff_accountant"
    BOOKKEEPER = "bookkeeper"
    CLIENT_OWNER = "client_owner"
    CLIENT_FINANCE = "client_finance"
    QUALITY_REVIEWER = "quality_reviewer"
    COMPLIANCE_OFFICER = "compliance_officer"


class ClientStatus(enum.StrEnum):
    PROSPECT = "prospect"
    ACTIVE = "active"
    INACTIVE = "inactive"
    ARCHIVED = "archived"


class RiskLevel(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class BusinessType(enum.StrEnum):
    SOLE_PROPRIETORSHIP = "sole_proprietorship"
    PARTNERSHIP = "partnership"
    LLC = "llc"
    S_CORP = "s_corp"
    C_CORP = "c_corp"
    NONPROFIT = "nonprofit"
    TRUST = "trust"
    INDIVIDUAL = "individual"


class Organization(Keyed, Timestamped, SoftDeleted, Base):
    """A CPA firm: the tenant. Every tenant table's rows belong to exactly one organization."""

    __tablename__ = "organizations"
    __table_args__ = (
        UniqueConstraint("slug"),
        one_of("subscription_tier", SubscriptionTier),
        between("commission_rate", 0, 1),
        currency_code("default_currency"),
        CheckConstraint("slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'", name="slug_format"),
    )

    name: Mapped[str] = mapped_column(Text)
    slug: Mapped[str] = mapped_column(Text)
    subscription_tier: Mapped[str] = mapped_column(Text, server_default="trial")
    stripe_customer_id: Mapped[str | None] = mapped_column(Text)
    is_marketplace_enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    marketplace_type: Mapped[str | None] = mapped_column(Text)
    commission_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    # A white-label partner's parent; the child firm outlives a departing parent.
    parent_organization_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    timezone: Mapped[str] = mapped_column(Text, server_default="UTC")
    default_currency: Mapped[str] = mapped_column(CurrencyCode, server_default="USD")
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))


class User(Keyed, Tenant, Timestamped, SoftDeleted, Base):
    """A person who signs in: firm staff, advisors, and client portal users."""

    __tablename__ = "users"
    __table_args__ = args(
        tenant_key(),
        UniqueConstraint("organization_id", "email"),
        one_of("role", UserRole),
    )

    email: Mapped[str] = mapped_column(CITEXT)
    name: Mapped[str] = mapped_column(Text)
    password_hash: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text, server_default="staff")
    is_advisor: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    is_client_user: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    mfa_enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Client(Keyed, Tenant, Timestamped, SoftDeleted, Base):
    """A business or person the firm serves."""

    __tablename__ = "clients"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("assigned_partner_id", "users", ondelete="SET NULL"),
        one_of("status", ClientStatus),
        one_of("risk_level", RiskLevel),
        one_of("business_type", BusinessType),
        currency_code(),
        between("fiscal_year_end_month", 1, 12),
        CheckConstraint("annual_revenue >= 0", name="annual_revenue_non_negative"),
    )

    business_name: Mapped[str] = mapped_column(Text)
    legal_name: Mapped[str | None] = mapped_column(Text)
    tax_id: Mapped[str | None] = mapped_column(Text)
    quickbooks_id: Mapped[str | None] = mapped_column(Text)
    primary_contact_email: Mapped[str | None] = mapped_column(CITEXT)
    primary_contact_name: Mapped[str | None] = mapped_column(Text)
    primary_contact_phone: Mapped[str | None] = mapped_column(Text)
    business_address: Mapped[str | None] = mapped_column(Text)
    mailing_address: Mapped[str | None] = mapped_column(Text)
    business_type: Mapped[str | None] = mapped_column(Text)
    industry: Mapped[str | None] = mapped_column(Text)
    website: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default="active")
    risk_level: Mapped[str] = mapped_column(Text, server_default="medium")
    annual_revenue: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(CurrencyCode, server_default="USD")
    fiscal_year_end_month: Mapped[int] = mapped_column(SmallInteger, server_default="12")
    assigned_partner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    financial_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))
    search_vector: Mapped[str | None] = mapped_column(TSVECTOR, search_vectors.computed("clients"))


class ClientContact(Keyed, Tenant, Timestamped, SoftDeleted, Base):
    """A person at a client (owner, bookkeeper, signer) beyond the primary contact."""

    __tablename__ = "client_contacts"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("client_id", "clients", ondelete="CASCADE", index=False),
        UniqueConstraint("organization_id", "client_id", "email"),
    )

    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    name: Mapped[str] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(CITEXT)
    phone: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    is_primary: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    can_sign: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
