"""The audit trail is tamper-evident (issue 13, "Also"): the database sets the time and the acting
user of the application's entries, chains each entry to its organization's previous one by hash,
and `audit verify` names the first entry that does not verify."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from typing import Any

import psycopg
import pytest

from advisoros_db import migrations
from advisoros_db.audit import act_as, verify
from advisoros_db.errors import PermissionDenied, translated
from advisoros_db.tenancy import tenant_transaction
from tests.schema.conftest import SeededDb
from tests.security.test_document_keys import _seed
from tests.support import PgDatabase

_ENTRY = "INSERT INTO audit_logs (organization_id, entity_type, action) VALUES (%s, 'client', %s)"


@pytest.fixture
def firms(db: PgDatabase) -> SeededDb:
    return SeededDb(db=db, seed=_seed(db.admin_url))


def _append(url: str, org: uuid.UUID, actions: list[str], user: uuid.UUID | None = None) -> None:
    with psycopg.connect(url) as app, tenant_transaction(app, org):
        act_as(app, user)
        for action in actions:
            app.execute(_ENTRY, (org, action))


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ADVISOROS_DATABASE_URL": url, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "advisoros_db.cli.app", "audit", "verify", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_database_sets_time_and_acting_user(firms: SeededDb) -> None:
    s = firms.seed
    org, me, colleague = s.organizations[0], s.row("users", 0), uuid.uuid4()
    attempts: list[tuple[str, tuple[Any, ...]]] = [
        (
            "INSERT INTO audit_logs (organization_id, entity_type, action, created_at)"
            " VALUES (%s, 'client', 'delete', now() - interval '400 days')",
            (org,),
        ),
        (
            "INSERT INTO audit_logs (organization_id, entity_type, action, created_at)"
            " VALUES (%s, 'client', 'delete', now() + interval '1 hour')",
            (org,),
        ),
        (
            "INSERT INTO audit_logs (organization_id, user_id, entity_type, action)"
            " VALUES (%s, %s, 'client', 'delete')",
            (org, colleague),
        ),
    ]
    with psycopg.connect(firms.db.app_url) as app:
        for statement, params in attempts:
            with (
                pytest.raises(PermissionDenied, match=r"set by the database|acting user"),
                translated(),
                tenant_transaction(app, org),
            ):
                act_as(app, me)
                app.execute(statement, params)
        with tenant_transaction(app, org):
            act_as(app, me)
            row = app.execute(
                _ENTRY + " RETURNING user_id, created_at = now(), chain_seq IS NOT NULL",
                (org, "update"),
            ).fetchone()
            # The chain columns are the database's too: what the application sends is replaced.
            forged = app.execute(
                "INSERT INTO audit_logs (organization_id, entity_type, action, chain_seq, row_hash)"
                " VALUES (%s, 'client', 'view', 1, '\\x00') RETURNING chain_seq, row_hash",
                (org,),
            ).fetchone()
    assert row == (me, True, True)
    assert forged is not None and forged[0] != 1 and forged[1] != b"\x00"
    with psycopg.connect(firms.db.admin_url) as admin:
        assert verify(admin, org).ok
        # Nothing of the refused attempts reached the table.
        deletes = admin.execute(
            "SELECT count(*) FROM audit_logs WHERE organization_id = %s AND action = 'delete'",
            (org,),
        )
        assert deletes.fetchone() == (0,)


def test_an_edit_by_a_superuser_is_found_at_that_row(firms: SeededDb) -> None:
    s = firms.seed
    org, other = s.organizations[0], s.organizations[1]
    _append(firms.db.app_url, org, ["create", "update", "view", "export"])
    _append(firms.db.app_url, other, ["create"])
    with psycopg.connect(firms.db.admin_url, autocommit=True) as admin:
        assert verify(admin).ok
        target = admin.execute(
            "SELECT id, chain_seq FROM audit_logs WHERE organization_id = %s AND action = 'view'",
            (org,),
        ).fetchone()
        assert target is not None
        # A superuser "corrects" the entry: what the action was, and when.
        admin.execute("UPDATE audit_logs SET action = 'delete' WHERE id = %s", (target[0],))
        report = verify(admin)
    assert not report.ok and len(report.breaks) == 1  # the other firm's chain is intact
    bad = report.breaks[0]
    assert (bad.organization_id, bad.id, bad.chain_seq) == (str(org), str(target[0]), target[1])
    assert "edited" in bad.problem
    done = _cli(firms.db.admin_url, "--org", str(org), "--json")
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["breaks"][0]["id"] == str(target[0])
    text = _cli(firms.db.admin_url)
    assert text.returncode == 1 and str(target[0]) in text.stderr
    assert _cli(firms.db.admin_url, "--org", str(other)).returncode == 0


def test_a_deleted_entry_or_tail_is_found(firms: SeededDb) -> None:
    s = firms.seed
    org, other = s.organizations[0], s.organizations[1]
    _append(firms.db.app_url, org, ["create", "update", "view"])
    _append(firms.db.app_url, other, ["create", "update"])
    with psycopg.connect(firms.db.admin_url, autocommit=True) as admin:
        middle = admin.execute(
            "DELETE FROM audit_logs WHERE organization_id = %s AND action = 'update'"
            " RETURNING chain_seq",
            (org,),
        ).fetchone()
        last = admin.execute(
            "DELETE FROM audit_logs WHERE organization_id = %s AND action = 'update'"
            " RETURNING chain_seq",
            (other,),
        ).fetchone()
        report = {b.organization_id: b for b in verify(admin).breaks}
    assert middle is not None and last is not None
    assert report[str(org)].chain_seq == middle[0] + 1 and "missing" in report[str(org)].problem
    assert report[str(other)].id is None and "head is at seq" in report[str(other)].problem


def test_concurrent_entries_of_one_firm_form_one_valid_chain(firms: SeededDb) -> None:
    org, writers, each = firms.seed.organizations[0], 4, 25
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            start.wait(timeout=60)
            for i in range(each):
                _append(firms.db.app_url, org, ["create" if i % 2 else "update"])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors and not any(t.is_alive() for t in threads)
    with psycopg.connect(firms.db.admin_url) as admin:
        seqs = [
            r[0]
            for r in admin.execute(
                "SELECT chain_seq FROM audit_logs WHERE organization_id = %s ORDER BY chain_seq",
                (org,),
            ).fetchall()
        ]
        report = verify(admin, org)
    assert report.ok, report.breaks
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) >= writers * each


def test_the_revision_chains_existing_entries_and_downgrades(firms: SeededDb) -> None:
    org = firms.seed.organizations[0]
    _append(firms.db.app_url, org, ["create", "update"])
    migrations.downgrade(firms.db.admin_url, "0011_keys_unique_document_ids")
    with psycopg.connect(firms.db.admin_url) as admin:
        gone = admin.execute(
            "SELECT count(*) FROM pg_attribute WHERE attrelid = 'audit_logs'::regclass"
            " AND attname IN ('chain_seq', 'prev_hash', 'row_hash')"
        ).fetchone()
        assert gone == (0,)
        assert admin.execute("SELECT to_regnamespace('audit_chain')").fetchone() == (None,)
        # Written while no chain existed, with a time of the owner's choosing.
        admin.execute(
            "INSERT INTO audit_logs (organization_id, entity_type, action, created_at)"
            " VALUES (%s, 'client', 'view', now() - interval '2 days')",
            (org,),
        )
        total = admin.execute("SELECT count(*) FROM audit_logs").fetchone()
    migrations.upgrade(firms.db.admin_url, "head")
    _append(firms.db.app_url, org, ["export"])
    with psycopg.connect(firms.db.admin_url) as admin:
        report = verify(admin)
        assert report.ok, report.breaks
        assert total is not None and report.rows == total[0] + 1


def test_rows_written_with_triggers_off_are_named_until_sealed(firms: SeededDb) -> None:
    org = firms.seed.organizations[0]
    _append(firms.db.app_url, org, ["create"])
    with psycopg.connect(firms.db.admin_url, autocommit=True) as admin:
        with admin.transaction():  # how the data loader writes: no row triggers
            admin.execute("SET LOCAL session_replication_role = replica")
            loaded = admin.execute(_ENTRY + " RETURNING id", (org, "view")).fetchone()
        assert loaded is not None
        [bad] = verify(admin, org).breaks
        assert bad.id == str(loaded[0]) and "audit_chain_seal()" in bad.problem
        assert admin.execute("SELECT audit_chain_seal()").fetchone() == (1,)
        assert verify(admin, org).ok


def test_another_firms_entry_is_refused_by_the_policy_and_touches_its_chain_not(
    firms: SeededDb,
) -> None:
    s = firms.seed
    _append(firms.db.app_url, s.organizations[1], ["create"])
    with psycopg.connect(firms.db.admin_url) as admin:
        before = admin.execute("SELECT * FROM audit_chain.heads ORDER BY 1").fetchall()
    with (
        psycopg.connect(firms.db.app_url) as app,
        pytest.raises(PermissionDenied, match="row-level security"),
        translated(),
        tenant_transaction(app, s.organizations[0]),
    ):
        app.execute(_ENTRY, (s.organizations[1], "delete"))
    with psycopg.connect(firms.db.admin_url) as admin:
        assert admin.execute("SELECT * FROM audit_chain.heads ORDER BY 1").fetchall() == before
        assert verify(admin).ok
