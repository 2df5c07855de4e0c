"""Declarative base with a naming convention, so constraint names are stable and predictable."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Every model's base; its metadata is what Alembic compares the database with."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Server-generated values (ids, created_at, an UPDATE's updated_at) come back in the
    # statement's RETURNING, so an object of a committed session (the router's sessions do not
    # expire on commit) holds every column without another round trip (docs/schema.md).
    __mapper_args__ = {"eager_defaults": True}
