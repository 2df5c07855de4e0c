"""The CLI: `search text|similar|hybrid|index` and `embed`, JSON shape and clean errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from advisoros_db.cli.app import app
from advisoros_db.search.labelled_set import DOCUMENTS
from tests.search.conftest import Labelled
from tests.search.corpus import add_document, make_tenant
from tests.support import PgDatabase

runner = CliRunner()


def _point_at(monkeypatch: pytest.MonkeyPatch, db: PgDatabase) -> None:
    monkeypatch.setenv("ADVISOROS_DATABASE_URL", db.admin_url)
    monkeypatch.setenv("ADVISOROS_APP_DATABASE_URL", db.app_url)


def _json(args: list[str]) -> dict[str, object]:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_search_commands_print_results_with_ids_and_scores(
    labelled: Labelled, monkeypatch: pytest.MonkeyPatch
) -> None:
    _point_at(monkeypatch, labelled.db)
    org, docs = str(labelled.firm.org), labelled.firm.documents
    text = _json(["search", "text", "1040-ES", "--org", org, "--json"])
    first = text["results"][0]  # type: ignore[index]
    assert first["document_id"] == str(docs["estimated-1040es"]) and first["score"] > 0
    clients = _json(["search", "text", "Harbr", "--org", org, "--in", "clients", "--json"])
    assert clients["results"][0]["id"] == str(labelled.firm.client)  # type: ignore[index]
    similar = _json(
        [
            "search",
            "similar",
            "--document",
            str(docs["w2-harbor"]),
            "--org",
            org,
            "-k",
            "3",
            "--json",
        ]
    )
    assert len(similar["results"]) == 3  # type: ignore[arg-type]
    by_text = _json(["search", "similar", "--text", "home loan interest", "--org", org, "--json"])
    assert by_text["results"][0]["document_id"] == str(docs["mortgage-1098"])  # type: ignore[index]
    fused = _json(["search", "hybrid", "Form 941", "--org", org, "-k", "5", "--json"])
    assert fused["results"][0]["document_id"] == str(docs["payroll-941"])  # type: ignore[index]
    table = runner.invoke(app, ["search", "text", "mortgage", "--org", org])
    assert table.exit_code == 0 and "1098" in table.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "text", "   ", "--org", "{org}"], "empty"),
        (["search", "text", "tax", "--org", "acme"], "not an organization id"),
        (["search", "text", "tax", "--org", "{org}", "--in", "invoices"], "choose from"),
        (["search", "similar", "--org", "{org}"], "exactly one of"),
        (["search", "similar", "--org", "{org}", "--document", "nope"], "not a document id"),
        (
            [
                "search",
                "similar",
                "--org",
                "{org}",
                "--document",
                "00000000-0000-0000-0000-000000000000",
            ],
            "does not exist",
        ),
        (
            ["search", "hybrid", "tax", "--org", "{org}", "--model", "bert"],
            "unknown embedding model",
        ),
        (
            ["search", "hybrid", "tax", "--org", "{org}", "--model", "text-embedding-3-small"],
            "ADVISOROS_OPENAI_API_KEY",
        ),
    ],
)
def test_bad_input_is_one_clear_line(
    labelled: Labelled, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    _point_at(monkeypatch, labelled.db)
    monkeypatch.delenv("ADVISOROS_OPENAI_API_KEY", raising=False)
    result = runner.invoke(app, [a.format(org=labelled.firm.org) for a in args])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_embed_command(search_db: PgDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    _point_at(monkeypatch, search_db)
    tenant = make_tenant(search_db.admin_url, "Embed CLI CPA")
    for doc in DOCUMENTS[:2]:
        add_document(search_db.admin_url, tenant, doc)
    summary = _json(["embed", "--org", str(tenant.org), "--json"])
    assert summary["documents"] == 2 and summary["failed"] == {}
    again = runner.invoke(app, ["embed"])
    assert again.exit_code == 0 and "0 documents" in again.output
    index = _json(["search", "index", "--org", str(tenant.org), "--json"])
    assert index["status"] == "ready"
    assert (
        _json(["search", "index", "--org", str(tenant.org), "--drop", "--json"])["status"]
        == "dropped"
    )
