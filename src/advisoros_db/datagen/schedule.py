"""Load tables on several connections at once, each as soon as the tables it references are in.

Index builds and foreign-key checks run in one server process per connection; with one
connection the second core sits idle through them. Each table still loads in its own transaction
(all its rows and constraints, or nothing), tables start in the given order, and a table starts only
after every table it has a foreign key to has committed, so checking its keys finds the parents.
A load may leave follow-up tasks (its deferred index builds): a connection with no table ready
takes those, so the builds of one table spread over every connection that has nothing else to do.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg

from advisoros_db import pooler

R = TypeVar("R")

Load = Callable[[psycopg.Connection[Any], str], R]
Task = Callable[[psycopg.Connection[Any]], None]


@dataclass(frozen=True)
class FollowUp:
    """A task a load leaves; tasks of one `group` never run at once (two index builds on one
    partitioned table would both name their partition indexes alike, and one would fail)."""

    run: Task
    group: str = ""


class _Run:
    def __init__(
        self,
        names: list[str],
        parents: Mapping[str, set[str]],
        after: Mapping[str, set[str]],
        on_take: Callable[[str], None],
    ) -> None:
        known = set(names)
        self.names = names
        self.parents = {n: parents.get(n, set()) & known - {n} for n in names}
        self.after = {n: (after.get(n, set()) | self.parents[n]) & known - {n} for n in names}
        self.on_take = on_take
        self.cond = threading.Condition()
        self.taken: set[str] = set()
        self.committed: set[str] = set()
        self.failure: BaseException | None = None
        self.tasks: deque[FollowUp] = deque()
        self.running_groups: set[str] = set()
        self.loading = 0  # loads in flight: each may still add tasks

    def _ready(self) -> str | None:
        for name in self.names:
            if (
                name not in self.taken
                and self.parents[name] <= self.committed
                and self.after[name] <= self.taken
            ):
                return name
        return None

    def take(self) -> str | FollowUp | None:
        """The first table, in order, whose parents are in, else a queued task; None once every
        table is loaded and every task taken, or one failed."""
        with self.cond:
            while self.failure is None:
                name = self._ready()
                if name is not None:
                    self.taken.add(name)
                    self.loading += 1
                    self.on_take(name)
                    return name
                task = next((t for t in self.tasks if t.group not in self.running_groups), None)
                if task is not None:
                    self.tasks.remove(task)
                    if task.group:
                        self.running_groups.add(task.group)
                    return task
                idle = not self.loading and not self.running_groups
                if len(self.taken) == len(self.names) and idle and not self.tasks:
                    return None
                self.cond.wait()
            return None

    def finished(self, task: FollowUp) -> None:
        with self.cond:
            self.running_groups.discard(task.group)
            self.cond.notify_all()

    def done(self, name: str, tasks: list[FollowUp]) -> None:
        with self.cond:
            self.committed.add(name)
            self.loading -= 1
            self.tasks.extend(tasks)
            self.cond.notify_all()

    def fail(self, exc: BaseException) -> None:
        with self.cond:
            if self.failure is None:
                self.failure = exc
            self.cond.notify_all()


def load_all(
    url: str,
    names: list[str],
    parents: Mapping[str, set[str]],
    load: Load[R],
    *,
    after: Mapping[str, set[str]] | None = None,
    on_take: Callable[[str], None] = lambda _: None,
    connections: int = 2,
    followups: Callable[[str, R], list[FollowUp]] | None = None,
) -> dict[str, R]:
    """Run `load(conn, name)` for every name on up to `connections` connections; results by name.

    A table starts once every table in `parents` (its foreign keys) has committed and every
    table in `after` (what its rows are generated from) has started; among those ready, the first
    in `names` goes first. `on_take(name)` runs as each starts, in start order (the generator
    produces tables in that order). The first failure stops new tables from starting and is
    raised once the loads in flight end. `followups(name, result)` gives the tasks a committed
    load leaves; they run before `load_all` returns, on connections with no table ready.
    """
    run = _Run(names, parents, after or {}, on_take)
    results: dict[str, R] = {}

    def worker() -> None:
        try:
            with pooler.connect(url, autocommit=True) as conn:
                while (job := run.take()) is not None:
                    if isinstance(job, str):
                        results[job] = result = load(conn, job)
                        run.done(job, followups(job, result) if followups else [])
                    else:
                        job.run(conn)
                        run.finished(job)
        except BaseException as exc:  # raised below, in the caller's thread
            run.fail(exc)

    threads = [
        threading.Thread(target=worker, name=f"advisoros-load-{i}", daemon=True)
        for i in range(max(1, connections))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if run.failure is not None:
        raise run.failure
    return results
