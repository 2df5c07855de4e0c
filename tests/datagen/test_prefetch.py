"""The generator thread: request order, bounded hand-over, failures reach every consumer."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from advisoros_db.datagen.prefetch import Prefetcher


def test_items_come_per_name_in_request_order() -> None:
    produced: list[str] = []

    def produce(name: str) -> Iterator[str]:
        for i in range(5):
            produced.append(name)
            yield f"{name}{i}"

    with Prefetcher(produce, depth=1) as pre:
        pre.request("a")
        pre.request("b")
        assert list(pre.items("a")) == [f"a{i}" for i in range(5)]
        assert list(pre.items("b")) == [f"b{i}" for i in range(5)]
    # b was generated only after every item of a.
    assert produced == ["a"] * 5 + ["b"] * 5


def test_a_failure_reaches_its_consumer_and_every_later_one() -> None:
    def produce(name: str) -> Iterator[int]:
        yield 1
        if name == "a":
            raise ValueError("no parents for a")

    with Prefetcher(produce) as pre:
        pre.request("a")
        pre.request("b")
        with pytest.raises(ValueError, match="no parents for a"):
            list(pre.items("a"))
        with pytest.raises(ValueError, match="no parents for a"):
            list(pre.items("b"))


def test_a_consumer_that_stops_early_does_not_block_the_next_name() -> None:
    def produce(name: str) -> Iterator[int]:
        yield from range(100)

    with Prefetcher(produce, depth=1) as pre:
        pre.request("a")
        pre.request("b")
        first = pre.items("a")
        assert next(first) == 0
        first.close()
        got: list[int] = []
        reader = threading.Thread(target=lambda: got.extend(pre.items("b")))
        reader.start()
        reader.join(timeout=10)
        assert not reader.is_alive(), "the producer stayed blocked on a's full queue"
        assert got == list(range(100))


def test_a_name_cannot_be_requested_twice() -> None:
    with Prefetcher(lambda name: iter([name])) as pre:
        pre.request("a")
        with pytest.raises(ValueError, match="already requested"):
            pre.request("a")
