"""Validation of what users type and pass: queries, ids, k, vectors. Pure; errors say what to do."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from advisoros_db.search.errors import SearchInputError

MAX_QUERY_CHARS = 1000
MAX_K = 1000
_PREFIX_WORD = re.compile(r"\w+")


def clean_query(text: str) -> str:
    """The query without NUL bytes and outer whitespace; empty or too long is an error."""
    # PostgreSQL text cannot hold NUL: it would be a server error, not an empty result.
    cleaned = text.replace("\x00", " ").strip()
    if not cleaned:
        raise SearchInputError("the query is empty: type one or more words to search for")
    if len(cleaned) > MAX_QUERY_CHARS:
        raise SearchInputError(
            f"the query is {len(cleaned)} characters long; shorten it to at most {MAX_QUERY_CHARS}"
        )
    return cleaned


def contains_pattern(fragment: str) -> str:
    """An ILIKE pattern matching `fragment` anywhere, its wildcards and backslashes escaped.

    What a user types is text to find, never a pattern: `50%` finds "50%", not "500".
    """
    cleaned = clean_query(fragment)
    escaped = cleaned.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def check_like_pattern(pattern: str) -> str:
    """A LIKE/ILIKE pattern PostgreSQL accepts, or an error saying what is wrong.

    PostgreSQL raises "LIKE pattern must not end with escape character" only while matching a
    row, and only once a row matches the pattern up to that backslash: checked here, before the
    query, the error can never depend on what rows exist.
    """
    if "\x00" in pattern:
        raise SearchInputError("the pattern holds a NUL byte; remove it")
    trailing = len(pattern) - len(pattern.rstrip("\\"))
    if trailing % 2:
        raise SearchInputError(
            f"the pattern {pattern!r} ends with a lone backslash (the escape character); "
            "write \\\\ for a literal backslash, or use contains_pattern() for plain text"
        )
    return pattern


def check_k(k: int) -> int:
    if not 1 <= k <= MAX_K:
        raise SearchInputError(f"k must be between 1 and {MAX_K}, not {k}")
    return k


def parse_id(value: uuid.UUID | str, what: str = "document") -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value).strip())
    except ValueError:
        raise SearchInputError(f"{value!r} is not a {what} id; pass the {what}'s UUID") from None


def prefix_tsquery(text: str) -> str | None:
    """A `to_tsquery` text matching every word, the last one as a prefix (type-ahead).

    Only word characters survive, so the result is always valid tsquery syntax; None when the
    text has no word at all.
    """
    words = _PREFIX_WORD.findall(text.lower())
    if not words:
        return None
    terms = [f"'{word}'" for word in words[:-1]] + [f"'{words[-1]}':*"]
    return " & ".join(terms)


def check_vector(
    vector: Sequence[float] | NDArray[np.floating], dimensions: int
) -> NDArray[np.float32]:
    """A finite float32 vector of the model's size, or an error naming the expected size."""
    array = np.asarray(vector, dtype=np.float32)
    if array.ndim != 1 or array.shape[0] != dimensions:
        raise SearchInputError(
            f"the vector has shape {array.shape}; this model's vectors have {dimensions} dimensions"
        )
    if not np.all(np.isfinite(array)):
        raise SearchInputError("the vector holds NaN or infinite values; pass finite numbers")
    if not np.any(array):
        raise SearchInputError("the vector is all zeros; cosine distance needs a non-zero vector")
    return array
