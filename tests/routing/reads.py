"""Background reads through the router for the fault and staleness tests: threads that read until
stopped, keeping every result and every failure."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text

from advisoros_db.routing import Router


@dataclass(frozen=True)
class Read:
    started: float
    """time.monotonic() when the read began."""
    port: int
    """The server that answered (its first column)."""
    value: object
    """Its second column."""


ReadOnce = Callable[[int], tuple[int, object]]
"""One read by thread number n: (server port, value)."""


def through_session(router: Router, query: str) -> ReadOnce:
    """Reads of `query` (port, value) through `router.session("read")`."""

    def read(_: int) -> tuple[int, object]:
        with router.session("read") as s:
            port, value = s.execute(text(query)).one()
        return int(port), value

    return read


def through_connection(router: Router, query: str) -> ReadOnce:
    """Reads of `query` (port, value) through the psycopg fast path, `router.connection("read")`."""

    def read(_: int) -> tuple[int, object]:
        with router.connection("read") as conn:
            row = conn.execute(query).fetchone()
        assert row is not None
        return int(row[0]), row[1]

    return read


def alternating(*paths: ReadOnce) -> ReadOnce:
    """Thread n reads through paths[n % len(paths)]."""
    return lambda n: paths[n % len(paths)](n)


class BackgroundReads:
    """`threads` threads calling `read` until the block ends; every read and failure is kept."""

    def __init__(self, read: ReadOnce, threads: int = 4) -> None:
        self._read = read
        self.reads: list[Read] = []
        self.failures: list[BaseException] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(n,)) for n in range(threads)]

    @property
    def ok(self) -> int:
        return len(self.reads)

    def ports(self, since: int = 0) -> list[int]:
        """The servers that answered reads number `since` onwards."""
        return [r.port for r in self.reads[since:]]

    def _run(self, n: int) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                port, value = self._read(n)
            except BaseException as exc:
                with self._lock:
                    self.failures.append(exc)
            else:
                with self._lock:
                    self.reads.append(Read(started, port, value))

    def __enter__(self) -> BackgroundReads:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
