"""Which servers a command works on, honouring the global `--embedded` flag.

Without `--embedded` no command starts a server: the configured URLs, else an embedded cluster
that is already running, else a clear error (`advisoros_db.embedded.resolve`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from advisoros_db.settings import Settings
    from advisoros_db.targets import Target

_choice = {"embedded": False}


def allow_embedded(allowed: bool) -> None:
    """Set by `advisoros-db --embedded ...`: commands may start the embedded cluster."""
    _choice["embedded"] = allowed


def target(settings: Settings | None = None) -> Target:
    from advisoros_db.settings import get_settings

    settings = settings or get_settings()
    if settings.database_url is not None:
        # What embedded.resolve answers too, without importing the cluster (or needing the
        # [embedded] extra) for a configured server.
        from advisoros_db.targets import configured

        return configured(settings)
    from advisoros_db import embedded

    return embedded.resolve(settings, embedded=_choice["embedded"])
