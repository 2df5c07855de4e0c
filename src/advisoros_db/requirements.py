"""What a server must offer, checked once per process when a command first connects to it."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from advisoros_db import pooler
from advisoros_db.errors import ConfigError
from advisoros_db.urls import mask

MIN_SERVER_VERSION_NUM = 180000
MIN_SERVER_VERSION = "PostgreSQL 18"

_FACTS_SQL = """
SELECT current_setting('server_version_num')::int,
       current_setting('server_version'),
       EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector')
"""

_checked: set[str] = set()
_lock = threading.Lock()


@dataclass(frozen=True)
class ServerFacts:
    version_num: int
    version: str
    has_pgvector: bool


def problems(facts: ServerFacts) -> list[str]:
    """Each requirement the server misses, named with what it has and what to do."""
    found = []
    if facts.version_num < MIN_SERVER_VERSION_NUM:
        found.append(
            f"it runs PostgreSQL {facts.version}; advisoros-db needs {MIN_SERVER_VERSION} or "
            "later (upgrade the server, or unset ADVISOROS_DATABASE_URL to use the embedded one)"
        )
    if not facts.has_pgvector:
        found.append(
            "it has no pgvector extension (`vector` is not in pg_available_extensions); install "
            "pgvector on the server (package postgresql-18-pgvector on Debian)"
        )
    return found


def facts(url: str) -> ServerFacts:
    with pooler.connect(url, autocommit=True, connect_timeout=10) as conn:
        row = conn.execute(_FACTS_SQL, prepare=False).fetchone()
    assert row is not None
    return ServerFacts(int(row[0]), str(row[1]), bool(row[2]))


def check(url: str) -> None:
    """Raise ConfigError naming each requirement the server at `url` misses (once per URL)."""
    if url in _checked:
        return
    missing = problems(facts(url))
    if missing:
        raise ConfigError(f"the server at {mask(url)} cannot be used: " + "; ".join(missing))
    with _lock:
        _checked.add(url)
