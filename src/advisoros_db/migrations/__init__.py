"""Alembic migrations of the AdvisorOS schema, and a small API to run them."""

from advisoros_db.migrations.drift import drift
from advisoros_db.migrations.runner import (
    current,
    downgrade,
    downgrade_steps,
    history,
    upgrade,
    upgrade_sql,
)

__all__ = ["current", "downgrade", "downgrade_steps", "drift", "history", "upgrade", "upgrade_sql"]
