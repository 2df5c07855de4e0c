"""The benchmark report puts the measured ingest limit beside the loader's rate, when it has one."""

from __future__ import annotations

from advisoros_db.bench.report import limit_lines, load_profile

LOAD = {"rows": 2_936_241, "seconds": 596.885, "rows_per_second": 4_919}
LIMIT = {
    "rows": 2_936_241,
    "seconds": 447.449,
    "rows_per_second": 6_562,
    "copy_seconds": 64.296,
    "index_seconds": 478.287,
}


def test_the_limit_and_the_loaders_share_of_it_are_reported() -> None:
    text = " ".join(limit_lines({**LOAD, "limit": LIMIT, "percent_of_limit": 75.0}))
    assert "6,562 rows/s" in text
    assert "COPY 64.3 s" in text and "foreign keys 478.3 s" in text
    assert "75.0 % of it" in text
    assert "No CHECKPOINT before one of the phases" in text  # neither phase recorded one


def test_phases_that_started_from_a_checkpoint_say_so() -> None:
    load = {**LOAD, "checkpoint_seconds": 0.4}
    text = " ".join(
        limit_lines(
            {**load, "limit": {**LIMIT, "checkpoint_seconds": 9.5}, "percent_of_limit": 75.0}
        )
    )
    assert "after a CHECKPOINT (not timed: 0.4 s, 9.5 s)" in text


def test_a_load_without_the_limit_reports_none() -> None:
    assert limit_lines(LOAD) == []


def test_the_load_profile_puts_each_tables_loader_and_limit_seconds_side_by_side() -> None:
    tables = [
        {
            "table": "documents",
            "rows": 1_000,
            "seconds": 9.0,
            "copy_seconds": 3.0,
            "index_seconds": 6.0,
        },
        {
            "table": "engagements",
            "rows": 10,
            "seconds": 5.1,
            "copy_seconds": 5.0,
            "index_seconds": 0.1,
        },
    ]
    limit = {
        **LIMIT,
        "tables": [
            {"table": "documents", "rows": 1_000, "copy_seconds": 2.5, "index_seconds": 5.5},
            {"table": "engagements", "rows": 10, "copy_seconds": 0.2, "index_seconds": 0.1},
        ],
    }
    rows = [
        line
        for line in load_profile({**LOAD, "tables": tables, "limit": limit})
        if line.startswith("| `")
    ]
    assert rows == [
        "| `documents` | 1,000 | 3.0 | 6.0 | 2.5 | 5.5 |",
        "| `engagements` | 10 | 5.0 | 0.1 | 0.2 | 0.1 |",
    ]
    without = load_profile({**LOAD, "tables": tables})
    assert "| `documents` | 1,000 | 3.0 | 6.0 | - | - |" in without
    assert load_profile(LOAD) == []
