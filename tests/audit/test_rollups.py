"""Audit-log month aggregates from rollups of closed months plus live rows (issue 16.6): the
answers are exactly the raw rows' answers, before and after a month closes, after a late row
reopens it, and after its partition leaves."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from typing import Any

import psycopg
import pytest

from advisoros_db import migrations
from advisoros_db.audit import rollups
from advisoros_db.partitioning.archive import detach
from advisoros_db.partitioning.layout import AUDIT_LOGS, add_months, month_start, partition_for
from advisoros_db.tenancy import tenant_transaction
from tests.schema.conftest import SeededDb
from tests.security.test_document_keys import _seed
from tests.support import PgDatabase

_ACTIONS = ("create", "update", "view", "export")
_TYPES = ("client", "document", "invoice")

_RAW = (
    "SELECT organization_id, (created_at AT TIME ZONE 'UTC')::date, action, entity_type, count(*)"
    " FROM audit_logs WHERE created_at >= %s AND created_at < %s GROUP BY 1, 2, 3, 4"
)
_ROLLED = "SELECT organization_id, day, action, entity_type, events FROM audit_activity(%s, %s)"


@pytest.fixture
def firms(db: PgDatabase) -> SeededDb:
    return SeededDb(db=db, seed=_seed(db.admin_url))


def _this_month() -> dt.datetime:
    return month_start(dt.datetime.now(dt.UTC).date())


def _months_back(n: int) -> dt.datetime:
    return add_months(_this_month(), -n)


def _partitions(admin: psycopg.Connection[Any], months: int) -> None:
    """Give each of the last `months` months its own partition (the maintenance would)."""
    for back in range(1, months + 1):
        part = partition_for(AUDIT_LOGS, _months_back(back))
        admin.execute(
            "SELECT partition_create('audit_logs', %s, %s, %s)",
            (part.name, str(part.lower), str(part.upper)),
        )


def _backfill(admin: psycopg.Connection[Any], orgs: list[uuid.UUID], month: dt.datetime) -> int:
    """Rows spread over a month's days, actions and types, written by the owner (who may set the
    time: an import of a historical trail)."""
    rows = 0
    for i in range(90):
        at = month + dt.timedelta(days=i % 28, hours=i % 24, minutes=i)
        admin.execute(
            "INSERT INTO audit_logs (organization_id, entity_type, action, created_at)"
            " VALUES (%s, %s, %s, %s)",
            (orgs[i % len(orgs)], _TYPES[i % 3], _ACTIONS[i % 4], at),
        )
        rows += 1
    return rows


def _answers(conn: psycopg.Connection[Any], query: str, lower: Any, upper: Any) -> Counter[Any]:
    return Counter({tuple(r[:4]): int(r[4]) for r in conn.execute(query, (lower, upper))})


def _same(conn: psycopg.Connection[Any], lower: Any, upper: Any) -> Counter[Any]:
    raw = _answers(conn, _RAW, lower, upper)
    assert _answers(conn, _ROLLED, lower, upper) == raw
    return raw


def _closed(admin: psycopg.Connection[Any]) -> list[dt.datetime]:
    return [r[0] for r in admin.execute("SELECT month FROM audit_rollup.months ORDER BY 1")]


@pytest.fixture
def history(firms: SeededDb) -> SeededDb:
    """Three past months of audit rows in their own partitions, plus this month's (the app's)."""
    orgs = list(firms.seed.organizations)
    with psycopg.connect(firms.db.admin_url, autocommit=True) as admin:
        _partitions(admin, 3)
        for back in (1, 2, 3):
            _backfill(admin, orgs, _months_back(back))
    for org in orgs:
        with psycopg.connect(firms.db.app_url) as app, tenant_transaction(app, org):
            for action in _ACTIONS:
                app.execute(
                    "INSERT INTO audit_logs (organization_id, entity_type, action)"
                    " VALUES (%s, 'client', %s)",
                    (org, action),
                )
    return firms


def test_closed_months_answer_from_rollups_exactly_as_the_raw_rows(history: SeededDb) -> None:
    lower, upper = _months_back(3), add_months(_this_month(), 1)
    with psycopg.connect(history.db.admin_url, autocommit=True) as admin:
        before = _same(admin, lower, upper)
        closed = rollups.close_months(admin)
        assert [c.month for c in closed] == [_months_back(3), _months_back(2), _months_back(1)]
        assert all(c.events == 90 for c in closed)
        assert _closed(admin) == [_months_back(3), _months_back(2), _months_back(1)]
        assert _same(admin, lower, upper) == before
        # A range inside one closed month, and one across closed and open months.
        third = _months_back(2) + dt.timedelta(days=3)
        assert _same(admin, third, third + dt.timedelta(days=6))
        assert _same(admin, _months_back(1) + dt.timedelta(days=20), upper)
        # The rollups are what answered for the closed months: a changed rollup shows through.
        with admin.transaction(force_rollback=True):
            admin.execute("UPDATE audit_log_rollups SET events = events + 1000")
            assert sum(_answers(admin, _ROLLED, lower, upper).values()) > sum(before.values())
        assert rollups.close_months(admin) == []  # nothing new to close
    # The application role, inside one firm: that firm's rows only, from rollups and live rows.
    for org in history.seed.organizations:
        with psycopg.connect(history.db.app_url) as app, tenant_transaction(app, org):
            mine = _same(app, lower, upper)
            assert mine and {k[0] for k in mine} == {org}
            assert sum(mine.values()) == sum(v for k, v in before.items() if k[0] == org)


def test_a_late_row_reopens_its_month_and_the_next_run_closes_it_again(history: SeededDb) -> None:
    lower, upper = _months_back(3), add_months(_this_month(), 1)
    org = history.seed.organizations[0]
    late = _months_back(2) + dt.timedelta(days=5, hours=3)
    with psycopg.connect(history.db.admin_url, autocommit=True) as admin:
        rollups.close_months(admin)
        with admin.transaction():
            admin.execute(
                "INSERT INTO audit_logs (organization_id, entity_type, action, created_at)"
                " VALUES (%s, 'client', 'approve', %s)",
                (org, late),
            )
            # Reopened in the writer's own transaction: no moment where the answer is stale.
            assert _months_back(2) not in _closed(admin)
        after = _same(admin, lower, upper)
        assert after[(org, late.date(), "approve", "client")] == 1
        assert [c.month for c in rollups.close_months(admin)] == [_months_back(2)]
        assert _same(admin, lower, upper) == after
        # A rolled-back late row leaves the month closed.
        with admin.transaction(force_rollback=True):
            admin.execute(
                "INSERT INTO audit_logs (organization_id, entity_type, action, created_at)"
                " VALUES (%s, 'client', 'approve', %s)",
                (org, late),
            )
        assert _months_back(2) in _closed(admin)
        assert _same(admin, lower, upper) == after


def test_a_detached_month_answers_from_what_is_attached(history: SeededDb) -> None:
    month = _months_back(3)
    with psycopg.connect(history.db.admin_url, autocommit=True) as admin:
        rollups.close_months(admin)
        admin.execute("CREATE SCHEMA IF NOT EXISTS archive")
        detach(admin, AUDIT_LOGS, partition_for(AUDIT_LOGS, month))
        # The rollups of the archived month no longer answer; the raw side has no rows either.
        assert _same(admin, month, add_months(month, 1)) == Counter()
        rollups.close_months(admin)
        assert month not in _closed(admin)
        left = admin.execute(
            "SELECT count(*) FROM audit_log_rollups WHERE day >= %s AND day < %s",
            (month.date(), add_months(month, 1).date()),
        ).fetchone()
        assert left == (0,)


def test_the_current_month_does_not_close(history: SeededDb) -> None:
    with psycopg.connect(history.db.admin_url, autocommit=True) as admin:
        rollups.close_months(admin)
        assert _this_month() not in _closed(admin)
        assert max(_closed(admin)) == _months_back(1)


@pytest.mark.parametrize(
    ("lower", "upper"),
    [
        ("2026-01-01T00:00:00Z", "2026-01-01T12:00:00Z"),
        ("2026-01-01T05:00:00Z", "2026-02-01T00:00:00Z"),
        ("2026-02-01T00:00:00Z", "2026-01-01T00:00:00Z"),
    ],
)
def test_bounds_that_are_not_whole_utc_days_are_refused(
    db: PgDatabase, lower: str, upper: str
) -> None:
    with (
        psycopg.connect(db.admin_url) as admin,
        pytest.raises(psycopg.errors.InvalidParameterValue, match="whole UTC days"),
    ):
        admin.execute("SELECT * FROM audit_activity(%s, %s)", (lower, upper))


def rollups_rows(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM audit_log_rollups").fetchone()
    assert row is not None
    return int(row[0])


def test_revision_0018_downgrades_and_upgrades_on_a_populated_database(history: SeededDb) -> None:
    url = history.db.admin_url
    with psycopg.connect(url, autocommit=True) as admin:
        rollups.close_months(admin)
        trail = admin.execute("SELECT count(*), max(chain_seq) FROM audit_logs").fetchone()
    # The rollups hold rows, but are derived from the raw rows (which stay): no consent needed.
    assert rollups_rows(url) > 0
    done = migrations.downgrade(url, "0017_write_cost_document_keys")
    # Every later revision first, newest first (their names sort by number), then 0018 itself.
    assert done.undone[-2:] == ["0019_write_cost_audit_chain", "0018_write_cost_audit_rollups"]
    assert done.undone == sorted(done.undone, reverse=True)
    with psycopg.connect(url) as admin:
        gone = admin.execute(
            "SELECT to_regclass('audit_log_rollups'), to_regnamespace('audit_rollup'),"
            " to_regprocedure('audit_activity(timestamptz, timestamptz, uuid)')"
        ).fetchone()
        assert gone == (None, None, None)
        assert admin.execute("SELECT count(*), max(chain_seq) FROM audit_logs").fetchone() == trail
        triggers = admin.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgname = 'audit_rollup_reopen'"
        ).fetchone()
        assert triggers == (0,)
    migrations.upgrade(url, "head")
    with psycopg.connect(url, autocommit=True) as admin:
        assert [c.month for c in rollups.close_months(admin)] == [
            _months_back(3),
            _months_back(2),
            _months_back(1),
        ]
        _same(admin, _months_back(3), add_months(_this_month(), 1))
