"""The audit chain's one-update stamping (revision 0019_write_cost_audit_chain): the head found by
the ctid the transaction's previous row left in a setting. That setting is the application's to
write too; a forged one must change nothing but speed. Every attack runs as the application role
in a tenant transaction; `audit verify` judges the result."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from advisoros_db import migrations
from advisoros_db.audit import act_as, verify
from advisoros_db.tenancy import tenant_transaction
from tests.schema.conftest import SeededDb
from tests.security.test_document_keys import _seed
from tests.support import PgDatabase

_MANY = (
    "INSERT INTO audit_logs (organization_id, entity_type, action)"
    " SELECT %s, 'client', 'view' FROM generate_series(1, %s)"
)


@pytest.fixture
def firms(db: PgDatabase) -> SeededDb:
    return SeededDb(db=db, seed=_seed(db.admin_url))


def _hint(org: uuid.UUID) -> str:
    return "audit_chain.head_" + org.hex


def _heads(admin: psycopg.Connection[Any]) -> dict[uuid.UUID, tuple[int, bytes]]:
    return {
        r[0]: (r[1], bytes(r[2]))
        for r in admin.execute("SELECT organization_id, seq, hash FROM audit_chain.heads")
    }


def _verified(url: str) -> None:
    with psycopg.connect(url) as admin:
        report = verify(admin)
    assert report.ok, report.as_dict()


def test_many_rows_and_statements_in_one_transaction_chain_as_before(firms: SeededDb) -> None:
    s = firms.seed
    for org in s.organizations:
        with psycopg.connect(firms.db.app_url) as app, tenant_transaction(app, org):
            act_as(app, None)
            app.execute(_MANY, (org, 300))
            app.execute(_MANY, (org, 1))
            app.execute(_MANY, (org, 40))
    with psycopg.connect(firms.db.admin_url) as admin:
        heads = _heads(admin)
        for org in s.organizations:
            last = admin.execute(
                "SELECT chain_seq, row_hash FROM audit_logs WHERE organization_id = %s"
                " ORDER BY chain_seq DESC LIMIT 1",
                (org,),
            ).fetchone()
            assert last is not None and heads[org] == (last[0], bytes(last[1]))
    _verified(firms.db.admin_url)


@pytest.mark.parametrize("forged", ["theirs", "stale", "garbage", "(0,1)"])
def test_a_forged_head_hint_changes_nothing(firms: SeededDb, forged: str) -> None:
    mine, theirs = firms.seed.organizations
    with psycopg.connect(firms.db.app_url) as app:
        for org in (mine, theirs):
            with tenant_transaction(app, org):
                app.execute(_MANY, (org, 5))
    with psycopg.connect(firms.db.admin_url) as admin:
        before = _heads(admin)
        their_head = admin.execute(
            "SELECT ctid::text FROM audit_chain.heads WHERE organization_id = %s", (theirs,)
        ).fetchone()
        assert their_head is not None
    with psycopg.connect(firms.db.app_url) as app, tenant_transaction(app, mine):
        # Point my organization's hint at their head, at an old version of mine, or at nothing.
        value = {"theirs": their_head[0], "stale": None, "garbage": "x'); --"}.get(forged, forged)
        if value is None:
            app.execute(_MANY, (mine, 2))
            stale = app.execute("SELECT current_setting(%s)", (_hint(mine),)).fetchone()
            assert stale is not None
            app.execute(_MANY, (mine, 1))  # moves the head on: the saved ctid is now stale
            value = stale[0]
        app.execute("SELECT set_config(%s, %s, true)", (_hint(mine), value))
        app.execute(_MANY, (mine, 3))
        # Their hint pointed at my head: their organization is not mine to write anyway.
        app.execute("SELECT set_config(%s, %s, true)", (_hint(theirs), value))
    with psycopg.connect(firms.db.admin_url) as admin:
        after = _heads(admin)
    assert after[theirs] == before[theirs]
    assert after[mine][0] == before[mine][0] + (6 if forged == "stale" else 3)
    _verified(firms.db.admin_url)


def test_revision_0019_downgrades_and_upgrades_on_a_populated_database(firms: SeededDb) -> None:
    url, org = firms.db.admin_url, firms.seed.organizations[0]

    def write(rows: int) -> None:
        with psycopg.connect(firms.db.app_url) as app, tenant_transaction(app, org):
            app.execute(_MANY, (org, rows))

    write(20)
    migrations.downgrade(url, "0018_write_cost_audit_rollups")
    with psycopg.connect(url) as admin:
        body = admin.execute("SELECT prosrc FROM pg_proc WHERE proname = 'audit_chain_stamp'")
        source = body.fetchone()
        assert source is not None and "audit_chain_link" in source[0]
    write(7)  # the chain goes on under 0012's function
    _verified(url)
    migrations.upgrade(url, "head")
    write(9)
    _verified(url)
    with psycopg.connect(url) as admin:
        count = admin.execute(
            "SELECT count(*), max(chain_seq) FROM audit_logs WHERE organization_id = %s", (org,)
        ).fetchone()
    assert count is not None and count[0] == count[1]
