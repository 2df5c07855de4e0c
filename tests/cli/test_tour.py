"""`advisoros-db tour` walks the demo data for real: tenant isolation, partitions, search."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from advisoros_db import datagen
from advisoros_db.cli.app import app
from tests.support import PgDatabase


@pytest.mark.slow
def test_tour_shows_each_capability_on_the_demo_data(
    db: PgDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = datagen.load_demo(db.admin_url, embed=3)
    assert loaded is not None
    monkeypatch.setenv("ADVISOROS_DATABASE_URL", db.admin_url)
    monkeypatch.setenv("ADVISOROS_APP_DATABASE_URL", db.app_url)
    monkeypatch.setenv("COLUMNS", "200")
    result = CliRunner().invoke(app, ["tour"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "with FORCE ROW LEVEL SECURITY" in out
    assert "the app role with no tenant set:                refused: no tenant is set" in out
    assert "audit_logs: " in out and "documents: " in out
    assert str(loaded.organization_id)[:8] in out
    assert "1099-NEC" in out, "the full-text step found no 1099-NEC"
    assert "<mark>" not in out, "snippets are styled, not tagged"

    as_json = CliRunner().invoke(app, ["tour", "--json"])
    assert as_json.exit_code == 0, as_json.output
    facts = json.loads(as_json.stdout)
    assert facts["tables_forcing_rls"] > 0 and facts["revision"]
    assert facts["isolation"]["organization_id"] == str(loaded.organization_id)
    assert facts["isolation"]["app_role_without_tenant"].startswith("refused: no tenant is set")
    assert {"audit_logs", "documents"} <= set(facts["partitions"])
    assert facts["health"]["primary"]["available"] is True
    hits = facts["search"]["text"]["results"]
    assert any("1099-NEC" in f"{hit['title']} {hit['snippet']}" for hit in hits), hits
    assert facts["search"]["similar"]["results"], "the semantic step found nothing"


def test_tour_says_what_to_do_without_demo_data(
    db: PgDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADVISOROS_DATABASE_URL", db.admin_url)
    monkeypatch.setenv("ADVISOROS_APP_DATABASE_URL", db.app_url)
    result = CliRunner().invoke(app, ["tour"])
    assert result.exit_code == 1
    assert "advisoros-db up --demo" in result.output
