"""Marketplace and advisors: rate cards, advisor profiles, offerings, matches, ratings, revenue shares,
and client portal access."""

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
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

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


class PricingModel(enum.StrEnum):
    HOURLY = "hourly"
    FIXED = "fixed"
    RETAINER = "retainer"
    VALUE_BASED = "value_based"


class Availability(enum.StrEnum):
    AVAILABLE = "available"
    LIMITED = "limited"
    UNAVAILABLE = "unavailable"


class PortalAccessLevel(enum.StrEnum):
    VIEW = "view"
    UPLOAD = "upload"
    FULL = "full"


class MatchStatus(enum.StrEnum):
    SUGGESTED = "suggested"
    CONTACTED = "contacted"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"


class RevenueShareStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    PAID = "paid"
    DISPUTED = "disputed"


class EngagementRateCard(Keyed, Tenant, Timestamped, SoftDeleted, Base):
    """A firm's price list for a kind of service."""

    __tablename__ = "engagement_rate_cards"
    __table_args__ = args(
        tenant_key(),
        one_of("pricing_model", PricingModel),
        currency_code(),
        non_negative("hourly_rate"),
        non_negative("fixed_fee"),
        non_negative("monthly_retainer"),
        CheckConstraint(
            "effective_to IS NULL OR effective_to >= effective_from", name="effective_dates"
        ),
    )

    name: Mapped[str] = mapped_column(Text)
    service_type: Mapped[str] = mapped_column(Text)
    pricing_model: Mapped[str] = mapped_column(Text)
    hourly_rate: Mapped[Decimal | None] = mapped_column(Money)
    fixed_fee: Mapped[Decimal | None] = mapped_column(Money)
    monthly_retainer: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(CurrencyCode, server_default="USD")
    effective_from: Mapped[dt.date] = mapped_column(Date, server_default=text("CURRENT_DATE"))
    effective_to: Mapped[dt.date | None] = mapped_column(Date)
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    terms: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))


class AdvisorProfile(Keyed, Tenant, Timestamped, Base):
    """An advisor's marketplace profile: expertise, rates, availability."""

    __tablename__ = "advisor_profiles"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("user_id", "users", ondelete="CASCADE", index=False),
        UniqueConstraint("organization_id", "user_id"),
        one_of("availability", Availability),
        currency_code(),
        between("rating", 0, 5),
        non_negative("hourly_rate"),
        non_negative("years_experience"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    headline: Mapped[str | None] = mapped_column(Text)
    bio: Mapped[str | None] = mapped_column(Text)
    industries: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))
    specializations: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'::text[]")
    )
    certifications: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'::text[]")
    )
    years_experience: Mapped[int | None] = mapped_column(SmallInteger)
    hourly_rate: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(CurrencyCode, server_default="USD")
    availability: Mapped[str] = mapped_column(Text, server_default="available")
    max_clients: Mapped[int | None] = mapped_column(Integer)
    rating: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))
    review_count: Mapped[int] = mapped_column(Integer, server_default="0")
    is_listed: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    is_verified: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class ClientPortalAccess(Keyed, Tenant, Timestamped, Base):
    """Grants a client-side user access to one client's portal."""

    __tablename__ = "client_portal_access"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("client_id", "clients", ondelete="CASCADE"),
        tenant_ref("user_id", "users", ondelete="CASCADE", index=False),
        UniqueConstraint("organization_id", "user_id", "client_id"),
        tenant_ref("granted_by_id", "users", ondelete="SET NULL"),
        one_of("access_level", PortalAccessLevel),
    )

    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    granted_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    access_level: Mapped[str] = mapped_column(Text, server_default="view")
    permissions: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_access_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ServiceOffering(Keyed, Tenant, Timestamped, SoftDeleted, Base):
    """A packaged service a firm or advisor sells in the marketplace."""

    __tablename__ = "service_offerings"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("advisor_profile_id", "advisor_profiles", ondelete="CASCADE"),
        tenant_ref("rate_card_id", "engagement_rate_cards", ondelete="SET NULL"),
        one_of("pricing_model", PricingModel),
        currency_code(),
        non_negative("base_price"),
    )

    advisor_profile_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    rate_card_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(Text)
    pricing_model: Mapped[str] = mapped_column(Text)
    base_price: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(CurrencyCode, server_default="USD")
    deliverables: Mapped[list[Any]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    industries: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


class AdvisorMarketplaceMatch(Keyed, Tenant, Timestamped, Base):
    """A suggested pairing of a client with an advisor, with its score and outcome."""

    __tablename__ = "advisor_marketplace_matches"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("client_id", "clients", ondelete="CASCADE"),
        tenant_ref("advisor_profile_id", "advisor_profiles", ondelete="CASCADE"),
        tenant_ref("service_offering_id", "service_offerings", ondelete="SET NULL"),
        one_of("status", MatchStatus),
        between("match_score", 0, 1),
    )

    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    advisor_profile_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    service_offering_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    match_score: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    match_reasons: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    status: Mapped[str] = mapped_column(Text, server_default="suggested")
    responded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ClientSatisfactionMetric(Keyed, Tenant, Timestamped, Base):
    """A client's rating of an engagement or advisor (NPS and a 1-5 score)."""

    __tablename__ = "client_satisfaction_metrics"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("client_id", "clients", ondelete="CASCADE"),
        tenant_ref("engagement_id", "engagements", ondelete="SET NULL"),
        tenant_ref("advisor_id", "users", ondelete="SET NULL"),
        tenant_ref("rated_by_id", "users", ondelete="SET NULL"),
        between("overall_score", 1, 5),
        between("nps_score", 0, 10),
    )

    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    engagement_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    advisor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    rated_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    overall_score: Mapped[int] = mapped_column(SmallInteger)
    nps_score: Mapped[int | None] = mapped_column(SmallInteger)
    scores: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    feedback: Mapped[str | None] = mapped_column(Text)
    period_start: Mapped[dt.date | None] = mapped_column(Date)
    period_end: Mapped[dt.date | None] = mapped_column(Date)


class RevenueShare(Keyed, Tenant, Timestamped, Base):
    """The advisor's and platform's cut of an invoice's revenue."""

    __tablename__ = "revenue_shares"
    __table_args__ = args(
        tenant_key(),
        # Commission records are accounting history: keep the advisor and client while they exist.
        tenant_ref("advisor_id", "users", ondelete="NO ACTION"),
        tenant_ref("client_id", "clients", ondelete="NO ACTION"),
        tenant_ref("engagement_id", "engagements", ondelete="SET NULL"),
        tenant_ref("invoice_id", "invoices", ondelete="SET NULL"),
        one_of("status", RevenueShareStatus),
        currency_code(),
        non_negative("gross_amount"),
        non_negative("advisor_amount"),
        non_negative("platform_amount"),
        between("advisor_percentage", 0, 1),
    )

    advisor_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    engagement_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    gross_amount: Mapped[Decimal] = mapped_column(Money)
    advisor_percentage: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    advisor_amount: Mapped[Decimal] = mapped_column(Money)
    platform_amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(CurrencyCode, server_default="USD")
    status: Mapped[str] = mapped_column(Text, server_default="pending")
    period_start: Mapped[dt.date | None] = mapped_column(Date)
    period_end: Mapped[dt.date | None] = mapped_column(Date)
    paid_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
