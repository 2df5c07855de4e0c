"""Database-wide advisory locks that leave nothing behind, through PgBouncer too.

A session-level `pg_advisory_lock` through a pooler in transaction mode stays on whichever server
connection took it (the unlock may reach another one), so the lock here is transaction-level, held
by an open transaction on a connection of its own: COMMIT, a dropped connection or the end of the
block releases it. It holds no snapshot and no table lock, so it blocks nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql

from advisoros_db import pooler
from advisoros_db.errors import LockTimeout

_TRY = "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))"
_WAIT = "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))"


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
    up to `wait_s` seconds for it and raises `LockTimeout` after that."""
    with pooler.connect(url, application_name=f"advisoros-lock {name}"[:63]) as conn:
        try:
            row = conn.execute(_TRY, (name,), prepare=False).fetchone()
            got = bool(row and row[0])
            if not got and wait_s > 0:
                if on_wait is not None:
                    on_wait()
                conn.execute(
                    sql.SQL("SET LOCAL lock_timeout = {}").format(
                        sql.Literal(f"{max(1, int(wait_s * 1000))}ms")
                    )
                )
                try:
                    conn.execute(_WAIT, (name,), prepare=False)
                except pg_errors.LockNotAvailable:
                    raise LockTimeout(
                        f"{name}: another holder kept the lock for more than {wait_s:g} s"
                    ) from None
                got = True
            yield got
        finally:
            if not conn.closed:
                try:
                    conn.rollback()
                except psycopg.Error:
                    conn.close()
