"""Alembic migrations of the AdvisorOS schema, and a small API to run them."""

from advisoros_db.migrations.app import LIBRARY_BRANCH, load_metadata
from advisoros_db.migrations.drift import drift
from advisoros_db.migrations.runner import (
    current,
    current_heads,
    downgrade,
    downgrade_steps,
    history,
    script_heads,
    upgrade,
    upgrade_sql,
)

__all__ = [
    "LIBRARY_BRANCH",
    "current",
    "current_heads",
    "downgrade",
    "downgrade_steps",
    "drift",
    "history",
    "load_metadata",
    "script_heads",
    "upgrade",
    "upgrade_sql",
]
