"""Which servers a command works on, honouring the global `--embedded` flag.

Without `--embedded` no command starts a server: the configured URLs, else an embedded cluster
that is already running, else a clear error (`advisoros_db.embedded.resolve`).
"""

from __future__ import annotations

from advisoros_db import embedded
from advisoros_db.settings import Settings, get_settings
from advisoros_db.targets import Target

_choice = {"embedded": False}


def allow_embedded(allowed: bool) -> None:
    """Set by `advisoros-db --embedded ...`: commands may start the embedded cluster."""
    _choice["embedded"] = allowed


def target(settings: Settings | None = None) -> Target:
    return embedded.resolve(settings or get_settings(), embedded=_choice["embedded"])
