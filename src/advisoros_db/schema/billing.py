"""Billing: invoices and their line items, payments received, and the firm's own subscription."""

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
    Numeric,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
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
    currency_code,
    non_negative,
    one_of,
    tenant_key,
    tenant_ref,
)


class InvoiceStatus(enum.StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    VIEWED = "viewed"
    PARTIAL = "partial"
    PAID = "paid"
    OVERDUE = "overdue"
    VOID = "void"
    WRITTEN_OFF = "written_off"


class PaymentMethod(enum.StrEnum):
    CARD = "card"
    ACH = "ach"
    CHECK = "check"
    WIRE = "wire"
    CASH = "cash"
    OTHER = "other"


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"


class SubscriptionStatus(enum.StrEnum):
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELLED = "cancelled"
    UNPAID = "unpaid"


class BillingInterval(enum.StrEnum):
    MONTH = "month"
    YEAR = "year"


class Invoice(Keyed, Tenant, Timestamped, SoftDeleted, Base):
    """A bill to a client. Money is numeric(14,4) with an ISO 4217 currency."""

    __tablename__ = "invoices"
    __table_args__ = args(
        tenant_key(),
        UniqueConstraint("organization_id", "invoice_number"),
        # Invoices are accounting records: a client with invoices is archived, never deleted.
        tenant_ref("client_id", "clients", ondelete="NO ACTION", index=False),
        tenant_ref("engagement_id", "engagements", ondelete="SET NULL"),
        tenant_ref("created_by_id", "users", ondelete="SET NULL"),
        one_of("status", InvoiceStatus),
        currency_code(),
        non_negative("amount"),
        non_negative("amount_paid"),
        non_negative("tax_amount"),
        CheckConstraint("due_date >= issue_date", name="due_after_issue"),
    )

    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    engagement_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    invoice_number: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default="draft")
    issue_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    subtotal: Mapped[Decimal] = mapped_column(Money, server_default="0")
    tax_amount: Mapped[Decimal] = mapped_column(Money, server_default="0")
    discount_amount: Mapped[Decimal] = mapped_column(Money, server_default="0")
    amount: Mapped[Decimal] = mapped_column(Money)
    amount_paid: Mapped[Decimal] = mapped_column(Money, server_default="0")
    currency: Mapped[str] = mapped_column(CurrencyCode, server_default="USD")
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    terms: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    stripe_invoice_id: Mapped[str | None] = mapped_column(Text)
    quickbooks_invoice_id: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, server_default=text("'{}'::jsonb")
    )


class InvoiceLineItem(Keyed, Tenant, Timestamped, Base):
    """One billed line of an invoice: quantity x unit price."""

    __tablename__ = "invoice_line_items"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("invoice_id", "invoices", ondelete="CASCADE"),
        tenant_ref("service_offering_id", "service_offerings", ondelete="SET NULL"),
        non_negative("quantity"),
        non_negative("unit_price"),
    )

    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    service_offering_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    position: Mapped[int] = mapped_column(server_default="0")
    description: Mapped[str] = mapped_column(Text)
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 4), server_default="1")
    unit_price: Mapped[Decimal] = mapped_column(Money)
    amount: Mapped[Decimal] = mapped_column(Money)
    is_taxable: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class Payment(Keyed, Tenant, Timestamped, Base):
    """Money received against an invoice."""

    __tablename__ = "payments"
    __table_args__ = args(
        tenant_key(),
        # A payment is a ledger entry: its invoice cannot be deleted underneath it.
        tenant_ref("invoice_id", "invoices", ondelete="NO ACTION"),
        one_of("method", PaymentMethod),
        one_of("status", PaymentStatus),
        currency_code(),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(CurrencyCode, server_default="USD")
    method: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default="pending")
    received_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )
    reference: Mapped[str | None] = mapped_column(Text)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(Text)


class Subscription(Keyed, Tenant, Timestamped, Base):
    """The firm's AdvisorOS plan (one active per organization, enforced by a partial unique index)."""

    __tablename__ = "subscriptions"
    __table_args__ = args(
        tenant_key(),
        one_of("status", SubscriptionStatus),
        one_of("billing_interval", BillingInterval),
        currency_code(),
        non_negative("price"),
        non_negative("seats"),
    )

    plan_name: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default="trialing")
    billing_interval: Mapped[str] = mapped_column(Text, server_default="month")
    price: Mapped[Decimal] = mapped_column(Money, server_default="0")
    currency: Mapped[str] = mapped_column(CurrencyCode, server_default="USD")
    seats: Mapped[int] = mapped_column(server_default="1")
    stripe_subscription_id: Mapped[str | None] = mapped_column(Text)
    current_period_start: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    current_period_end: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    trial_ends_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    features: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
