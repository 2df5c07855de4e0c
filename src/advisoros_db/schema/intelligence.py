"""Document intelligence (revision 0002): the OCR/classification pipeline and chunk embeddings."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Float,
    Integer,
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
    Tenant,
    Timestamped,
    args,
    between,
    non_negative,
    one_of,
    tenant_key,
    tenant_ref,
)
from advisoros_db.schema.document_keys import DOCUMENT_KEYS


class ProcessingStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class DocumentProcessing(Keyed, Tenant, Timestamped, Base):
    """The OCR and classification state of one document: status, confidence, retries, last error."""

    __tablename__ = "document_processing"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("document_id", DOCUMENT_KEYS, ondelete="CASCADE", index=False),
        UniqueConstraint("organization_id", "document_id"),
        one_of("status", ProcessingStatus),
        between("ocr_confidence", 0, 1),
        between("classification_confidence", 0, 1),
        non_negative("retry_count"),
        non_negative("max_retries"),
    )

    document_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    status: Mapped[str] = mapped_column(Text, server_default="queued")
    ocr_provider: Mapped[str | None] = mapped_column(Text)
    ocr_confidence: Mapped[float | None] = mapped_column(Float)
    classification: Mapped[str | None] = mapped_column(Text)
    classification_confidence: Mapped[float | None] = mapped_column(Float)
    extracted_fields: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    retry_count: Mapped[int] = mapped_column(Integer, server_default="0")
    max_retries: Mapped[int] = mapped_column(Integer, server_default="3")
    last_error: Mapped[str | None] = mapped_column(Text)
    error_details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    queued_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    next_retry_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    processing_ms: Mapped[int | None] = mapped_column(Integer)


class DocumentEmbedding(Keyed, Tenant, Base):
    """One chunk of a document's text and its embedding.

    `embedding` has no fixed dimension so models of different sizes coexist; `dimensions` records
    it, and per-model indexes cast to a fixed size.
    """

    __tablename__ = "document_embeddings"
    __table_args__ = args(
        tenant_key(),
        tenant_ref("document_id", DOCUMENT_KEYS, ondelete="CASCADE", index=False),
        UniqueConstraint("organization_id", "document_id", "model", "chunk_index"),
        non_negative("chunk_index"),
        non_negative("token_count"),
        # The stored vector must have the dimension the row claims.
        CheckConstraint("vector_dims(embedding) = dimensions", name="dimensions_match"),
    )

    document_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    chunk_index: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(Text)
    embedding: Mapped[Any] = mapped_column(Vector())
    model: Mapped[str] = mapped_column(Text)
    dimensions: Mapped[int] = mapped_column(Integer)
    token_count: Mapped[int | None] = mapped_column(Integer)
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, server_default=text("'{}'::jsonb")
    )
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
