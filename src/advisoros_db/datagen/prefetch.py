"""Generate tables' rows in a thread while the server copies and indexes earlier tables.

Row generation is Python work; COPY, index builds and foreign-key checks are the server's. Run one
after the other, each leaves a core idle. One producer thread generates tables in the order they
are requested (a table's rows may refer to rows generated for tables requested before it, never to
what the server holds) and hands each table's batches over through that table's small bounded
queue, so memory stays bounded and two tables can be consumed at once.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

_END = object()
# How long a blocked producer waits before checking whether its consumer went away.
_POLL_S = 0.2


class Prefetcher(Generic[T]):
    """Items of each requested name, produced in request order by one thread."""

    def __init__(self, produce: Callable[[str], Iterator[T]], depth: int = 2) -> None:
        self._produce = produce
        self._depth = depth
        self._requests: queue.Queue[str | None] = queue.Queue()
        self._queues: dict[str, queue.Queue[object]] = {}
        self._lock = threading.Lock()
        self._closed: set[str] = set()
        self._failure: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="advisoros-datagen", daemon=True)

    def __enter__(self) -> Prefetcher[T]:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._requests.put(None)
        self._thread.join()

    def request(self, name: str) -> None:
        """Queue `name` for generation, after every name requested before it."""
        with self._lock:
            if name in self._queues:
                raise ValueError(f"{name!r} was already requested")
            self._queues[name] = queue.Queue(self._depth)
        self._requests.put(name)

    def _queue(self, name: str) -> queue.Queue[object]:
        with self._lock:
            return self._queues[name]

    def _put(self, name: str, item: object) -> bool:
        """Hand `item` over; False once the run stopped. Items of a closed name are dropped."""
        target = self._queue(name)
        while not self._stop.is_set():
            if name in self._closed:
                return True
            try:
                target.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        while (name := self._requests.get()) is not None:
            if self._failure is not None:
                item: object = self._failure
            else:
                try:
                    for batch in self._produce(name):
                        if not self._put(name, batch):
                            return
                    item = _END
                except BaseException as exc:  # raised by every consumer from here on
                    self._failure = item = exc
            if not self._put(name, item):
                return

    def items(self, name: str) -> Iterator[T]:
        """The items of a requested `name`, as they come; raises what the producer raised."""
        source = self._queue(name)
        try:
            while True:
                item = source.get()
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item  # type: ignore[misc]
        finally:
            # A consumer that stops early must not leave the producer blocked on a full queue.
            self._closed.add(name)
