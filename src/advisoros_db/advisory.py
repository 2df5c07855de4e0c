"""Database-wide advisory locks that leave nothing behind, through PgBouncer too.

A session-level `pg_advisory_lock` through a pooler in transaction mode stays on whichever server
connection took it (the unlock may reach another one), so the lock here is transaction-level, held
by an open transaction on a connection of its own: COMMIT, a dropped connection or the end of the
block releases it. It holds no snapshot and no table lock, so it blocks nothing else.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from advisoros_db import pooler
from advisoros_db.errors import LockTimeout

# Sent with the simple query protocol (no parameters): an extended-protocol portal outlives the
# statement and keeps its snapshot, and an idle transaction with a snapshot makes every
# CREATE INDEX CONCURRENTLY (migrations, search indexes) wait for it.
_TRY = "SELECT pg_try_advisory_xact_lock(hashtextextended({}, 0))"
POLL_S = 0.2


@contextmanager
def holding(
    url: str,
    name: str,
    *,
    wait_s: float = 0.0,
    on_wait: Callable[[], None] | None = None,
) -> Iterator[bool]:
    """Hold the lock called `name` for the block; yields False when another holder has it and
    `wait_s` is 0. With `wait_s` > 0, `on_wait()` runs once if the lock is taken, then this waits
    up to `wait_s` seconds for it and raises `LockTimeout` after that.

    A waiter retries in a new short transaction every POLL_S instead of blocking in one: a
    blocked statement holds a snapshot, and the holder's concurrent index builds would wait for
    it until their lock_timeout.
    """
    attempt = sql.SQL(_TRY).format(sql.Literal(name))
    deadline = time.monotonic() + wait_s
    with pooler.connect(url, application_name=f"advisoros-lock {name}"[:63]) as conn:
        try:
            while True:
                row = conn.execute(attempt, prepare=False).fetchone()
                if row and row[0]:
                    break
                conn.rollback()
                if time.monotonic() >= deadline:
                    if wait_s <= 0:
                        yield False
                        return
                    raise LockTimeout(
                        f"{name}: another holder kept the lock for more than {wait_s:g} s"
                    )
                if on_wait is not None:
                    on_wait()
                    on_wait = None
                time.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))
            yield True
        finally:
            if not conn.closed:
                try:
                    conn.rollback()
                except psycopg.Error:
                    conn.close()
