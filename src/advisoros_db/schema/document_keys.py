"""documents_keys: one row per document id, what foreign keys into the tax-year-partitioned documents
table reference (a partitioned table's unique keys must include its partition key, tax_year, which
may be NULL). Kept in step with documents by triggers; see docs/partitioning.md."""

from __future__ import annotations

import uuid

from sqlalchemy import UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from advisoros_db.schema.base import Base

DOCUMENT_KEYS = "documents_keys"


class DocumentKey(Base):
    """A document's id and tenant; written only by the documents triggers."""

    __tablename__ = DOCUMENT_KEYS
    __table_args__ = (UniqueConstraint("organization_id", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid)
