"""Token-aware chunking with overlap: pure functions over text and a token counter, no I/O."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from advisoros_db.search.errors import SearchInputError

_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Chunk:
    """One window of a document's text, with where it came from."""

    index: int
    text: str
    char_start: int
    char_end: int
    token_count: int

    @property
    def content_hash(self) -> str:
        return content_hash(self.text)

    def metadata(self) -> dict[str, int]:
        return {"char_start": self.char_start, "char_end": self.char_end}


def content_hash(text: str) -> str:
    """The hash stored with a chunk: same text and same model means the embedding is reused."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chunk_text(
    text: str,
    count_tokens: Callable[[str], int],
    *,
    max_tokens: int = 256,
    overlap_tokens: int = 32,
) -> list[Chunk]:
    """Split `text` into windows of at most `max_tokens` tokens that overlap by `overlap_tokens`.

    `count_tokens(word)` returns the tokens one whitespace-separated word costs (sub-word
    tokenizers split words independently, so a window's cost is the sum of its words' costs). A
    single word longer than a window becomes a chunk of its own; the model truncates it.
    """
    if max_tokens < 1:
        raise SearchInputError(f"max_tokens must be at least 1, not {max_tokens}")
    if not 0 <= overlap_tokens < max_tokens:
        raise SearchInputError(
            f"overlap_tokens must be between 0 and max_tokens - 1 ({max_tokens - 1}), "
            f"not {overlap_tokens}"
        )
    words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    if not words:
        return []
    cache: dict[str, int] = {}
    costs: list[int] = []
    for start, end in words:
        word = text[start:end]
        if word not in cache:
            cache[word] = max(1, count_tokens(word))
        costs.append(cache[word])

    chunks: list[Chunk] = []
    first = 0
    while first < len(words):
        last, used = first, 0
        while last < len(words) and (used + costs[last] <= max_tokens or last == first):
            used += costs[last]
            last += 1
        start, end = words[first][0], words[last - 1][1]
        chunks.append(Chunk(len(chunks), text[start:end], start, end, used))
        if last >= len(words):
            break
        # Step back over trailing words worth up to `overlap_tokens`, leaving room for the next
        # new word so that every window reaches further than the one before.
        nxt, back = last, 0
        while (
            nxt - 1 > first
            and back + costs[nxt - 1] <= overlap_tokens
            and back + costs[nxt - 1] + costs[last] <= max_tokens
        ):
            nxt -= 1
            back += costs[nxt]
        first = nxt
    return chunks
