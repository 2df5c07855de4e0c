"""Alembic migrations of the AdvisorOS schema, and a small API to run them."""

from advisoros_db.migrations.runner import current, downgrade, history, upgrade

__all__ = ["current", "downgrade", "history", "upgrade"]
