"""Lock-taking steps under a short lock_timeout, retried with exponential backoff and jitter."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pg_errors

from advisoros_db.errors import LockTimeout

T = TypeVar("T")


@dataclass(frozen=True)
class LockPolicy:
    """How long one attempt may wait for a lock, and how often to try again."""

    lock_timeout_ms: int = 200
    attempts: int = 30
    first_backoff_s: float = 0.05
    max_backoff_s: float = 2.0


DEFAULT_POLICY = LockPolicy()


def in_short_transaction(
    conn: psycopg.Connection[Any],
    step: Callable[[psycopg.Connection[Any]], T],
    *,
    policy: LockPolicy = DEFAULT_POLICY,
    what: str = "step",
) -> T:
    """Run `step` in its own transaction with a short lock_timeout; on a lock timeout roll back,
    wait (backoff doubling, with jitter so competing retries spread out) and try again."""
    backoff = policy.first_backoff_s
    for attempt in range(1, policy.attempts + 1):
        try:
            with conn.transaction():
                conn.execute(
                    "SELECT set_config('lock_timeout', %s, true)", (f"{policy.lock_timeout_ms}ms",)
                )
                return step(conn)
        except (pg_errors.LockNotAvailable, pg_errors.DeadlockDetected):
            if attempt == policy.attempts:
                break
            time.sleep(backoff * (0.5 + random.random()))
            backoff = min(backoff * 2, policy.max_backoff_s)
    raise LockTimeout(
        f"{what}: could not take its locks within {policy.lock_timeout_ms} ms in "
        f"{policy.attempts} attempts; a long transaction holds them. Find it in pg_stat_activity "
        "and retry when it ends"
    )
