"""What the command line shows: identifiers whole at 80 columns, search matches styled (not
`<mark>` tags), blanks for missing values; `--json` on every command, errors as JSON on stderr,
log records (Alembic's warnings included) as plain text or JSON lines."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from advisoros_db import migrations
from advisoros_db.cli import search
from advisoros_db.cli.app import app
from advisoros_db.cli.output import console
from advisoros_db.search.labelled_set import DOCUMENTS
from tests.leakproof.test_migration import (  # noqa: F401 (owner_url: a fixture)
    BEFORE,
    hand_over,
    owner_of,
    owner_url,
)
from tests.search.corpus import add_document, make_tenant
from tests.support import PgDatabase

ANSI = re.compile(r"\x1b\[[0-9;]*m")
# `serve` runs until stopped and prints one line; it has no result to give as JSON.
WITHOUT_JSON = {"serve"}


def _run(db: PgDatabase, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The installed command in a child process, on an 80-column terminal by default."""
    return subprocess.run(
        [sys.executable, "-m", "advisoros_db.cli.app", *args],
        env={
            **os.environ,
            "ADVISOROS_DATABASE_URL": db.admin_url,
            "ADVISOROS_APP_DATABASE_URL": db.app_url,
            "COLUMNS": "80",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _lines(output: str) -> list[str]:
    return ANSI.sub("", output).splitlines()


def test_search_ids_stay_whole_at_80_columns_and_matches_are_styled(db: PgDatabase) -> None:
    tenant = make_tenant(db.admin_url, "Narrow Terminal CPA")
    for doc in DOCUMENTS[:3]:
        add_document(db.admin_url, tenant, doc)
    query = ["search", "text", "wage tax statement", "--org", str(tenant.org)]
    found = _run(db, *query, "--json")
    assert found.returncode == 0, found.stderr
    ids = [hit["document_id"] for hit in json.loads(found.stdout)["results"]]
    assert len(ids) >= 2
    shown = _run(db, *query, FORCE_COLOR="1")
    assert shown.returncode == 0, shown.stderr
    lines = _lines(shown.stdout)
    for document_id in ids:
        assert any(document_id in line for line in lines), (document_id, shown.stdout)
    assert max(len(line) for line in lines) <= 80
    assert "<mark>" not in shown.stdout and "</mark>" not in shown.stdout
    assert "\x1b[1;7m" in shown.stdout, "the matched words are bold reverse"


def test_partition_names_stay_whole_at_80_columns(db: PgDatabase) -> None:
    listed = _run(db, "partitions", "stats", "--json")
    assert listed.returncode == 0, listed.stderr
    names = [row["partition_name"] for row in json.loads(listed.stdout)]
    assert names
    shown = _run(db, "partitions", "stats")
    assert shown.returncode == 0, shown.stderr
    lines = _lines(shown.stdout)
    for name in names:
        assert any(name in line for line in lines), (name, shown.stdout)
    assert max(len(line) for line in lines) <= 80
    assert "None" not in shown.stdout


def test_a_missing_value_is_blank_and_a_snippet_is_not_markup() -> None:
    rows = [
        {
            "document_id": "d1",
            "file_name": None,
            "score": 0.5,
            "snippet": "[red]x[/] <mark>1099</mark>",
        }
    ]
    with console.capture() as captured:
        search._print(rows, False, ["document_id", "file_name", "score", "snippet"])
    text = captured.get()
    assert "None" not in text and "d1" in text
    assert "[red]x[/] 1099" in text, "document text is shown as written, not read as markup"


def _leaves(group: Any, path: tuple[str, ...] = ()) -> list[tuple[str, Any]]:
    found = []
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            found.append((" ".join((*path, name)), cmd))  # a group's own callback may run
            found += _leaves(cmd, (*path, name))
        else:
            found.append((" ".join((*path, name)), cmd))
    return found


def test_every_command_takes_json() -> None:
    leaves = _leaves(typer.main.get_command(app))
    assert len(leaves) > 30
    missing = [
        name
        for name, cmd in leaves
        if not any("--json" in p.opts for p in cmd.params)
        and name not in WITHOUT_JSON
        and not (hasattr(cmd, "commands") and not cmd.invoke_without_command)
    ]
    assert missing == []


def test_migrate_and_rollback_print_json(db: PgDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADVISOROS_DATABASE_URL", db.admin_url)
    head = migrations.current(db.admin_url)
    runner = CliRunner()
    back = runner.invoke(app, ["rollback", "--steps", "1", "--json"])
    assert back.exit_code == 0, back.output
    down = json.loads(back.stdout)
    assert down["before"] == head and down["revision"] == migrations.current(db.admin_url) != head
    again = runner.invoke(app, ["migrate", "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout) == {
        "action": "upgrade",
        "target": "head",
        "before": down["revision"],
        "revision": head,
    }
    script = runner.invoke(app, ["migrate", "--sql", "--to", head or "head", "--json"])
    assert script.exit_code == 0 and "CREATE TABLE" in json.loads(script.stdout)["sql"]


def test_down_prints_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["down", "--json"], env={"ADVISOROS_HOME": str(tmp_path / "home")}
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "home": str(tmp_path / "home"),
        "stopped": True,
        "destroyed": False,
    }


def test_errors_are_json_on_stderr_with_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DATABASE_URL", "APP_DATABASE_URL"):
        monkeypatch.delenv(f"ADVISOROS_{name}", raising=False)
    env = {"ADVISOROS_HOME": str(tmp_path / "home")}
    runner = CliRunner()
    failed = runner.invoke(app, ["current", "--json"], env=env)
    assert failed.exit_code == 1 and failed.stdout == ""
    error = json.loads(failed.stderr)
    assert error["exit_code"] == 1 and error["kind"] == "NoDatabaseConfigured"
    assert "advisoros-db up" in error["error"]
    usage = runner.invoke(app, ["rollback", "--json"], env=env)
    assert usage.exit_code == 2 and usage.stdout == ""
    assert json.loads(usage.stderr) == {
        "error": "give exactly one of --to REV or --steps N",
        "kind": "usage",
        "exit_code": 2,
    }
    plain = runner.invoke(app, ["current"], env=env)
    assert plain.exit_code == 1 and plain.stderr.startswith("error: no database configured")


def test_alembic_warnings_reach_the_user_as_json_lines(db: PgDatabase, owner_url: str) -> None:  # noqa: F811
    migrations.downgrade(db.admin_url, BEFORE)
    hand_over(db, owner_of(owner_url))
    # 0010 warns a migrating role without BYPASSRLS that document search cannot use its index.
    env = {"ADVISOROS_DATABASE_URL": owner_url}
    result = CliRunner().invoke(app, ["--log-format", "json", "migrate", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["revision"] == migrations.current(db.admin_url)
    records = [json.loads(line) for line in result.stderr.splitlines()]
    assert records, "no log record reached stderr"
    warning = next(r for r in records if "BYPASSRLS" in r["message"])
    assert warning["level"] == "WARNING" and warning["logger"] == "alembic.runtime.migration"
    assert dt.datetime.fromisoformat(warning["time"]).tzinfo is not None
    assert {r["level"] for r in records} <= {"WARNING", "ERROR", "CRITICAL"}, "INFO needs -v"


def test_verbose_logs_each_revision_and_quiet_logs_none(
    db: PgDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADVISOROS_DATABASE_URL", db.admin_url)
    runner = CliRunner()
    assert runner.invoke(app, ["-q", "rollback", "--steps", "1"]).exit_code == 0
    loud = runner.invoke(app, ["--verbose", "migrate"])
    assert loud.exit_code == 0, loud.output
    running = [line for line in loud.stderr.splitlines() if "Running upgrade" in line]
    assert len(running) == 1 and " INFO alembic.runtime.migration: " in running[0]
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", running[0]), running[0]
    assert runner.invoke(app, ["-q", "rollback", "--steps", "1"]).exit_code == 0
    quiet = runner.invoke(app, ["--quiet", "migrate"])
    assert quiet.exit_code == 0 and quiet.stderr == ""
    assert quiet.stdout.startswith("database at ")
    both = runner.invoke(app, ["-q", "-v", "current"])
    assert both.exit_code == 2 and "not both" in both.output
