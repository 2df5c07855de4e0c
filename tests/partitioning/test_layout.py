"""Pure planning: names, bounds, runway, archive candidates."""

from __future__ import annotations

import datetime as dt

import pytest

from advisoros_db.partitioning.layout import (
    AUDIT_LOGS,
    DOCUMENTS,
    add_months,
    older_than,
    parse_name,
    partition_for,
    runway,
)


def test_month_partition_name_and_bounds_are_utc() -> None:
    moment = dt.datetime(2026, 1, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=5)))  # Dec 31 UTC
    part = partition_for(AUDIT_LOGS, moment)
    assert part.name == "audit_logs_2025_12"
    assert part.lower == dt.datetime(2025, 12, 1, tzinfo=dt.UTC)
    assert part.upper == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_audit_runway_is_current_month_and_next_three_across_a_year_end() -> None:
    names = [p.name for p in runway(AUDIT_LOGS, dt.date(2026, 11, 25))]
    assert names == [
        "audit_logs_2026_11",
        "audit_logs_2026_12",
        "audit_logs_2027_01",
        "audit_logs_2027_02",
    ]


def test_documents_runway_covers_2020_to_2030_then_follows_the_calendar() -> None:
    names = [p.name for p in runway(DOCUMENTS, dt.date(2026, 5, 1))]
    assert names[0] == "documents_2020" and names[-1] == "documents_2030"
    later = [p.name for p in runway(DOCUMENTS, dt.date(2030, 2, 1))]
    assert later[-1] == "documents_2032"


def test_archive_candidates_are_months_wholly_before_the_cutoff() -> None:
    today = dt.date(2026, 11, 25)
    parts = [
        partition_for(AUDIT_LOGS, add_months(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), i))
        for i in range(12)
    ]
    old = older_than(parts, AUDIT_LOGS, today, keep_months=3)
    assert [p.name for p in old][-1] == "audit_logs_2026_07"
    assert len(old) == 7
    with pytest.raises(ValueError, match="0 or more"):
        older_than(parts, AUDIT_LOGS, today, keep_months=-1)
    with pytest.raises(ValueError, match="archive keeps months"):
        older_than([], DOCUMENTS, today, keep_months=1)


def test_parse_name_round_trips_and_ignores_foreign_names() -> None:
    part = partition_for(DOCUMENTS, 2024)
    assert parse_name(DOCUMENTS, part.name) == part
    assert parse_name(DOCUMENTS, "documents_default") is None
    assert parse_name(AUDIT_LOGS, "audit_logs_2026_13") is None
    assert parse_name(AUDIT_LOGS, "audit_logs_old") is None
