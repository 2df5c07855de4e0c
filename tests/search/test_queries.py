"""Input validation: what users type and pass is accepted, cleaned, or refused with a clear error."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from advisoros_db.search.errors import SearchInputError
from advisoros_db.search.queries import check_k, check_vector, clean_query, parse_id, prefix_tsquery


@pytest.mark.parametrize("text", ["", "   ", "\x00", "\n\t"])
def test_empty_queries_are_refused(text: str) -> None:
    with pytest.raises(SearchInputError, match="empty"):
        clean_query(text)


def test_long_queries_are_refused_with_the_limit() -> None:
    with pytest.raises(SearchInputError, match="at most 1000"):
        clean_query("tax " * 400)


def test_nul_bytes_are_removed() -> None:
    assert clean_query(" W-2\x00 2023 ") == "W-2  2023"


def test_prefix_query_is_always_valid_syntax() -> None:
    assert prefix_tsquery("acme hold") == "'acme' & 'hold':*"
    assert prefix_tsquery("O'Brien & (Sons") == "'o' & 'brien' & 'sons':*"
    assert prefix_tsquery("!!! ---") is None
    assert prefix_tsquery("Налог") == "'налог':*"


def test_vectors_of_the_wrong_size_or_values_are_refused() -> None:
    with pytest.raises(SearchInputError, match="384 dimensions"):
        check_vector([0.1] * 10, 384)
    with pytest.raises(SearchInputError, match="NaN"):
        check_vector([float("nan")] * 3, 3)
    with pytest.raises(SearchInputError, match="all zeros"):
        check_vector([0.0] * 3, 3)
    assert check_vector(np.ones(3), 3).dtype == np.float32


def test_ids_and_k() -> None:
    value = uuid.uuid4()
    assert parse_id(str(value)) == value
    with pytest.raises(SearchInputError, match="not a document id"):
        parse_id("42; DROP TABLE documents")
    with pytest.raises(SearchInputError, match="between 1 and"):
        check_k(0)
