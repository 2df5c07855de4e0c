"""The application's own table, beside the library's models (its own MetaData: the library's
stays exactly what the library's migrations create)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    MetaData,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from advisoros_db.schema import metadata as library_metadata
from advisoros_db.schema.base import NAMING_CONVENTION


class Base(DeclarativeBase):
    """`advisoros-db check --app-metadata examples.fastapi_app.models:Base` compares these too."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# A copy of the library table the foreign key below points at: the ORM orders a flush by the
# tables a row references, and must find it. (`check` compares the library's own, not this copy.)
library_metadata.tables["clients"].to_metadata(Base.metadata)


class ClientTag(Base):
    """A label a firm puts on one of its clients ("vip", "quarterly-filer")."""

    __tablename__ = "client_tags"
    __table_args__ = (
        # The library's tenant key: a tag can only point at a client of its own organization.
        ForeignKeyConstraint(
            ["organization_id", "client_id"],
            ["clients.organization_id", "clients.id"],
            ondelete="CASCADE",
        ),
        UniqueConstraint("organization_id", "client_id", "tag"),
        CheckConstraint("length(tag) BETWEEN 1 AND 40", name="tag_length"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, server_default=text("uuidv7()"))
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    tag: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
