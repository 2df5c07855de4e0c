"""Audit month rollups obey row-level security like every tenant table (issue 16.6). Every attack
runs as the application role, the way a tenant could: reading another firm's rollups directly or
through audit_activity(), writing or deleting rollups, reaching the internal month state, or
learning from an answer or an error whether another firm was active in a month."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import pytest

from advisoros_db.audit import rollups
from advisoros_db.errors import PermissionDenied, translated
from advisoros_db.partitioning.layout import add_months
from advisoros_db.tenancy import tenant_transaction
from tests.audit.test_rollups import _months_back, _this_month, firms, history
from tests.schema.conftest import SeededDb

__all__ = ["firms", "history"]  # fixtures used here


@pytest.fixture
def closed(history: SeededDb) -> SeededDb:
    with psycopg.connect(history.db.admin_url, autocommit=True) as admin:
        assert rollups.close_months(admin)
    return history


def _rows(conn: psycopg.Connection[Any], query: str, *params: Any) -> list[tuple[Any, ...]]:
    return conn.execute(query, params).fetchall()


def test_a_firm_reads_only_its_own_rollups(closed: SeededDb) -> None:
    a, b = closed.seed.organizations
    lower, upper = _months_back(3), add_months(_this_month(), 1)
    with psycopg.connect(closed.db.app_url) as app, tenant_transaction(app, a):
        direct = _rows(app, "SELECT DISTINCT organization_id FROM audit_log_rollups")
        assert direct == [(a,)]
        through = _rows(
            app, "SELECT DISTINCT organization_id FROM audit_activity(%s, %s)", lower, upper
        )
        assert through == [(a,)]
        # Asking for the other firm by name returns nothing, from rollups and live rows alike.
        assert _rows(app, "SELECT * FROM audit_activity(%s, %s, %s)", lower, upper, b) == []
        assert _rows(app, "SELECT * FROM audit_log_rollups WHERE organization_id = %s", b) == []


def test_rollups_cannot_be_written_by_a_tenant(closed: SeededDb) -> None:
    a = closed.seed.organizations[0]
    day = _months_back(2).date()
    attempts = [
        (
            "INSERT INTO audit_log_rollups (organization_id, day, action, entity_type, events)"
            " VALUES (%s, %s, 'delete', 'client', 1)",
            (a, day),
        ),
        ("UPDATE audit_log_rollups SET events = 0 WHERE organization_id = %s", (a,)),
        ("DELETE FROM audit_log_rollups WHERE organization_id = %s", (a,)),
        ("DELETE FROM audit_rollup.months", ()),
        ("UPDATE audit_rollup.state SET changed_at = now()", ()),
        ("SELECT * FROM audit_rollup.months", ()),
    ]
    with psycopg.connect(closed.db.app_url) as app:
        for statement, params in attempts:
            with (
                pytest.raises(PermissionDenied, match="permission denied"),
                translated(),
                tenant_transaction(app, a),
            ):
                app.execute(statement, params)
    with psycopg.connect(closed.db.admin_url) as admin:
        months = admin.execute("SELECT count(*) FROM audit_rollup.months").fetchone()
        assert months == (3,)


def test_a_tenants_own_audit_writes_never_reopen_a_closed_month(closed: SeededDb) -> None:
    a = closed.seed.organizations[0]
    with psycopg.connect(closed.db.app_url) as app, tenant_transaction(app, a):
        app.execute(
            "INSERT INTO audit_logs (organization_id, entity_type, action) VALUES (%s, 'client', 'view')",
            (a,),
        )
    with psycopg.connect(closed.db.admin_url) as admin:
        months = admin.execute("SELECT count(*) FROM audit_rollup.months").fetchone()
        assert months == (3,)


def test_no_answer_or_error_depends_on_another_firms_activity(closed: SeededDb) -> None:
    """Firm B was active in the closed months; nobody was active 20 years ago. Firm A's view of
    both, by name of B and in general, is the same: nothing, and no error."""
    a, b = closed.seed.organizations
    active = (_months_back(2), _months_back(1))
    idle = (add_months(_months_back(2), -240), add_months(_months_back(1), -240))
    with psycopg.connect(closed.db.app_url) as app, tenant_transaction(app, a):
        for lower, upper in (active, idle):
            assert _rows(app, "SELECT * FROM audit_activity(%s, %s, %s)", lower, upper, b) == []
            assert _rows(
                app,
                "SELECT count(*) FROM audit_log_rollups WHERE organization_id = %s"
                " AND day >= %s AND day < %s",
                b,
                lower.date(),
                upper.date(),
            ) == [(0,)]


def test_without_a_tenant_the_rollups_are_an_error_naming_the_setting(closed: SeededDb) -> None:
    lower = _months_back(2)
    with psycopg.connect(closed.db.app_url, autocommit=True) as app:
        for query, params in (
            ("SELECT * FROM audit_log_rollups", ()),
            ("SELECT * FROM audit_activity(%s, %s)", (lower, lower + dt.timedelta(days=3))),
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="no tenant is set"):
                app.execute(query, params)
