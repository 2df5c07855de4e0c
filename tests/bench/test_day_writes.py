"""One day of writes at the data set's own recent rate (the incremental-backup figure's load):
each table with history gets its daily rate of new rows, dated now, and as many edits; what it
cannot write is reported, not hidden."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from advisoros_db.bench.day_writes import RATE_WINDOW_DAYS, daily_rate, write_one_day
from tests.datagen.conftest import seeded_database
from tests.support import PgDatabase, PgServer


@pytest.fixture
def seeded(server: PgServer, migrated_template: str) -> Iterator[PgDatabase]:
    yield from seeded_database(server, migrated_template, seed=11)


def test_a_day_of_writes_adds_the_recent_daily_rate_of_each_table(seeded: PgDatabase) -> None:
    url = seeded.admin_url
    with psycopg.connect(url, autocommit=True) as conn:
        rates = {t: daily_rate(conn, t)[2] for t in ("audit_logs", "documents")}
        # The growing business: the newest month runs above the whole history's average.
        rows, days, per_day = daily_rate(conn, "documents")
        assert days > RATE_WINDOW_DAYS and per_day > rows / days
        started = conn.execute("SELECT now()").fetchone()[0]  # type: ignore[index]

    day = write_one_day(url)

    assert day.wal_bytes > 0
    with psycopg.connect(url, autocommit=True) as conn:
        for table, rate in rates.items():
            assert day.inserted[table] == rate
            new = conn.execute(
                f"SELECT count(*) FROM {table} WHERE created_at >= %s", (started,)
            ).fetchone()
            assert new == (rate,), table
        edited = conn.execute(
            "SELECT count(*) FROM documents WHERE updated_at >= %s AND created_at < %s",
            (started, started),
        ).fetchone()
    assert day.updated["documents"] == rates["documents"]
    assert edited == (rates["documents"],), "existing rows edited, not the day's new ones"
    assert "audit_logs" not in day.updated, "append-only: no updated_at, never edited"
    assert day.as_dict()["rows_inserted"] == sum(day.inserted.values())
    assert all(day.skipped.values()), "every skipped table says why"
    assert not set(day.skipped) & set(day.inserted), "a skipped table kept no rows"
