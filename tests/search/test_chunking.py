"""Chunking: windows within the token budget, overlapping, covering every word, in order."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from advisoros_db.search.chunking import chunk_text, content_hash
from advisoros_db.search.errors import SearchInputError


def by_length(word: str) -> int:
    return 1 + len(word) // 5


def test_short_text_is_one_chunk() -> None:
    chunks = chunk_text("W-2 wage statement for 2023", by_length, max_tokens=50)
    assert [c.text for c in chunks] == ["W-2 wage statement for 2023"]
    assert chunks[0].char_start == 0 and chunks[0].index == 0


def test_empty_and_blank_text_give_no_chunks() -> None:
    assert chunk_text("", by_length) == []
    assert chunk_text(" \n\t ", by_length) == []


def test_windows_respect_budget_and_overlap() -> None:
    text = " ".join(f"w{i}" for i in range(100))
    chunks = chunk_text(text, lambda _: 1, max_tokens=10, overlap_tokens=3)
    assert all(c.token_count <= 10 for c in chunks)
    for before, after in itertools.pairwise(chunks):
        shared = set(before.text.split()) & set(after.text.split())
        assert len(shared) == 3
    assert chunks[-1].text.endswith("w99")
    assert [c.index for c in chunks] == list(range(len(chunks)))


def test_offsets_point_into_the_text() -> None:
    text = "Schedule K-1\n\nPartner's share of income, deductions, credits " * 20
    for chunk in chunk_text(text, by_length, max_tokens=16, overlap_tokens=4):
        assert text[chunk.char_start : chunk.char_end] == chunk.text
        assert chunk.metadata() == {"char_start": chunk.char_start, "char_end": chunk.char_end}


def test_a_word_longer_than_a_window_is_its_own_chunk() -> None:
    chunks = chunk_text("a " + "x" * 500 + " b", by_length, max_tokens=5, overlap_tokens=1)
    assert "x" * 500 in [c.text for c in chunks]
    assert chunks[-1].text.endswith("b")


@pytest.mark.parametrize(("size", "overlap"), [(0, 0), (10, 10), (10, -1)])
def test_bad_sizes_are_refused(size: int, overlap: int) -> None:
    with pytest.raises(SearchInputError, match="must be"):
        chunk_text("text", by_length, max_tokens=size, overlap_tokens=overlap)


def test_hash_depends_on_text_only() -> None:
    assert content_hash("a") == content_hash("a") != content_hash("b")


@given(
    words=st.lists(st.text(alphabet="abcdefgh-1", min_size=1, max_size=12), max_size=200),
    size=st.integers(2, 40),
    data=st.data(),
)
def test_every_word_is_covered_in_order(words: list[str], size: int, data: st.DataObject) -> None:
    overlap = data.draw(st.integers(0, size - 1))
    text = " ".join(words)
    chunks = chunk_text(text, by_length, max_tokens=size, overlap_tokens=overlap)
    covered: list[str] = []
    last_end = -1
    for chunk in chunks:
        assert chunk.char_end > last_end  # always moves forward
        last_end = chunk.char_end
        for word in chunk.text.split():
            covered.append(word)
    assert set(covered) == set(words)
    assert sum(1 for _ in chunks) <= max(1, len(words))
