"""The AdvisorOS schema as typed SQLAlchemy 2 models, one module per domain."""

from advisoros_db.schema.base import Base

metadata = Base.metadata

__all__ = ["Base", "metadata"]
