"""The test application's models (`check --app-metadata tests.migrations.app_models:metadata`):
its own MetaData, a foreign key into the library's clients."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKeyConstraint, MetaData, Table, Text, Uuid, text

from advisoros_db.schema.base import NAMING_CONVENTION

metadata = MetaData(naming_convention=NAMING_CONVENTION)

client_flags = Table(
    "app_client_flags",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=text("uuidv7()")),
    Column("organization_id", Uuid, nullable=False),
    Column("client_id", Uuid, nullable=False),
    Column("flag", Text, nullable=False),
    Column("note", Text),
    ForeignKeyConstraint(
        ["organization_id", "client_id"],
        ["clients.organization_id", "clients.id"],
        ondelete="CASCADE",
    ),
)
