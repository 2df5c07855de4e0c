"""Generate tables' rows in worker processes while the server copies and indexes earlier tables.

Each worker process serves the tables requested, in request order, and sends each table's items
(encoded rows) back through its own bounded queue; a thread per worker here hands them to the
table's consumer. What a worker makes must depend only on the name and what it made before, never
on how many workers there are: the caller's `factory(index, workers)` gives each worker its share
(the generator gives each worker whole organizations, see `generate`).
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import queue
import threading
import traceback
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")

Factory = Callable[[int, int], Callable[[str], Iterator[Any]]]

_ITEM, _END, _FAIL = "item", "end", "fail"
# How long a blocked hand-over waits before checking whether the run stopped.
_POLL_S = 0.2


class WorkerFailed(RuntimeError):
    """A worker raised something that could not be sent back as it was."""


def _serve(factory: Factory, index: int, workers: int, requests: Any, results: Any) -> None:
    try:
        produce = factory(index, workers)
    except BaseException as exc:
        results.put((_FAIL, None, _portable(exc)))
        return
    while (name := requests.get()) is not None:
        try:
            for item in produce(name):
                results.put((_ITEM, name, item))
            results.put((_END, name, None))
        except BaseException as exc:
            results.put((_FAIL, name, _portable(exc)))
            return


def _portable(exc: BaseException) -> BaseException:
    """The exception itself when it survives pickling, else its text and traceback."""
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        text = "".join(traceback.format_exception(exc))
        return WorkerFailed(f"a generator process failed:\n{text}")
    return exc


class Pool(Generic[T]):
    """Items of each requested name, made by `workers` processes; per name in arrival order."""

    def __init__(self, factory: Factory, workers: int, depth: int = 4) -> None:
        ctx = mp.get_context("spawn")  # no fork of a process that holds threads and connections
        self._workers = max(1, workers)
        self._requests = [ctx.Queue() for _ in range(self._workers)]
        self._results = [ctx.Queue(depth) for _ in range(self._workers)]
        self._procs = [
            ctx.Process(
                target=_serve,
                args=(factory, i, self._workers, self._requests[i], self._results[i]),
                name=f"advisoros-datagen-{i}",
                daemon=True,
            )
            for i in range(self._workers)
        ]
        self._queues: dict[str, queue.Queue[tuple[str, Any]]] = {}
        self._closed: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._failure: BaseException | None = None
        self._depth = depth
        self._threads = [
            threading.Thread(
                target=self._route, args=(i,), daemon=True, name=f"advisoros-route-{i}"
            )
            for i in range(self._workers)
        ]

    def __enter__(self) -> Pool[T]:
        for p in self._procs:
            p.start()
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for r in self._requests:
            r.put(None)
        for p in self._procs:
            p.join(timeout=2 if self._failure is None else 0)
            if p.is_alive():  # blocked on a full queue nobody reads any more
                p.terminate()
                p.join()
        for t in self._threads:
            t.join()
        for q in (*self._requests, *self._results):
            q.close()
            q.cancel_join_thread()

    def request(self, name: str) -> None:
        """Queue `name` on every worker, after every name requested before it."""
        with self._lock:
            if name in self._queues:
                raise ValueError(f"{name!r} was already requested")
            self._queues[name] = queue.Queue(self._depth * self._workers)
        for r in self._requests:
            r.put(name)

    def _target(self, name: str | None) -> queue.Queue[tuple[str, Any]] | None:
        with self._lock:
            return self._queues.get(name) if name is not None else None

    def _hand(self, name: str | None, message: tuple[str, Any]) -> bool:
        """Give a message to `name`'s consumer; False once the run stopped."""
        target = self._target(name)
        while not self._stop.is_set():
            if target is None or name in self._closed:
                return True
            try:
                target.put(message, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _route(self, index: int) -> None:
        source = self._results[index]
        while not self._stop.is_set():
            try:
                kind, name, payload = source.get(timeout=_POLL_S)
            except queue.Empty:
                if not self._procs[index].is_alive() and source.empty():
                    code = self._procs[index].exitcode
                    if code not in (0, None):  # killed (out of memory, a signal): say so
                        self._fail(WorkerFailed(f"generator process {index} exited with {code}"))
                    return
                continue
            if kind == _FAIL:
                self._fail(payload)
                return
            if not self._hand(name, (kind, payload)):
                return

    def _fail(self, exc: BaseException) -> None:
        with self._lock:
            if self._failure is None:
                self._failure = exc
            targets = list(self._queues.values())
        for q in targets:  # every consumer waiting or to come sees it
            with contextlib.suppress(queue.Full):
                q.put_nowait((_FAIL, exc))

    def items(self, name: str) -> Iterator[T]:
        """The items of a requested `name` from every worker; raises what a worker raised."""
        source = self._target(name)
        if source is None:
            raise ValueError(f"{name!r} was never requested")
        ended = 0
        try:
            while ended < self._workers:
                if self._failure is not None:
                    raise self._failure
                try:
                    kind, payload = source.get(timeout=_POLL_S)
                except queue.Empty:
                    continue
                if kind == _FAIL:
                    raise payload
                if kind == _END:
                    ended += 1
                    continue
                yield payload
        finally:
            # A consumer that stops early must not leave the workers blocked on its full queue.
            self._closed.add(name)
