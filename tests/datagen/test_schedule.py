"""Loading on two connections: parents commit first, loads overlap, the first failure stops it."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest

from advisoros_db.datagen.schedule import load_all
from tests.support import PgDatabase


class Recorder:
    def __init__(self, fail: str | None = None, pause: float = 0.2) -> None:
        self.lock = threading.Lock()
        self.events: list[tuple[str, str, float]] = []
        self.running = 0
        self.most = 0
        self.fail = fail
        self.pause = pause
        self.backends: set[int] = set()

    def __call__(self, conn: psycopg.Connection[Any], name: str) -> str:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        with self.lock:
            self.backends.add(row[0])
            self.events.append(("start", name, time.monotonic()))
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(self.pause)
        with self.lock:
            self.running -= 1
            self.events.append(("end", name, time.monotonic()))
        if name == self.fail:
            raise RuntimeError(f"{name} failed")
        return name.upper()

    def at(self, kind: str, name: str) -> float:
        return next(t for k, n, t in self.events if k == kind and n == name)

    def started(self) -> list[str]:
        return [n for k, n, _ in self.events if k == "start"]


def test_a_table_starts_only_after_its_parents_commit(db: PgDatabase) -> None:
    rec = Recorder()
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
    # Independent siblings load at once, each on its own server connection.
    assert rec.most == 2
    assert len(rec.backends) == 2
    assert taken == rec.started()


def test_after_orders_starts_without_waiting_for_commits(db: PgDatabase) -> None:
    rec = Recorder(pause=0.3)
    load_all(db.admin_url, ["big", "log"], {}, rec, after={"log": {"big"}})
    # `log` is generated from `big`'s rows, so it starts after `big` started, not after it ended.
    assert rec.at("start", "big") <= rec.at("start", "log") < rec.at("end", "big")


def test_the_first_failure_stops_new_tables_and_is_raised(db: PgDatabase) -> None:
    rec = Recorder(fail="a")
    with pytest.raises(RuntimeError, match="a failed"):
        load_all(db.admin_url, ["a", "b", "c"], {"b": {"a"}, "c": {"a"}}, rec)
    assert rec.started() == ["a"]


def test_one_connection_loads_in_order(db: PgDatabase) -> None:
    rec = Recorder(pause=0.01)
    load_all(db.admin_url, ["a", "b", "c"], {"c": {"a"}}, rec, connections=1)
    assert rec.started() == ["a", "b", "c"]
    assert rec.most == 1
