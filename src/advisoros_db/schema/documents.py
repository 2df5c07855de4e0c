"""The documents table (its own module: the partitioning revision turns it into a partitioned table)."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    Integer,
    SmallInteger,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
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
    tenant_ref,
)
from advisoros_db.schema.document_keys import DOCUMENT_KEYS
from advisoros_db.schema.relations import parent_of

if TYPE_CHECKING:
    from advisoros_db.schema.tenants import Client


class DocumentCategory(enum.StrEnum):
    TAX_RETURN = "tax_return"
    FINANCIAL_STATEMENT = "financial_statement"
    RECEIPT = "receipt"
    INVOICE = "invoice"
    BANK_STATEMENT = "bank_statement"
    W2 = "w2"
    FORM_1099 = "1099"
    K1 = "k1"
    PAYROLL = "payroll"
    CONTRACT = "contract"
    CORRESPONDENCE = "correspondence"
    OTHER = "other"


class DocumentStatus(enum.StrEnum):
    UPLOADED = "uploaded"
    PROCESSING = "processing"
    READY = "ready"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    ARCHIVED = "archived"


class OcrStatus(enum.StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    MANUAL_REVIEW = "manual_review"


class AccessLevel(enum.StrEnum):
    ORGANIZATION = "organization"
    CLIENT = "client"
    RESTRICTED = "restricted"


class Document(Keyed, Tenant, Timestamped, SoftDeleted, Base):
    """An uploaded file of a client, with OCR results and review state."""

    __tablename__ = "documents"
    # Partitioned by tax year (0005_partition_swap). No primary key in the database (tax_year, in
    # every unique key of a partitioned table, may be NULL): the tenant key includes tax_year with
    # NULLS NOT DISTINCT, and documents_keys keeps ids unique and is what foreign keys into
    # documents reference. The ORM still identifies a document by id.
    __table_args__ = args(
        UniqueConstraint(
            "organization_id",
            "id",
            "tax_year",
            name="uq_documents_organization_id_id",
            postgresql_nulls_not_distinct=True,
        ),
        # A client's documents go with the client (retention is handled before offboarding).
        tenant_ref("client_id", "clients", ondelete="CASCADE", index=False),
        # Documents are evidence: the uploader's account cannot be deleted while they exist.
        tenant_ref("uploaded_by", "users", ondelete="NO ACTION"),
        tenant_ref("parent_document_id", DOCUMENT_KEYS, ondelete="SET NULL"),
        one_of("category", DocumentCategory),
        one_of("status", DocumentStatus),
        one_of("ocr_status", OcrStatus),
        one_of("access_level", AccessLevel),
        between("ocr_confidence", 0, 1),
        between("tax_year", 1900, 2200),
        between("quarter", 1, 4),
        non_negative("file_size"),
        {"postgresql_partition_by": "RANGE (tax_year)"},
    )

    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    uploaded_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    parent_document_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    file_name: Mapped[str] = mapped_column(Text)
    file_url: Mapped[str] = mapped_column(Text)
    file_type: Mapped[str] = mapped_column(Text)
    mime_type: Mapped[str | None] = mapped_column(Text)
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    checksum: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(Text, server_default="other")
    subcategory: Mapped[str | None] = mapped_column(Text)
    tax_year: Mapped[int | None] = mapped_column(SmallInteger)
    quarter: Mapped[int | None] = mapped_column(SmallInteger)
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    is_latest_version: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default="uploaded")
    ocr_status: Mapped[str] = mapped_column(Text, server_default="pending")
    ocr_confidence: Mapped[float | None] = mapped_column(Float)
    ocr_processed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    needs_review: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    is_confidential: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    access_level: Mapped[str] = mapped_column(Text, server_default="organization")
    retention_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, server_default=text("'{}'::jsonb")
    )
    extracted_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)

    client: Mapped[Client] = parent_of(
        "Client", "client_id", child="Document", back_populates="documents"
    )
    extracted_text: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))
    # Written by the database only (revision 0021: the trigger documents_search_vector, from
    # file name, description and extracted text); whatever the application sets is replaced.
    search_vector: Mapped[str | None] = mapped_column(TSVECTOR)
