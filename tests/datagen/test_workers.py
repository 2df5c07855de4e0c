"""Generator processes: per-name hand-over in request order, failures reach every consumer."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from functools import partial

import pytest

from advisoros_db.datagen.workers import Pool, WorkerFailed


def _numbers(count: int, index: int, workers: int) -> Callable[[str], Iterator[str]]:
    """Worker `index` makes the items of `name` whose number is its share (i % workers)."""

    def produce(name: str) -> Iterator[str]:
        for i in range(index, count, workers):
            yield f"{name}{i}"

    return produce


def _failing(index: int, workers: int) -> Callable[[str], Iterator[int]]:
    def produce(name: str) -> Iterator[int]:
        yield index
        if name == "a" and index == workers - 1:
            raise ValueError("no parents for a")

    return produce


def _unpicklable(index: int, workers: int) -> Callable[[str], Iterator[int]]:
    def produce(name: str) -> Iterator[int]:
        yield 1
        raise _Local("cannot travel")

    class _Local(Exception):  # defined locally: pickling it back fails
        pass

    return produce


@pytest.mark.parametrize("workers", [1, 3])
def test_every_item_of_each_name_arrives_once(workers: int) -> None:
    with Pool[str](partial(_numbers, 7), workers) as pool:
        pool.request("a")
        pool.request("b")
        assert sorted(pool.items("a")) == sorted(f"a{i}" for i in range(7))
        assert sorted(pool.items("b")) == sorted(f"b{i}" for i in range(7))


def test_a_failure_reaches_its_consumer_and_every_later_one() -> None:
    with Pool[int](_failing, 2) as pool:
        pool.request("a")
        pool.request("b")
        with pytest.raises(ValueError, match="no parents for a"):
            list(pool.items("a"))
        with pytest.raises(ValueError, match="no parents for a"):
            list(pool.items("b"))


def test_an_exception_that_cannot_be_sent_back_is_reported_with_its_traceback() -> None:
    with Pool[int](_unpicklable, 1) as pool:
        pool.request("a")
        with pytest.raises(WorkerFailed, match="cannot travel"):
            list(pool.items("a"))


def test_a_consumer_that_stops_early_does_not_block_the_next_name() -> None:
    with Pool[str](partial(_numbers, 200), 2, depth=1) as pool:
        pool.request("a")
        pool.request("b")
        first = pool.items("a")
        assert next(first).startswith("a")
        first.close()
        got: list[str] = []
        reader = threading.Thread(target=lambda: got.extend(pool.items("b")))
        reader.start()
        reader.join(timeout=120)
        assert not reader.is_alive(), "the workers stayed blocked on a's full queue"
        assert sorted(got) == sorted(f"b{i}" for i in range(200))


def test_a_name_cannot_be_requested_twice() -> None:
    with Pool[str](partial(_numbers, 1), 1) as pool:
        pool.request("a")
        with pytest.raises(ValueError, match="already requested"):
            pool.request("a")
        assert list(pool.items("a")) == ["a0"]
