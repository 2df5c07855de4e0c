"""Helpers for the insights tests: settings with thresholds the tests choose, and polling."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg

from advisoros_db.settings import Settings

# The partitioning tests' plain tables (shaped like the schema's), for conversions.
from tests.partitioning.conftest import admin, plain

T = TypeVar("T")


def settings(**thresholds: Any) -> Settings:
    return Settings(**thresholds)


def wait_for(what: str, probe: Callable[[], T | None], timeout_s: float = 60.0) -> T:
    """Poll `probe` until it returns something truthy, or fail after the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout_s} s")
        time.sleep(0.05)


def flush_stats(conn: psycopg.Connection) -> None:
    """Make this session's pending statistics visible to others now rather than within a second
    (PostgreSQL flushes them when the session goes idle after this call)."""
    conn.execute("SELECT pg_stat_force_next_flush()")
    conn.execute("SELECT 1")


__all__ = ["admin", "flush_stats", "plain", "settings", "wait_for"]
