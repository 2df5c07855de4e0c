"""advisoros-db: the PostgreSQL data layer of AdvisorOS."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from advisoros_db.errors import AdvisorOSError

if TYPE_CHECKING:
    from advisoros_db.settings import Settings, get_settings

__all__ = ["AdvisorOSError", "Settings", "get_settings"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # The settings (pydantic) load on first use, so `import advisoros_db` and the command line's
    # `--help` stay light; `from advisoros_db import Settings` works as before.
    if name in ("Settings", "get_settings"):
        from advisoros_db import settings

        return getattr(settings, name)
    raise AttributeError(f"module 'advisoros_db' has no attribute {name!r}")
