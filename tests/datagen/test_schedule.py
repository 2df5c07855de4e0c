"""Loading on two connections: parents commit first, loads overlap, the first failure stops it."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest

from advisoros_db.datagen.schedule import FollowUp, load_all
from tests.support import PgDatabase


class Recorder:
    """Records each load's start and end; `meet` makes named loads wait for each other.

    A load in `meet` returns only once every load in it has started, so a scheduler that ran them
    one after the other fails with BrokenBarrierError instead of passing by luck of timing.
    """

    def __init__(self, fail: str | None = None, meet: tuple[str, ...] = ()) -> None:
        self.lock = threading.Lock()
        self.events: list[tuple[str, str]] = []
        self.fail = fail
        self.meet = meet
        self.barrier = threading.Barrier(len(meet)) if meet else None
        self.backends: dict[str, int] = {}

    def __call__(self, conn: psycopg.Connection[Any], name: str) -> str:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        with self.lock:
            self.backends[name] = row[0]
            self.events.append(("start", name))
        if self.barrier is not None and name in self.meet:
            self.barrier.wait(timeout=120)
        with self.lock:
            self.events.append(("end", name))
        if name == self.fail:
            raise RuntimeError(f"{name} failed")
        return name.upper()

    def at(self, kind: str, name: str) -> int:
        """Position of the event in the recorded order (a total order under the lock)."""
        return self.events.index((kind, name))

    def started(self) -> list[str]:
        return [n for k, n in self.events if k == "start"]


def test_a_table_starts_only_after_its_parents_commit(db: PgDatabase) -> None:
    rec = Recorder(meet=("clients", "users"))
    taken: list[str] = []
    results = load_all(
        db.admin_url,
        ["orgs", "clients", "users", "documents"],
        {"clients": {"orgs"}, "users": {"orgs"}, "documents": {"clients", "users"}},
        rec,
        on_take=taken.append,
    )
    assert results == {n: n.upper() for n in ("orgs", "clients", "users", "documents")}
    assert rec.at("start", "clients") >= rec.at("end", "orgs")
    assert rec.at("start", "users") >= rec.at("end", "orgs")
    assert rec.at("start", "documents") >= max(rec.at("end", "clients"), rec.at("end", "users"))
    # Independent siblings load at once (they wait for each other), each on its own connection.
    assert rec.backends["clients"] != rec.backends["users"]
    assert sorted(taken) == sorted(rec.started())
    assert taken.index("orgs") < min(taken.index("clients"), taken.index("users"))
    assert taken.index("documents") == 3


def test_after_orders_starts_without_waiting_for_commits(db: PgDatabase) -> None:
    rec = Recorder(meet=("big", "log"))
    taken: list[str] = []
    load_all(db.admin_url, ["big", "log"], {}, rec, after={"log": {"big"}}, on_take=taken.append)
    # `log` is generated from `big`'s rows, so it is taken after `big`, and starts while `big` is
    # still loading (the two meet), not after it ended.
    assert taken == ["big", "log"]
    assert rec.at("start", "log") < rec.at("end", "big")


def test_the_first_failure_stops_new_tables_and_is_raised(db: PgDatabase) -> None:
    rec = Recorder(fail="a")
    with pytest.raises(RuntimeError, match="a failed"):
        load_all(db.admin_url, ["a", "b", "c"], {"b": {"a"}, "c": {"a"}}, rec)
    assert rec.started() == ["a"]


def test_one_connection_loads_in_order(db: PgDatabase) -> None:
    rec = Recorder()
    load_all(db.admin_url, ["a", "b", "c"], {"c": {"a"}}, rec, connections=1)
    assert rec.events == [(k, n) for n in ("a", "b", "c") for k in ("start", "end")]
    assert len(set(rec.backends.values())) == 1


def test_a_load_leaves_tasks_that_run_after_ready_tables_and_before_the_end(
    db: PgDatabase,
) -> None:
    order: list[str] = []

    def load(conn: psycopg.Connection[Any], name: str) -> str:
        order.append(name)
        return name

    def task(name: str) -> FollowUp:
        return FollowUp(lambda conn: order.append(f"built {name}"))

    def followups(name: str, _: str) -> list[FollowUp]:
        return [task(f"{name}.1"), task(f"{name}.2")] if name in ("a", "c") else []

    load_all(db.admin_url, ["a", "b", "c"], {"c": {"a"}}, load, connections=1, followups=followups)
    # One connection: a table that is ready goes before a task; every task runs before the end.
    assert order == ["a", "b", "c", "built a.1", "built a.2", "built c.1", "built c.2"]


def test_tasks_of_one_group_never_run_at_once(db: PgDatabase) -> None:
    lock = threading.Lock()
    running: list[str] = []
    overlaps: list[tuple[str, ...]] = []
    other_started = threading.Event()

    def task(name: str, group: str) -> FollowUp:
        def run(conn: psycopg.Connection[Any]) -> None:
            with lock:
                running.append(group)
                if group and running.count(group) > 1:
                    overlaps.append(tuple(running))
            if name == "g1":
                # Holds its group until another task started: the second connection must take
                # the ungrouped task, not g2 (which would overlap with g1, and be recorded).
                assert other_started.wait(timeout=120)
            if name == "u":
                other_started.set()
            with lock:
                running.remove(group)

        return FollowUp(run, group)

    def followups(name: str, _: str) -> list[FollowUp]:
        return [task("g1", "docs"), task("g2", "docs"), task("u", "")]

    load_all(db.admin_url, ["a"], {}, lambda conn, name: name, followups=followups)
    assert overlaps == []
